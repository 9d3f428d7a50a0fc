/**
 * The built trainer (dist/main.js) as a child process against a real MinIO: kill-and-resume
 * equivalence, SIGTERM checkpoints, bad specs, a store outage mid-run, and sweep members.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import YAML from "yaml";
import { trainerError } from "../../contract/log-protocol";
import { autoMpgCsv } from "../../datasets/auto-mpg";
import { irisCsv } from "../../datasets/iris";
import { MinioServer } from "../support/minio";
import { describeIf } from "../support/skips";
import { tensorflowMissing, testBackends } from "./backends";
import { buildTrainer, epochAtLeast, spawnTrainer } from "./trainer-process";

jest.setTimeout(240_000);

let minio: MinioServer;
let s3: S3Client;

beforeAll(async () => {
  buildTrainer();
  minio = await MinioServer.start(["datasets", "artifacts"]);
  s3 = minio.client();
  await s3.send(new PutObjectCommand({ Bucket: "datasets", Key: "auto-mpg/auto-mpg.csv", Body: autoMpgCsv() }));
  await s3.send(new PutObjectCommand({ Bucket: "datasets", Key: "iris/iris.csv", Body: irisCsv() }));
});

afterAll(async () => {
  s3?.destroy();
  await minio?.destroy();
});

const get = async (key: string) =>
  Buffer.from(
    await (await s3.send(new GetObjectCommand({ Bucket: "artifacts", Key: key }))).Body!.transformToByteArray(),
  );
const getJson = async (key: string) => JSON.parse((await get(key)).toString("utf8"));
const keys = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: "artifacts", Prefix: prefix }))).Contents ?? []).map(
    (o) => o.Key!,
  );
const weights = async (runId: string) =>
  Array.from(new Float32Array(new Uint8Array(await get(`runs/${runId}/model/weights.bin`)).buffer));

const mpgSpec = (epochs: number, extra: Record<string, unknown> = {}) =>
  YAML.stringify({
    dataset: {
      uri: "s3://datasets/auto-mpg/auto-mpg.csv",
      target: "Miles_per_Gallon",
      drop: ["Name"],
      categorical: ["Origin"],
    },
    task: "regression",
    split: { test: 0.2, validation: 0.2, seed: 11 },
    model: {
      layers: [
        { units: 32, activation: "relu" },
        { units: 32, activation: "relu" },
      ],
      init: "heNormal",
    },
    training: {
      optimizer: { name: "adam", learningRate: 0.005 },
      epochs,
      batchSize: 16,
      earlyStopping: { patience: 1000 },
      seed: 7,
      checkpointEvery: 1,
    },
    output: { uri: "s3://artifacts/runs" },
    ...extra,
  });

const trainerEnv = (extra: Record<string, string>) => ({ ...minio.env(), KILN_STORE_RETRY_SECONDS: "120", ...extra });

async function runToEnd(env: Record<string, string>, args: string[] = []) {
  const t = spawnTrainer(env, args);
  const code = await t.exited;
  if (code !== 0) throw new Error(`trainer exited ${code}:\n${t.stderr()}`);
  return t;
}

/** The uninterrupted reference run per backend (run once, shared by the resume tests). */
const references = new Map<string, Promise<number>>();
function reference(backend: string): Promise<number> {
  if (!references.has(backend)) {
    const t0 = Date.now();
    references.set(
      backend,
      runToEnd(trainerEnv({ KILN_RUN_SPEC: mpgSpec(20), KILN_RUN_ID: `ref-${backend}`, KILN_BACKEND: backend })).then(
        () => (Date.now() - t0) / 1000,
      ),
    );
  }
  return references.get(backend)!;
}

