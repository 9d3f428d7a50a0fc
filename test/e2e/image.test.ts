/**
 * The trainer image built by `npm run image:build` from trainer-image/Dockerfile, run with podman the way
 * a kubelet would run it (its own entrypoint, uid 10001, read-only root, /tmp writable): `--help` works
 * and a short real training run on Auto MPG writes its model, metrics and report, on the wasm backend
 * (variant none) and on the native TensorFlow backend built from the PyPI wheel (variant cpu).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { autoMpgCsv } from "../../datasets/auto-mpg";
import { must, ROOT, sh } from "./harness";

jest.setTimeout(30 * 60_000);

/** podman on Kiln's own image store (scripts/image/podman.sh). */
const podman = (args: string[], timeoutMs = 300_000) =>
  sh(path.join(ROOT, "scripts/image/podman.sh"), args, { timeoutMs });

/** Builds (a no-op when up to date with its inputs) and returns the image reference. */
async function build(variant: "none" | "cpu"): Promise<string> {
  const out = await must("bash", [path.join(ROOT, "scripts/image/build.sh"), "--variant", variant], {
    timeoutMs: 1_800_000,
  });
  return out.trim().split("\n").pop()!;
}

/** A 5-epoch Auto MPG run inside the image; returns its JSON log lines and the run's output dir. */
async function trainIn(image: string): Promise<{ lines: any[]; run: string }> {
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
    "run",
    "--rm",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--cap-drop",
    "ALL",
    "-v",
    `${dir}/data:/data:ro`,
    "-v",
    `${dir}/out:/out`,
    "-e",
    `KILN_RUN_SPEC=${JSON.stringify(spec)}`,
    image,
  ]);
  if (r.code !== 0) throw new Error(`podman run exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return {
    lines: r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l)),
    run: path.join(dir, "out", "image-smoke"),
  };
}

describe("the trainer image", () => {
  let image = "";
  beforeAll(async () => {
    image = await build("none");
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

  it("trains Auto MPG as uid 10001 on a read-only root (wasm backend) and writes model, metrics and report", async () => {
    const { lines, run } = await trainIn(image);
    expect(lines.find((l) => l.event === "backend")).toMatchObject({
      backend: "wasm",
      device: expect.stringMatching(/^CPU/),
    });
    expect(lines.find((l) => l.event === "done")).toMatchObject({ outcome: "completed", epochs: 5 });
    for (const f of ["model/model.json", "model/weights.bin", "metrics.json", "report.html", "run.json"])
      expect(fs.existsSync(path.join(run, f))).toBe(true);
    expect(fs.statSync(path.join(run, "metrics.json")).uid).toBe(10001);
  });

  it("the cpu variant trains on the native TensorFlow backend (tfjs-node built against the PyPI wheel)", async () => {
    const cpu = await build("cpu");
    expect(cpu).toMatch(/-cpu$/);
    const { lines, run } = await trainIn(cpu);
    expect(lines.find((l) => l.event === "backend")).toMatchObject({ backend: "tensorflow", tfBackend: "tensorflow" });
    expect(lines.find((l) => l.event === "done")).toMatchObject({ outcome: "completed", epochs: 5 });
    expect(fs.existsSync(path.join(run, "model/weights.bin"))).toBe(true);
  });
});
