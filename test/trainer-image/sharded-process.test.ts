/**
 * The built trainer against sharded data in a real MinIO (a glob over plain and gzipped CSV shards, and the
 * same data as Parquet shards; no memory cache, a shuffle buffer smaller than the data): killed (SIGKILL) or stopped (SIGTERM) mid-epoch and
 * restarted, it ends with exactly the weights of an uninterrupted run, on every backend built here.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { gzipSync } from "node:zlib";
import YAML from "yaml";
import { MinioServer } from "../support/minio";
import { writeParquetBuffer } from "../../trainer-image/src/parquet-write";
import { testBackends } from "./backends";
import { buildTrainer, epochAtLeast, spawnTrainer } from "./trainer-process";

jest.setTimeout(300_000);

let minio: MinioServer;
let s3: S3Client;
const SHARDS = 6;
const ROWS = 2000;

beforeAll(async () => {
  buildTrainer();
  minio = await MinioServer.start(["datasets", "artifacts"]);
  s3 = minio.client();
  for (let s = 0; s < SHARDS; s++) {
    const lines = ["k,a,b,c,y"];
    for (let i = 0; i < ROWS; i++) {
      const r = s * ROWS + i;
      const a = Math.sin(r * 0.31);
      const b = Math.cos(r * 0.17);
      const c = ["u", "v", "w", "z"][r % 4];
      lines.push(`${r},${a.toFixed(5)},${b.toFixed(5)},${c},${(a * a - 2 * b + (c === "v" ? 0.5 : 0)).toFixed(5)}`);
    }
    const text = `${lines.join("\n")}\n`;
    const gz = s % 3 === 1;
    await s3.send(
      new PutObjectCommand({
        Bucket: "datasets",
        Key: `sharded/part-${s}.csv${gz ? ".gz" : ""}`,
        Body: gz ? gzipSync(text) : text,
      }),
    );
    // The same shard as Parquet (row groups of 300 rows, read by ranged GETs), every third one gzipped.
    const rows = lines.slice(1).map((l) => l.split(","));
    const columnData = ["k", "a", "b", "c", "y"].map((name, i) => ({
      name,
      data: rows.map((r) => (i === 3 ? r[i] : Number(r[i]))),
      type: i === 3 ? ("STRING" as const) : ("DOUBLE" as const),
    }));
    const body = Buffer.from(writeParquetBuffer({ columnData, rowGroupSize: 300, codec: gz ? "gzip" : "snappy" }));
    await s3.send(new PutObjectCommand({ Bucket: "datasets", Key: `sharded-parquet/part-${s}.parquet`, Body: body }));
  }
  await s3.send(new PutObjectCommand({ Bucket: "datasets", Key: "sharded/_SUCCESS", Body: "" }));
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
const weights = async (runId: string) =>
  Array.from(new Float32Array(new Uint8Array(await get(`runs/${runId}/model/weights.bin`)).buffer));

const URIS: Record<string, string> = {
  csv: "s3://datasets/sharded/part-*",
  parquet: "s3://datasets/sharded-parquet/*.parquet",
};
const specOf = (format: string) =>
  YAML.stringify({
    dataset: { uri: URIS[format], target: "y", drop: ["k"], categorical: ["c"], shuffleBuffer: 500, memoryCacheMiB: 0 },
    task: "regression",
    split: { test: 0.15, validation: 0.15, seed: 3 },
    model: {
      layers: [
        { units: 32, activation: "relu" },
        { units: 32, activation: "relu" },
      ],
    },
    training: { optimizer: { name: "adam", learningRate: 0.003 }, epochs: 4, batchSize: 32, seed: 5 },
    output: { uri: "s3://artifacts/runs" },
  });

/** `backend` is "<format>-<backend>" (also the run ids' suffix). */
const env = (runId: string, label: string) => {
  const [format, backend] = label.split("-");
  return {
    ...minio.env(),
    KILN_STORE_RETRY_SECONDS: "120",
    KILN_RUN_SPEC: specOf(format),
    KILN_RUN_ID: runId,
    KILN_BACKEND: backend,
  };
};

async function runToEnd(e: Record<string, string>) {
  const t = spawnTrainer(e);
  const code = await t.exited;
  if (code !== 0) throw new Error(`trainer exited ${code}:\n${t.stderr()}`);
  return t;
}

/** Waits for epoch 1's line, then about a quarter of an epoch more: the stop lands inside epoch 2 (epoch 2 can run faster than epoch 1, which parsed while it trained). */
async function midEpoch2(t: ReturnType<typeof spawnTrainer>): Promise<void> {
  const line = (await t.waitFor(epochAtLeast(1), 120_000)) as { msPerStep: number };
  const steps = Math.ceil((SHARDS * ROWS * 0.7) / 32);
  await new Promise((r) => setTimeout(r, line.msPerStep * steps * 0.25));
}

const labels = ["csv", "parquet"].flatMap((format) => testBackends().map((b) => `${format}-${b}`));
describe.each(labels)("sharded streaming input from MinIO (%s)", (backend) => {
  let reference: Promise<number[]>;
  beforeAll(() => {
    reference = runToEnd(env(`sharded-ref-${backend}`, backend)).then(() => weights(`sharded-ref-${backend}`));
  });

  test("SIGTERM mid-epoch checkpoints the stream position; the restart resumes there and ends with the same weights", async () => {
    const ref = await reference;
    const first = spawnTrainer(env(`sharded-term-${backend}`, backend));
    await midEpoch2(first);
    first.proc.kill("SIGTERM");
    expect(await first.exited).toBe(143);
    const manifest = await getJson(`runs/sharded-term-${backend}/checkpoints/latest.json`);
    expect(manifest.state).toMatchObject({
      epoch: 1,
      batch: expect.any(Number),
      stream: { shard: expect.any(Number), record: expect.any(Number), rng: expect.any(Number), size: 499 },
    });
    expect(manifest.state.batch).toBeGreaterThan(0);
    const second = await runToEnd(env(`sharded-term-${backend}`, backend));
    expect(second.lines.find((l) => l.event === "resume")).toMatchObject({ epoch: 1, batch: manifest.state.batch });
    expect(second.lines.find((l) => l.event === "data")).toMatchObject({ shards: SHARDS, rowsRead: SHARDS * ROWS });
    expect(await weights(`sharded-term-${backend}`)).toEqual(ref);
    const [a, b] = [
      await getJson(`runs/sharded-ref-${backend}/metrics.json`),
      await getJson(`runs/sharded-term-${backend}/metrics.json`),
    ];
    expect(b.test).toEqual(a.test);
    expect(b.history.map((h: { loss: number }) => h.loss)).toEqual(a.history.map((h: { loss: number }) => h.loss));
    console.log(
      `${backend}: SIGTERM at epoch 2 batch ${manifest.state.batch} (shard ${manifest.state.stream.shard}, record ${manifest.state.stream.record}); resumed to the same ${ref.length} weights`,
    );
  });

  test("SIGKILL mid-epoch: the restart replays from the last epoch checkpoint and ends with the same weights", async () => {
    const ref = await reference;
    const first = spawnTrainer(env(`sharded-kill-${backend}`, backend));
    await midEpoch2(first);
    first.proc.kill("SIGKILL");
    await first.exited;
    const second = await runToEnd(env(`sharded-kill-${backend}`, backend));
    expect(second.lines.find((l) => l.event === "resume")).toMatchObject({ epoch: 1, batch: 0, attempt: 2 });
    expect(await weights(`sharded-kill-${backend}`)).toEqual(ref);
  });
});
