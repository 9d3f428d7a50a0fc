/**
 * Whole training runs in-process against a real MinIO: data and outputs in S3, wasm backend.
 * Durations are logged; the quality targets need real training.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { autoMpgCsv } from "../../datasets/auto-mpg";
import { irisBinaryCsv, irisCsv } from "../../datasets/iris";
import { DataError } from "../../trainer-image/src/data";
import { RunRefusedError, runTraining } from "../../trainer-image/src/run";
import { parseRunSpec, type RunSpec, type RunSpecInput } from "../../trainer-image/src/spec";
import { testBackends } from "./backends";
import { MinioServer } from "../support/minio";

jest.setTimeout(180_000);

let minio: MinioServer;
let s3: S3Client;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  minio = await MinioServer.start(["datasets", "artifacts"]);
  s3 = minio.client();
  env = { ...minio.env(), KILN_BACKEND: "wasm", KILN_STORE_RETRY_SECONDS: "5", KILN_S3_MAX_ATTEMPTS: "2" };
  const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: "datasets", Key, Body }));
  await put("auto-mpg/auto-mpg.csv", autoMpgCsv());
  await put("iris/iris.csv", irisCsv());
  await put("iris/iris-binary.csv", irisBinaryCsv());
  await put("bad/non-numeric.csv", "a,b,y\n1,2,3\n4,five,6\n");
  await put("bad/no-rows.csv", "a,y\n1,\n,\n");
});

afterAll(async () => {
  s3?.destroy();
  await minio?.destroy();
});

async function getJson(key: string): Promise<Record<string, any>> {
  const out = await s3.send(new GetObjectCommand({ Bucket: "artifacts", Key: key }));
  return JSON.parse(await out.Body!.transformToString());
}

async function keys(prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: "artifacts", Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function run(input: RunSpecInput, lines: Record<string, unknown>[] = [], backend = "wasm") {
  const spec = parseRunSpec(input) as RunSpec & { runId: string };
  const started = Date.now();
  const result = await runTraining(spec, { env: { ...env, KILN_BACKEND: backend }, log: (l) => lines.push(l) });
  console.log(
    `${spec.runId}: ${((Date.now() - started) / 1000).toFixed(1)} s, test ${JSON.stringify(result.metrics?.test)}`,
  );
  return result;
}

const MLP = {
  layers: [
    { units: 64, activation: "relu" as const },
    { units: 64, activation: "relu" as const },
  ],
  init: "glorotUniform" as const,
};

describe("training runs against MinIO", () => {
  // wasm first: the next test reuses its finished run "mpg-001".
  test.each(["wasm", ...testBackends().filter((b) => b !== "wasm")])(
    "Auto MPG regression with the 64-64-1 net reaches test MAE <= 2.6 MPG and writes every output (%s)",
    async (backend) => {
      const id = backend === "wasm" ? "mpg-001" : `mpg-${backend}`;
      const lines: Record<string, unknown>[] = [];
      const result = await run(
        {
          runId: id,
          dataset: {
            uri: "s3://datasets/auto-mpg/auto-mpg.csv",
            target: "Miles_per_Gallon",
            drop: ["Name"],
            categorical: ["Origin"],
          },
          task: "regression",
          model: MLP,
          training: {
            loss: "mse",
            optimizer: { name: "adam", learningRate: 0.01 },
            epochs: 150,
            batchSize: 32,
            earlyStopping: { patience: 15 },
            checkpointEvery: 5,
          },
          output: { uri: "s3://artifacts/runs" },
        },
        lines,
        backend,
      );
      expect(result.status).toBe("succeeded");
      const metrics = await getJson(`runs/${id}/metrics.json`);
      expect(metrics.task).toBe("regression");
      expect(metrics.test.mae).toBeLessThanOrEqual(2.6);
      expect(metrics.test.rmse).toBeCloseTo(Math.sqrt(metrics.test.mse), 10);
      expect(metrics.backend).toBe(backend);
      expect(metrics.samplesPerSecond).toBeGreaterThan(0);
      expect(metrics.rows).toMatchObject({ read: 406, dropped: 14 });
      expect(await keys(`runs/${id}/`)).toEqual(
        expect.arrayContaining([
          `runs/${id}/checkpoints/latest.json`,
          `runs/${id}/metrics.json`,
          `runs/${id}/model/model.json`,
          `runs/${id}/model/weights.bin`,
          `runs/${id}/preprocess.json`,
          `runs/${id}/report.html`,
          `runs/${id}/run.json`,
        ]),
      );
      const runJson = await getJson(`runs/${id}/run.json`);
      expect(runJson).toMatchObject({ runId: id, status: "succeeded", attempts: 1 });
      expect(Date.parse(runJson.endedAt)).toBeGreaterThanOrEqual(Date.parse(runJson.startedAt));
      const pre = await getJson(`runs/${id}/preprocess.json`);
      expect(pre.inputs).toEqual([
        "Cylinders",
        "Displacement",
        "Horsepower",
        "Weight_in_lbs",
        "Acceleration",
        "Year",
        "Origin=Europe",
        "Origin=Japan",
        "Origin=USA",
      ]);
      // One JSON line per epoch with the documented fields.
      const epochs = lines.filter((l) => "epoch" in l && !("event" in l));
      expect(epochs.length).toBe(metrics.history.length);
      expect(Object.keys(epochs[0])).toEqual(
        expect.arrayContaining(["epoch", "loss", "val_loss", "metrics", "samplesPerSecond", "etaSeconds"]),
      );
      expect(lines.find((l) => l.event === "data")).toMatchObject({ droppedRows: 14 });
      const report = await (
        await s3.send(new GetObjectCommand({ Bucket: "artifacts", Key: `runs/${id}/report.html` }))
      ).Body!.transformToString();
      expect(report).toMatch(/<svg[^>]*aria-label="Loss"/);
      expect(report).toMatch(/<polyline/);
    },
  );

  test("a second run with a finished runId is refused and leaves the outputs alone", async () => {
    const before = await getJson("runs/mpg-001/run.json");
    const spec = parseRunSpec({
      runId: "mpg-001",
      dataset: {
        uri: "s3://datasets/auto-mpg/auto-mpg.csv",
        target: "Miles_per_Gallon",
        drop: ["Name"],
        categorical: ["Origin"],
      },
      task: "regression",
      output: { uri: "s3://artifacts/runs" },
    }) as RunSpec & { runId: string };
    await expect(runTraining(spec, { env, log: () => undefined })).rejects.toThrow(RunRefusedError);
    await expect(runTraining(spec, { env, log: () => undefined })).rejects.toThrow(
      /run "mpg-001" already succeeded at s3:\/\/artifacts\/runs\/mpg-001/,
    );
    expect(await getJson("runs/mpg-001/run.json")).toEqual(before);
  });

  test("a prefix holding another run (different spec) is refused, even while it is running", async () => {
    const other = parseRunSpec({
      runId: "taken",
      dataset: { uri: "s3://datasets/iris/iris.csv", target: "species" },
      task: "multiclass",
      output: { uri: "s3://artifacts/runs" },
    });
    const record = { runId: "taken", status: "running", attempts: 1, spec: other, firstStartedAt: "t", startedAt: "t" };
    await s3.send(
      new PutObjectCommand({ Bucket: "artifacts", Key: "runs/taken/run.json", Body: JSON.stringify(record) }),
    );
    const mine = parseRunSpec({ ...other, training: { ...other.training, epochs: 1, batchSize: 7 } }) as RunSpec & {
      runId: string;
    };
    await expect(runTraining(mine, { env, log: () => undefined })).rejects.toThrow(
      's3://artifacts/runs/taken holds run "taken" with a different spec (status running); refusing to overwrite it. Use a new runId.',
    );
    expect(await keys("runs/taken/")).toEqual(["runs/taken/run.json"]);
  });

  test("a run started by an earlier trainer (its spec lacks fields this one defaults) is refused, naming them", async () => {
    const spec = parseRunSpec({
      runId: "older",
      dataset: { uri: "s3://datasets/iris/iris.csv", target: "species" },
      task: "multiclass",
      output: { uri: "s3://artifacts/runs" },
    });
    const { shuffleBuffer: _b, memoryCacheMiB: _m, ...olderDataset } = spec.dataset;
    const record = {
      runId: "older",
      status: "interrupted",
      attempts: 1,
      spec: { ...spec, dataset: olderDataset },
      firstStartedAt: "t",
      startedAt: "t",
    };
    await s3.send(
      new PutObjectCommand({ Bucket: "artifacts", Key: "runs/older/run.json", Body: JSON.stringify(record) }),
    );
    await expect(runTraining(spec as RunSpec & { runId: string }, { env, log: () => undefined })).rejects.toThrow(
      's3://artifacts/runs/older holds run "older" (status interrupted) started by an earlier trainer (its spec has no dataset.shuffleBuffer, dataset.memoryCacheMiB)',
    );
    expect(await keys("runs/older/")).toEqual(["runs/older/run.json"]);
  });

  test("iris multiclass reaches accuracy >= 0.9", async () => {
    await run({
      runId: "iris-multi",
      dataset: { uri: "s3://datasets/iris/iris.csv", target: "species" },
      task: "multiclass",
      split: { test: 0.3, validation: 0.2, seed: 3 },
      model: { layers: [{ units: 16, activation: "relu" }] },
      training: { optimizer: { name: "adam", learningRate: 0.02 }, epochs: 100, batchSize: 16, checkpointEvery: 20 },
      output: { uri: "s3://artifacts/runs" },
    });
    const metrics = await getJson("runs/iris-multi/metrics.json");
    expect(metrics.test.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(metrics.test.f1).toBeGreaterThan(0.85);
    expect(metrics.test.confusion).toHaveLength(3);
    expect((await getJson("runs/iris-multi/preprocess.json")).classes).toEqual(["setosa", "versicolor", "virginica"]);
  });

  test("binary virginica-vs-rest reports ROC-AUC with curve points and draws the ROC", async () => {
    await run({
      runId: "iris-binary",
      dataset: { uri: "s3://datasets/iris/iris-binary.csv", target: "label", positiveClass: "virginica" },
      task: "binary",
      split: { test: 0.3, validation: 0.2, seed: 5 },
      model: { layers: [{ units: 8, activation: "relu" }] },
      training: { optimizer: { name: "adam", learningRate: 0.02 }, epochs: 80, batchSize: 16, checkpointEvery: 20 },
      output: { uri: "s3://artifacts/runs" },
    });
    const metrics = await getJson("runs/iris-binary/metrics.json");
    expect(metrics.test.rocAuc).toBeGreaterThan(0.95);
    expect(metrics.test.accuracy).toBeGreaterThan(0.85);
    expect(metrics.roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: null }); // Infinity serialises as null
    expect(metrics.roc[metrics.roc.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    const report = await (
      await s3.send(new GetObjectCommand({ Bucket: "artifacts", Key: "runs/iris-binary/report.html" }))
    ).Body!.transformToString();
    expect(report).toMatch(/aria-label="ROC \(AUC /);
  });

  test("bad CSVs fail with the column and row named, and write nothing", async () => {
    const base = { task: "regression" as const, training: { epochs: 1 }, output: { uri: "s3://artifacts/bad" } };
    const attempt = (runId: string, dataset: RunSpecInput["dataset"]) =>
      runTraining(parseRunSpec({ ...base, runId, dataset }) as RunSpec & { runId: string }, {
        env,
        log: () => undefined,
      });
    await expect(attempt("bad-1", { uri: "s3://datasets/bad/non-numeric.csv", target: "y" })).rejects.toThrow(
      'column "b", row 2 (line 3) of s3://datasets/bad/non-numeric.csv: "five" is not a decimal number',
    );
    await expect(attempt("bad-2", { uri: "s3://datasets/bad/non-numeric.csv", target: "price" })).rejects.toThrow(
      'dataset.target: column "price" is not in s3://datasets/bad/non-numeric.csv (columns: a, b, y)',
    );
    await expect(attempt("bad-3", { uri: "s3://datasets/bad/no-rows.csv", target: "y" })).rejects.toThrow(DataError);
    await expect(attempt("bad-3", { uri: "s3://datasets/bad/no-rows.csv", target: "y" })).rejects.toThrow(
      /no usable rows \(2 read, 2 dropped/,
    );
    await expect(attempt("bad-4", { uri: "s3://datasets/bad/missing.csv", target: "y" })).rejects.toThrow(
      /^cannot read dataset.uri s3:\/\/datasets\/bad\/missing.csv: .*(NoSuchKey|does not exist)/,
    );
    expect(await keys("bad/")).toEqual([]);
  });
});
