/**
 * The Kiln trainer itself (dist/main.js, a child process) streaming synthetic shards from MinIO: samples/s,
 * test MAE, peak RSS (the trainer's own getrusage maximum, worker thread included) and wall time, plus the
 * rate of a raw GET of one shard next to the trainer's statistics pass over the same bytes.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import YAML from "yaml";
import { startMinio } from "./minio";
import { ensureShards } from "./synthetic-csv";

const TRAINER = path.resolve(__dirname, "..", "dist", "main.js");

export interface StreamRow {
  engine: string;
  dataset: string;
  batchSize: number;
  epochs: number;
  samplesPerSecond?: number;
  mae?: number;
  peakRssMiB?: number;
  wallSeconds?: number;
  note?: string;
}

async function rawGetMiBps(s3: S3Client, bucket: string, key: string): Promise<number> {
  const t0 = Date.now();
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let bytes = 0;
  for await (const chunk of out.Body as AsyncIterable<Buffer>) bytes += chunk.length;
  return bytes / 2 ** 20 / ((Date.now() - t0) / 1000);
}

function runTrainer(
  env: Record<string, string>,
  sigtermAfterSeconds?: number,
): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [TRAINER, "train"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const timer =
      sigtermAfterSeconds !== undefined
        ? setTimeout(() => proc.kill("SIGTERM"), sigtermAfterSeconds * 1000)
        : undefined;
    proc.on("exit", () => clearTimeout(timer));
    const lines: Record<string, unknown>[] = [];
    let buf = "";
    let stderr = "";
    proc.stdout.on("data", (c: Buffer) => {
      buf += c.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          lines.push(JSON.parse(text));
        } catch {
          // tfjs banners
        }
      }
    });
    proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    proc.on("exit", (code) => resolve({ code, lines, stderr, seconds: (Date.now() - t0) / 1000 }));
  });
}

export interface StreamingPlan {
  datasets: { rows: number; shardRows: number }[];
  backends: string[];
  batchSizes: number[];
  epochs: number;
  /** Also run Keras over tf.data on the same shards (downloaded), with this python (the bench venv). */
  kerasPython?: string;
  /** After the first run of each data set: the same spec stopped by SIGTERM halfway and restarted; its weights vs the first run's. */
  resumeCheck?: boolean;
  /** Also run this backend for 2 epochs with the memory cache off and the disk cache on (epoch 2 reads it). */
  diskCacheBackend?: string;
}

const label = (rows: number) => (rows >= 1e6 ? `${rows / 1e6}M` : `${rows / 1e3}k`);

/** The 64-64-1 regression run every streaming row trains (adam 0.001, mse, 90/10 split). */
function benchSpec(
  runId: string,
  uri: string,
  training: { epochs: number; batchSize: number },
  dataset: Record<string, number> = {},
) {
  return {
    runId,
    dataset: { uri, target: "y", drop: ["id"], ...dataset },
    task: "regression",
    split: { test: 0.1, validation: 0, seed: 42 },
    model: {
      layers: [
        { units: 64, activation: "relu" },
        { units: 64, activation: "relu" },
      ],
      init: "glorotUniform",
    },
    training: { loss: "mse", optimizer: { name: "adam", learningRate: 0.001 }, ...training, seed: 42 },
    output: { uri: "s3://bench/runs" },
  };
}