// The CUDA build of TensorFlow (trainer-image/native/install.sh gpu) runs here without a GPU: it must load,
// train on the CPU and say so, not fail or claim a GPU.
const gpuBuild = tensorflowMissing("gpu");
describeIf({
  what: "the tensorflow-gpu backend test",
  missing: gpuBuild,
  enable: "bash trainer-image/native/install.sh gpu",
})("tfjs-node-gpu (CUDA 12 TensorFlow) on a machine without a GPU", () => {
  test("loads, trains on the CPU, and the startup line says there is no GPU", async () => {
    const t = await runToEnd(
      trainerEnv({ KILN_RUN_SPEC: mpgSpec(2), KILN_RUN_ID: "gpu-build-on-cpu", KILN_BACKEND: "tensorflow-gpu" }),
    );
    expect(t.lines.find((l) => l.event === "backend")).toMatchObject({
      backend: "tensorflow-gpu",
      tfBackend: "tensorflow",
      gpuDevice: false,
      device: expect.stringMatching(/^CPU: tfjs-node-gpu loaded/),
    });
    expect((await getJson("runs/gpu-build-on-cpu/metrics.json")).backend).toBe("tensorflow-gpu");
  });
});

describe("kill and resume", () => {
  test.each(testBackends())(
    "SIGKILL mid-run, restart: same final weights as an uninterrupted run (%s)",
    async (backend) => {
      const spec = mpgSpec(20);
      const refSeconds = await reference(backend);

      const env = trainerEnv({ KILN_RUN_SPEC: spec, KILN_RUN_ID: `kill-${backend}`, KILN_BACKEND: backend });
      const first = spawnTrainer(env);
      await first.waitFor(epochAtLeast(7));
      first.proc.kill("SIGKILL");
      await first.exited;
      const interrupted = await getJson(`runs/kill-${backend}/run.json`);
      expect(interrupted).toMatchObject({ status: "running", attempts: 1 });

      const second = await runToEnd(env);
      const resumed = second.lines.find((l) => l.event === "resume");
      expect(resumed).toMatchObject({ attempt: 2 });
      // Epoch 7's line is printed before its checkpoint is written, so the kill can land on either side.
      expect(resumed!.epoch as number).toBeGreaterThanOrEqual(6);
      expect(resumed!.epoch as number).toBeLessThan(20);
      expect(second.lines.filter(epochAtLeast(1))[0].epoch).toBe((resumed!.epoch as number) + 1);
      expect(await getJson(`runs/kill-${backend}/run.json`)).toMatchObject({ status: "succeeded", attempts: 2 });

      const ref = await weights(`ref-${backend}`);
      const got = await weights(`kill-${backend}`);
      expect(got.length).toBe(ref.length);
      expect(got).toEqual(ref); // element-wise, exact
      const [a, b] = [
        await getJson(`runs/ref-${backend}/metrics.json`),
        await getJson(`runs/kill-${backend}/metrics.json`),
      ];
      expect(b.test).toEqual(a.test);
      expect(b.history.map((h: { val_loss: number }) => h.val_loss)).toEqual(
        a.history.map((h: { val_loss: number }) => h.val_loss),
      );
      console.log(
        `${backend}: uninterrupted run ${refSeconds.toFixed(1)} s, killed at epoch ${resumed!.epoch}, resumed to the same ${ref.length} weights`,
      );
    },
  );

  test("SIGTERM checkpoints (mid-epoch too), exits 143, and the restart ends with the same weights", async () => {
    const spec = mpgSpec(20);
    const env = trainerEnv({ KILN_RUN_SPEC: spec, KILN_RUN_ID: "term-wasm", KILN_BACKEND: "wasm" });
    const first = spawnTrainer(env);
    await first.waitFor(epochAtLeast(5));
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(143);
    const stop = first.lines.find((l) => l.event === "interrupted");
    expect(stop).toBeDefined();
    const manifest = await getJson("runs/term-wasm/checkpoints/latest.json");
    expect({ epoch: manifest.state.epoch, batch: manifest.state.batch }).toEqual({
      epoch: stop!.epoch,
      batch: stop!.batch,
    });
    expect(await getJson("runs/term-wasm/run.json")).toMatchObject({
      status: "running",
      attempts: 1,
      interruptedAt: expect.any(String),
    });

    console.log(`SIGTERM landed at epoch ${stop!.epoch}, batch ${stop!.batch} (batch 0 = at an epoch boundary)`);
    const second = await runToEnd(env);
    expect(second.lines.find((l) => l.event === "resume")).toMatchObject({ epoch: stop!.epoch, batch: stop!.batch });
    await reference("wasm");
    expect(await weights("term-wasm")).toEqual(await weights("ref-wasm"));
  });
});

