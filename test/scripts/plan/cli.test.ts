/** `npm run plan` / `npm run policy`: bad input exits 2 with the validator's message; policy over a plan file. */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../scripts/plan/cli";
import { emptyPlan } from "../../../scripts/plan/diff";
import type { PlanResource } from "../../../scripts/plan/evaluate";
import { BREAKS, compliantWorld, type World } from "../../policy/fixtures";

const ROOT = path.resolve(__dirname, "../../..");
let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  jest.spyOn(process.stdout, "write").mockImplementation((s) => {
    out.push(String(s));
    return true;
  });
  jest.spyOn(process.stderr, "write").mockImplementation((s) => {
    err.push(String(s));
    return true;
  });
});
afterEach(() => jest.restoreAllMocks());

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-plan-cli-"));

function planFile(w: World): string {
  const resources: PlanResource[] = w.subjects().map((s) => ({
    urn: s.urn,
    type: s.type,
    name: s.name,
    dependencies: s.dependencies,
    custom: true,
    inputs: s.props,
  }));
  const file = path.join(tmp, `plan-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...emptyPlan("fixture"), resources }));
  return file;
}

describe("bad input exits 2 with a message naming the problem", () => {
  test("unknown stack", async () => {
    expect(await main(["plan", "--stack", "nope"])).toBe(2);
    expect(err.join("")).toContain("unknown stack 'nope'");
  });

  test("invalid config: the config validator's message, every problem listed", async () => {
    expect(await main(["plan", "--stack", "dev", "--set", "azCount=1", "--set", "vpcCidr=10.0.0.1/30"])).toBe(2);
    const msg = err.join("");
    expect(msg).toContain("Invalid stack config (2 problems)");
    expect(msg).toContain("kiln:azCount: must be >= 2");
    expect(msg).toContain("kiln:vpcCidr: '10.0.0.1/30' has host bits set: the network is 10.0.0.0/30");
  });

  test("--against a file that is not a plan", async () => {
    const f = path.join(tmp, "not-a-plan.json");
    fs.writeFileSync(f, '{"hello": 1}');
    expect(await main(["plan", "--stack", "dev", "--against", f])).toBe(2);
    expect(err.join("")).toContain("is not a Kiln plan");
    expect(await main(["plan", "--stack", "dev", "--against", path.join(tmp, "missing.json")])).toBe(2);
  });

  test("--set with a key that is not a declared config key is refused, not ignored", async () => {
    for (const [key, says] of [
      ["azcount", "unknown key: did you mean kiln:azCount?"],
      ["kiln:gpuPools[0].maxGpus", "unknown key: did you mean kiln:gpuPools?"],
      ["KILN:azCount", "config keys are case-sensitive and its namespace is 'kiln': did you mean kiln:azCount?"],
      ["kiln:azCount:junk", "has extra segments after the key: write kiln:azCount"],
      ["aws:regoin", "is not a config key of this project"],
      ["foo:bar", "is not a config key of this project"],
    ]) {
      err.length = 0;
      expect(await main(["plan", "--stack", "dev", "--set", `${key}=1`])).toBe(2);
      expect(err.join("")).toContain(says);
    }
    err.length = 0;
    expect(
      await main(["plan", "--stack", "dev", "--set", "aws:region=eu-west-1", "--out", path.join(tmp, "eu.json")]),
    ).toBe(0);
  }, 120_000);

  test("path flags are checked by the one local-path helper before anything runs: /proc, a directory, a FIFO", async () => {
    const fifo = path.join(tmp, "base.fifo");
    execFileSync("mkfifo", [fifo]);
    for (const [args, says] of [
      [["--out", "/proc/kiln/plan.json"], "--out /proc/kiln/plan.json: is under /proc, a kernel file system"],
      [["--out", tmp], `--out ${tmp}: is a directory; a file is meant (e.g. ${path.join(tmp, "plan.json")})`],
      [["--out", path.join(tmp, "p.json"), "--md", "/dev/null"], "--md /dev/null: is under /dev, a kernel file system"],
      [["--out", path.join(tmp, "p.json"), "--against", fifo], `--against ${fifo}: is a FIFO`],
    ]) {
      err.length = 0;
      const t0 = Date.now();
      expect(await main(["plan", "--stack", "dev", ...args])).toBe(2);
      expect(err.join("")).toContain(says);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
    err.length = 0;
    expect(await main(["policy", "--plan", "/proc/self/status"])).toBe(2);
    expect(err.join("")).toContain("--plan /proc/self/status: is under /proc");
  });

  test("policy without --stack or --plan, and a malformed --set", async () => {
    expect(await main(["policy"])).toBe(2);
    expect(await main(["plan", "--stack", "dev", "--set", "novalue"])).toBe(2);
    expect(err.join("")).toContain("expected key=value");
  });

  test("the real npm script exits 2 on an unknown stack", () => {
    const r = spawnSync(
      "npm",
      ["run", "--silent", "plan", "--", "--stack", "nope", "--out", path.join(tmp, "x.json")],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown stack 'nope'");
  }, 60_000);
});

describe("npm run policy -- --plan plan.json", () => {
  test("a compliant plan passes (exit 0)", async () => {
    expect(await main(["policy", "--plan", planFile(compliantWorld())])).toBe(0);
    expect(out.join("")).toMatch(/passes all \d+ rules/);
  });

  test("a violating plan fails (exit 1) naming the rule; --json is machine-readable", async () => {
    const w = compliantWorld();
    BREAKS["gpu-nodepool-limit"](w);
    const f = planFile(w);
    expect(await main(["policy", "--plan", f])).toBe(1);
    expect(out.join("")).toContain("[gpu-nodepool-limit]");
    out.length = 0;
    expect(await main(["policy", "--plan", f, "--json"])).toBe(1);
    const doc = JSON.parse(out.join(""));
    expect(doc.violations.map((v: { rule: string }) => v.rule)).toEqual(["gpu-nodepool-limit"]);
  });
});