/** The same run stopped by SIGTERM at half the reference's wall time, restarted, and its weights compared. */
async function resumeCheck(
  minio: Awaited<ReturnType<typeof startMinio>>,
  reference: { runId: string } & Record<string, unknown>,
  seconds: number,
  backend: string,
): Promise<string> {
  const runId = `${reference.runId}-resumed`;
  const env = { ...minio.env, KILN_RUN_SPEC: YAML.stringify({ ...reference, runId }), KILN_BACKEND: backend };
  process.stderr.write(`  the same run, SIGTERM after ${(seconds / 2).toFixed(0)} s, then restarted ...\n`);
  const first = await runTrainer(env, seconds / 2);
  const stopped = first.lines.find((l) => l.event === "interrupted") as { epoch?: number; batch?: number } | undefined;
  const second = await runTrainer(env);
  const weights = async (id: string) =>
    Buffer.from(
      await (
        await minio.client.send(new GetObjectCommand({ Bucket: "bench", Key: `runs/${id}/model/weights.bin` }))
      ).Body!.transformToByteArray(),
    );
  if (first.code !== 143 || second.code !== 0)
    return `resume check: first attempt exited ${first.code} (want 143), second ${second.code}: ${second.stderr.trim().split("\n").slice(-1)[0] ?? ""}`;
  const [a, b] = await Promise.all([weights(reference.runId), weights(runId)]);
  const done = second.lines.find((l) => l.event === "done") as { peakRssMiB: number } | undefined;
  return `resume check: stopped by SIGTERM at epoch ${stopped?.epoch} batch ${stopped?.batch}, restarted: final weights ${a.equals(b) ? "bit-identical to" : "DIFFERENT from"} the uninterrupted run (${a.length} bytes; ${first.seconds.toFixed(0)} s + ${second.seconds.toFixed(0)} s, peak RSS ${done?.peakRssMiB} MiB)`;
}