// KILN_TEST_OUTAGE_SECONDS=60 proves the "down for a minute" case (default 8 s keeps the suite quick).
const OUTAGE_SECONDS = Number(process.env.KILN_TEST_OUTAGE_SECONDS ?? 8);

describe("store outage", () => {
  test(`MinIO stopped for ${OUTAGE_SECONDS} s mid-run and restarted on the same port: the run still succeeds`, async () => {
    const t = spawnTrainer(trainerEnv({ KILN_RUN_SPEC: mpgSpec(30), KILN_RUN_ID: "outage", KILN_BACKEND: "wasm" }));
    await t.waitFor(epochAtLeast(3));
    const down = Date.now();
    await minio.stop();
    const linesAtStop = t.lines.length;
    await new Promise((r) => setTimeout(r, OUTAGE_SECONDS * 1000));
    // Training blocks on its next checkpoint write while the store is down.
    expect(t.lines.filter(epochAtLeast(1)).length).toBeLessThanOrEqual(linesAtStop + 1);
    await minio.resume();
    const code = await t.exited;
    expect({ code, stderr: t.stderr() }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(Date.now() - down).toBeGreaterThanOrEqual(OUTAGE_SECONDS * 1000);
    console.log(
      `store outage: down ${OUTAGE_SECONDS} s, run finished ${((Date.now() - down) / 1000).toFixed(1)} s after the stop`,
    );
    expect(await getJson("runs/outage/run.json")).toMatchObject({ status: "succeeded", attempts: 1 });
    expect((await getJson("runs/outage/metrics.json")).history).toHaveLength(30);
    expect(
      t.lines.some((l) => l.event === "store-error" && /ECONNREFUSED|ECONNRESET|socket hang up/.test(String(l.error))),
    ).toBe(true);
  });

  test("a frozen store (connections hang) is detected by the socket timeout and retried", async () => {
    const t = spawnTrainer(
      trainerEnv({
        KILN_RUN_SPEC: mpgSpec(15),
        KILN_RUN_ID: "frozen",
        KILN_BACKEND: "wasm",
        KILN_S3_SOCKET_TIMEOUT_SECONDS: "2",
      }),
    );
    await t.waitFor(epochAtLeast(3));
    minio.freeze();
    await new Promise((r) => setTimeout(r, 7000));
    minio.thaw();
    const code = await t.exited;
    expect({ code, stderr: t.stderr() }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(await getJson("runs/frozen/run.json")).toMatchObject({ status: "succeeded", attempts: 1 });
    // The hung request failed on the socket timeout and was retried (without the timeout it would just wait).
    const errors = t.lines.filter((l) => l.event === "store-error").map((l) => String(l.error));
    expect(errors.some((e) => /timed? ?out/i.test(e))).toBe(true);
  });
});

describe("bad specs and usage", () => {
  test("an invalid spec exits 2, names every problem, and writes nothing", async () => {
    const spec = YAML.stringify({
      runId: "BAD",
      dataset: { uri: "s3://datasets/auto-mpg/auto-mpg.csv" },
      task: "regresion",
      training: { epochs: -3, optimizer: { name: "adam", learningRate: 0 } },
      output: { uri: "s3://artifacts/badspec" },
    });
    const t = spawnTrainer(trainerEnv({ KILN_RUN_SPEC: spec, KILN_BACKEND: "wasm" }));
    expect(await t.exited).toBe(2);
    const err = t.stderr();
    for (const field of ["runId:", "dataset.target:", "task:", "training.epochs:", "training.optimizer.learningRate:"])
      expect(err).toContain(field);
    expect(err).toContain('(got "regresion")');
    expect(await keys("badspec/")).toEqual([]);
  });

  test("a run that diverges exits 3 (the chart fails the Job at once), says why, and records failed in run.json", async () => {
    const spec = YAML.stringify({
      runId: "diverges",
      dataset: {
        uri: "s3://datasets/auto-mpg/auto-mpg.csv",
        target: "Miles_per_Gallon",
        drop: ["Name"],
        categorical: ["Origin"],
      },
      task: "regression",
      preprocess: { missing: "drop", scale: "none" },
      model: { layers: [{ units: 16, activation: "relu" }] },
      training: { epochs: 40, optimizer: { name: "sgd", learningRate: 10 } },
      output: { uri: "s3://artifacts/diverge" },
    });
    const t = spawnTrainer(trainerEnv({ KILN_RUN_SPEC: spec, KILN_BACKEND: "cpu" }));
    expect(await t.exited).toBe(3);
    expect(t.stderr()).toMatch(
      /kiln-trainer: diverged: training diverged at epoch \d+: \w+ is (NaN|not finite); lower training\.optimizer\.learningRate/,
    );
    // The failure line is the log protocol's: the dashboard's parser (contract/log-protocol.ts) reads it.
    expect(
      t
        .stderr()
        .split("\n")
        .map(trainerError)
        .find((m) => m !== undefined),
    ).toMatch(/^diverged: training diverged/);
    const record = JSON.parse((await get("diverge/diverges/run.json")).toString());
    expect(record).toMatchObject({ status: "failed", error: expect.stringMatching(/^training diverged at epoch/) });
  });

  test("no spec and an unreadable --spec are usage errors (exit 2)", async () => {
    const none = spawnTrainer(trainerEnv({}));
    expect(await none.exited).toBe(2);
    expect(none.stderr()).toMatch(/no run spec: pass --spec .* or set KILN_RUN_SPEC/);
    const missing = spawnTrainer(trainerEnv({}), ["--spec", "s3://datasets/specs/nope.yaml"]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/--spec s3:\/\/datasets\/specs\/nope\.yaml: cannot read it/);
  });
});

describe("sweeps", () => {
  test("a sweep member applies KILN_SWEEP_OVERRIDES[JOB_COMPLETION_INDEX] and writes <runId>-<index>", async () => {
    const spec = YAML.stringify({
      dataset: { uri: "s3://datasets/iris/iris.csv", target: "species" },
      task: "multiclass",
      model: { layers: [{ units: 8 }] },
      training: { epochs: 3, batchSize: 16 },
      output: { uri: "s3://artifacts/runs" },
    });
    await s3.send(new PutObjectCommand({ Bucket: "datasets", Key: "specs/sweep.yaml", Body: spec }));
    const overrides = [
      { "training.optimizer.learningRate": 0.01 },
      { "training.optimizer.learningRate": 0.05, "training.batchSize": 8 },
    ];
    const t = await runToEnd(
      trainerEnv({
        KILN_RUN_ID: "sweep",
        KILN_SWEEP_OVERRIDES: JSON.stringify(overrides),
        JOB_COMPLETION_INDEX: "1",
        KILN_BACKEND: "wasm",
      }),
      ["--spec", "s3://datasets/specs/sweep.yaml"],
    );
    expect(t.lines.find((l) => l.event === "start")).toMatchObject({ runId: "sweep-1" });
    const run = await getJson("runs/sweep-1/run.json");
    expect(run.spec.training.optimizer.learningRate).toBe(0.05);
    expect(run.spec.training.batchSize).toBe(8);
    expect(await keys("runs/sweep-0/")).toEqual([]);
  });
});
