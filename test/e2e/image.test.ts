/**
 * The trainer image built by `npm run image:build` from trainer-image/Dockerfile, run with podman the way
 * a kubelet would run it (its own entrypoint, uid 10001, read-only root, /tmp writable): `--help` works
 * and a short real training run on Auto MPG writes its model, metrics and report.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { autoMpgCsv } from "../../scripts/datasets/auto-mpg";
import { must, ROOT, sh } from "./harness";

jest.setTimeout(30 * 60_000);

/** podman on Kiln's own image store (scripts/image/podman.sh). */
const podman = (args: string[], timeoutMs = 300_000) => sh(path.join(ROOT, "scripts/image/podman.sh"), args, { timeoutMs });

describe("the trainer image", () => {
  let image = "";
  beforeAll(async () => {
    // A no-op when the image is up to date with its inputs.
    const out = await must("bash", [path.join(ROOT, "scripts/image/build.sh")], { timeoutMs: 1_800_000 });
    image = out.trim().split("\n").pop()!;
  });

  it("is labelled with the hash of its inputs, and a second build is a no-op", async () => {
    const label = await podman(["image", "inspect", "--format", '{{index .Labels "dev.kiln.inputs"}}', image]);
    expect(label.stdout.trim()).toMatch(/^[0-9a-f]{16}$/);
    const again = await sh("bash", [path.join(ROOT, "scripts/image/build.sh")], { timeoutMs: 300_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("up to date");
    expect(again.stderr).not.toContain("podman build");
  });

  it("starts: its entrypoint prints the trainer's usage", async () => {
    const r = await podman(["run", "--rm", "--read-only", image, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: kiln-trainer");
    expect(r.stdout).toContain("train [options]");
  });

  it("trains Auto MPG as uid 10001 on a read-only root and writes model, metrics and report", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-image-"));
    fs.mkdirSync(path.join(dir, "data"));
    fs.mkdirSync(path.join(dir, "out"));
    fs.chmodSync(path.join(dir, "out"), 0o777);
    fs.writeFileSync(path.join(dir, "data", "auto-mpg.csv"), autoMpgCsv());
    const spec = {
      runId: "image-smoke",
      dataset: { uri: "/data/auto-mpg.csv", target: "Miles_per_Gallon", drop: ["Name"], categorical: ["Origin"] },
      task: "regression",
      training: { epochs: 5, seed: 1 },
      output: { uri: "/out" },
    };
    const r = await podman([
      "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
      "-v", `${dir}/data:/data:ro`, "-v", `${dir}/out:/out`, "-e", `KILN_RUN_SPEC=${JSON.stringify(spec)}`, image,
    ]);
    if (r.code !== 0) throw new Error(`podman run exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    expect(lines.find((l) => l.event === "backend")?.device).toMatch(/^CPU/);
    expect(lines.find((l) => l.event === "done")).toMatchObject({ outcome: "completed", epochs: 5 });
    const run = path.join(dir, "out", "image-smoke");
    for (const f of ["model/model.json", "model/weights.bin", "metrics.json", "report.html", "run.json"]) expect(fs.existsSync(path.join(run, f))).toBe(true);
    expect(fs.statSync(path.join(run, "metrics.json")).uid).toBe(10001);
  });
});