/** Keras over tf.data reading the same shards, downloaded from MinIO to local disk first (not timed). */
async function kerasOverCsv(
  py: string,
  s3: S3Client,
  name: string,
  shards: number,
  batchSizes: number[],
): Promise<StreamRow[]> {
  const engine = "keras/tf-cpu over tf.data (local CSV)";
  const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-bench-csv-"));
  try {
    for (let s = 0; s < shards; s++) {
      const Key = `${name}/part-${String(s).padStart(5, "0")}.csv`;
      const out = await s3.send(new GetObjectCommand({ Bucket: "bench", Key }));
      writeFileSync(path.join(dir, `part-${s}.csv`), Buffer.from(await out.Body!.transformToByteArray()));
    }
    process.stderr.write(`running keras over tf.data on ${name} ...\n`);
    const run = spawnSync(py, [path.join(__dirname, "keras_csv_bench.py"), dir, ...batchSizes.map(String)], {
      encoding: "utf8",
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
    });
    if (run.status !== 0)
      throw new Error(`keras_csv_bench.py exited ${run.status}: ${run.stderr.trim().split("\n").slice(-1)[0]}`);
    const results = run.stdout
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    return results.map((r) => ({
      engine: `${engine} ${r.tensorflow}`,
      dataset: name,
      batchSize: r.batchSize,
      epochs: 1,
      samplesPerSecond: r.samplesPerSecond,
      mae: r.mae,
      wallSeconds: r.wallSeconds,
      note: `statistics pass ${r.statsSeconds.toFixed(1)} s`,
    }));
  } catch (err) {
    return batchSizes.map((b) => ({
      engine,
      dataset: name,
      batchSize: b,
      epochs: 1,
      note: `skipped: ${(err as Error).message}`.slice(0, 160),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function streamingRows(plan: StreamingPlan): Promise<{ rows: StreamRow[]; notes: string[] }> {
  const minio = await startMinio(["bench"]);
  const rows: StreamRow[] = [];
  const notes: string[] = [];
  try {
    for (const d of plan.datasets) {
      const name = `synthetic-${label(d.rows)}`;
      const data = await ensureShards(minio.client, "bench", name, d.rows, d.shardRows);
      const shards = Math.ceil(d.rows / d.shardRows);
      const getRate = await rawGetMiBps(minio.client, "bench", `${name}/part-00000.csv`);
      for (const backend of plan.backends) {
        for (const batchSize of plan.batchSizes) {
          const runId = `bench-${name.toLowerCase()}-${backend}-${batchSize}-${Date.now().toString(36)}`;
          const spec = benchSpec(runId, data.uri, { epochs: plan.epochs, batchSize });
          process.stderr.write(
            `running the Kiln trainer (${backend}) on ${name} (${shards} shards, ${(data.bytes / 2 ** 30).toFixed(2)} GiB), batch ${batchSize} ...\n`,
          );
          const t = await runTrainer({ ...minio.env, KILN_RUN_SPEC: YAML.stringify(spec), KILN_BACKEND: backend });
          const done = t.lines.find((l) => l.event === "done") as
            | { peakRssMiB: number; test: { mae: number } }
            | undefined;
          const epochLines = t.lines.filter((l) => typeof l.epoch === "number" && !("event" in l)) as {
            samplesPerSecond: number;
          }[];
          const scan = t.lines.find((l) => l.event === "data") as { scanSeconds: number } | undefined;
          const engine = `kiln trainer ${backend} (MinIO)`;
          if (t.code !== 0 || !done) {
            rows.push({
              engine,
              dataset: name,
              batchSize,
              epochs: plan.epochs,
              note: `exit ${t.code}: ${t.stderr.trim().split("\n").slice(-1)[0] ?? ""}`.slice(0, 160),
            });
            continue;
          }
          const sps = epochLines.reduce((a, l) => a + l.samplesPerSecond, 0) / Math.max(1, epochLines.length);
          rows.push({
            engine,
            dataset: name,
            batchSize,
            epochs: plan.epochs,
            samplesPerSecond: sps,
            mae: done.test.mae,
            peakRssMiB: done.peakRssMiB,
            wallSeconds: t.seconds,
          });
          if (plan.resumeCheck && rows.filter((r) => r.dataset === name).length === 1)
            notes.push(await resumeCheck(minio, spec, t.seconds, backend));
          if (scan)
            notes.push(
              `${name} ${backend} b${batchSize}: statistics pass read ${(data.bytes / 2 ** 20 / scan.scanSeconds).toFixed(1)} MiB/s (raw GET of one shard: ${getRate.toFixed(1)} MiB/s)`,
            );
        }
      }
      if (plan.diskCacheBackend) {
        const backend = plan.diskCacheBackend;
        const runId = `bench-${name.toLowerCase()}-disk-${Date.now().toString(36)}`;
        const spec = benchSpec(runId, data.uri, { epochs: 2, batchSize: 256 }, { memoryCacheMiB: 0, diskCacheGiB: 4 });
        process.stderr.write(`running the Kiln trainer (${backend}) on ${name}, 2 epochs, disk cache ...\n`);
        const t = await runTrainer({ ...minio.env, KILN_RUN_SPEC: YAML.stringify(spec), KILN_BACKEND: backend });
        const done = t.lines.find((l) => l.event === "done") as
          | { peakRssMiB: number; test: { mae: number } }
          | undefined;
        const epochLines = t.lines.filter((l) => typeof l.epoch === "number" && !("event" in l)) as {
          samplesPerSecond: number;
          seconds?: number;
        }[];
        const engine = `kiln trainer ${backend} (MinIO, disk cache)`;
        if (t.code !== 0 || !done || epochLines.length < 2)
          rows.push({
            engine,
            dataset: name,
            batchSize: 256,
            epochs: 2,
            note: `exit ${t.code}: ${t.stderr.trim().split("\n").slice(-1)[0] ?? ""}`.slice(0, 160),
          });
        else {
          rows.push({
            engine,
            dataset: name,
            batchSize: 256,
            epochs: 2,
            samplesPerSecond: epochLines[1].samplesPerSecond,
            mae: done.test.mae,
            peakRssMiB: done.peakRssMiB,
            wallSeconds: t.seconds,
            note: `epoch 1 (parsing, writing the cache): ${Math.round(epochLines[0].samplesPerSecond)}/s; epoch 2 (from the cache): shown`,
          });
        }
      }
      if (plan.kerasPython)
        rows.push(...(await kerasOverCsv(plan.kerasPython, minio.client, name, shards, plan.batchSizes)));
    }
  } finally {
    minio.client.destroy();
    minio.stop();
  }
  return { rows, notes };
}
