/**
 * The krew release of the plugin: the archive holds one self-contained executable that kubectl finds
 * on PATH (real kubectl from the kube-tools package), and the manifest names that archive's sha256.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { packagePlugin } from "../../cli/krew/package";
import { VERSION } from "../../cli/src/main";

const ROOT = path.resolve(__dirname, "..", "..");
const out = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-krew-"));
const installed = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-krew-bin-"));
let pkg: ReturnType<typeof packagePlugin>;

beforeAll(() => {
  pkg = packagePlugin(out, "https://releases.example/kiln");
  execFileSync("tar", ["-xzf", pkg.archive, "-C", installed]);
}, 120_000);

afterAll(() => {
  fs.rmSync(out, { recursive: true, force: true });
  fs.rmSync(installed, { recursive: true, force: true });
});

test("the manifest is a krew Plugin whose platforms point at the archive with its sha256", () => {
  const m = YAML.parse(fs.readFileSync(pkg.manifest, "utf8"));
  expect(m).toMatchObject({
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: "kiln" },
  });
  expect(m.spec.version).toBe(`v${VERSION}`);
  const sha = createHash("sha256").update(fs.readFileSync(pkg.archive)).digest("hex");
  expect(m.spec.platforms.map((p: { selector: unknown }) => p.selector)).toEqual([
    { matchLabels: { os: "linux" } },
    { matchLabels: { os: "darwin" } },
  ]);
  for (const p of m.spec.platforms) {
    expect(p).toMatchObject({
      uri: `https://releases.example/kiln/v${VERSION}/kubectl-kiln-v${VERSION}.tar.gz`,
      sha256: sha,
      bin: "kubectl-kiln",
    });
    expect(p.files).toEqual([{ from: "kubectl-kiln", to: "." }]);
  }
});

test("packing twice gives the same archive (reproducible sha256)", () => {
  const again = packagePlugin(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-krew-")), "https://releases.example/kiln");
  expect(again.sha256).toBe(pkg.sha256);
}, 120_000);

test("the unpacked executable runs with no node_modules and kubectl finds it as `kubectl kiln`", () => {
  const bin = path.join(installed, "kubectl-kiln");
  expect(fs.statSync(bin).mode & 0o111).not.toBe(0);
  const kubectlDir = execFileSync("bash", [path.join(ROOT, "scripts/kube-tools.sh")], { encoding: "utf8" }).trim();
  // A working directory outside the repo: nothing can be resolved from the checkout's node_modules.
  const env = {
    ...process.env,
    PATH: `${installed}:${kubectlDir}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    NODE_PATH: "",
  };
  const r = spawnSync(path.join(kubectlDir, "kubectl"), ["kiln", "--version"], {
    encoding: "utf8",
    cwd: os.tmpdir(),
    env,
  });
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe(VERSION);
  const bad = spawnSync(path.join(kubectlDir, "kubectl"), ["kiln", "submit"], {
    encoding: "utf8",
    cwd: os.tmpdir(),
    env,
  });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--spec/);
}, 60_000);
