/**
 * Class 7 of issue 26, on the built trainer as a child process: a local output or dataset path that is a
 * special file exits 2 at once naming the field (it used to spin at 100 % CPU under /proc, deaf to SIGTERM),
 * and a trainer stuck in I/O still exits 143 within its grace period after SIGTERM.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { buildTrainer, spawnTrainer } from "./trainer-process";

jest.setTimeout(180_000);

let tmp: string;
beforeAll(() => {
  buildTrainer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-stuck-"));
  fs.writeFileSync(path.join(tmp, "data.csv"), "x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n");
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const spec = (dataset: string, output: string) =>
  YAML.stringify({
    dataset: { uri: dataset, target: "y" },
    task: "regression",
    training: { epochs: 2, batchSize: 2 },
    output: { uri: output },
  });

test.each([
  [
    "an output under /proc",
    () => spec(path.join(tmp, "data.csv"), "/proc/kiln-runs"),
    /output\.uri: \/proc\/kiln-runs is under \/proc, a kernel file system/,
  ],
  [
    "a dataset that is a FIFO",
    () => {
      const fifo = path.join(tmp, "data.fifo");
      if (!fs.existsSync(fifo)) execFileSync("mkfifo", [fifo]);
      return spec(fifo, path.join(tmp, "out"));
    },
    /dataset\.uri: .*data\.fifo is a FIFO/,
  ],
  [
    "a dataset that is a device",
    () => spec("/dev/zero", path.join(tmp, "out")),
    /dataset\.uri: \/dev\/zero is under \/dev, a kernel file system/,
  ],
  [
    "an output that is a file",
    () => spec(path.join(tmp, "data.csv"), path.join(tmp, "data.csv")),
    /output\.uri: .*data\.csv is a file; a directory is meant/,
  ],
])("%s exits 2 at once, naming the field", async (_, makeSpec, message) => {
  const t0 = Date.now();
  const t = spawnTrainer({ KILN_RUN_SPEC: makeSpec(), KILN_RUN_ID: "paths", KILN_BACKEND: "cpu" });
  expect(await t.exited).toBe(2);
  expect(t.stderr()).toMatch(message);
  expect(Date.now() - t0).toBeLessThan(30_000);
});

test("a trainer stuck on a store that never answers exits 143 within its grace period after SIGTERM", async () => {
  // Accepts connections and never answers: the dataset read waits on its socket (timeout 10 min here).
  const sockets: net.Socket[] = [];
  const blackHole = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => blackHole.listen(0, "127.0.0.1", r));
  const port = (blackHole.address() as net.AddressInfo).port;
  try {
    const t = spawnTrainer({
      KILN_RUN_SPEC: spec("s3://datasets/stuck.csv", path.join(tmp, "out")),
      KILN_RUN_ID: "stuck",
      KILN_BACKEND: "cpu",
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      KILN_S3_SOCKET_TIMEOUT_SECONDS: "600",
      KILN_STOP_GRACE_SECONDS: "3",
    });
    await t.waitFor((l) => l.event === "backend");
    // Until the trainer's first request reaches the black hole, it is not stuck yet.
    for (let i = 0; i < 200 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(sockets.length).toBeGreaterThan(0);
    const sent = Date.now();
    t.proc.kill("SIGTERM");
    const code = await t.exited;
    const seconds = (Date.now() - sent) / 1000;
    console.log(`stuck trainer: exited ${code} ${seconds.toFixed(1)} s after SIGTERM (grace 3 s)`);
    expect(code).toBe(143);
    expect(seconds).toBeGreaterThanOrEqual(2.5);
    expect(seconds).toBeLessThan(10);
    expect(t.lines).toContainEqual(
      expect.objectContaining({
        event: "signal",
        action: expect.stringContaining("exiting without a final checkpoint"),
      }),
    );
  } finally {
    for (const s of sockets) s.destroy();
    blackHole.close();
  }
});
