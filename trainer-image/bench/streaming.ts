/**
 * The Kiln trainer itself (dist/main.js, a child process) streaming synthetic shards from MinIO: samples/s,
 * test MAE, peak RSS (the trainer's own getrusage maximum, worker thread included) and wall time, plus the
 * rate of a raw GET of one shard next to the trainer's statistics pass over the same bytes.
 */
import { spawn } from "node:child_process";
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

function runTrainer(env: Record<string, string>): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [TRAINER, "train"], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, stdio: ["ignore", "pipe", "pipe"] });
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
}

const label = (rows: number) => (rows >= 1e6 ? `${rows / 1e6}M` : `${rows / 1e3}k`);

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
          const spec = {
            runId,
            dataset: { uri: data.uri, target: "y", drop: ["id"] },
            task: "regression",
            split: { test: 0.1, validation: 0, seed: 42 },
            model: { layers: [{ units: 64, activation: "relu" }, { units: 64, activation: "relu" }], init: "glorotUniform" },
            training: { loss: "mse", optimizer: { name: "adam", learningRate: 0.001 }, epochs: plan.epochs, batchSize, seed: 42 },
            output: { uri: "s3://bench/runs" },
          };
          process.stderr.write(`running the Kiln trainer (${backend}) on ${name} (${shards} shards, ${(data.bytes / 2 ** 30).toFixed(2)} GiB), batch ${batchSize} ...\n`);
          const t = await runTrainer({ ...minio.env, KILN_RUN_SPEC: YAML.stringify(spec), KILN_BACKEND: backend });
          const done = t.lines.find((l) => l.event === "done") as { peakRssMiB: number; test: { mae: number } } | undefined;
          const epochLines = t.lines.filter((l) => typeof l.epoch === "number" && !("event" in l)) as { samplesPerSecond: number }[];
          const scan = t.lines.find((l) => l.event === "data") as { scanSeconds: number } | undefined;
          const engine = `kiln trainer ${backend} (MinIO)`;
          if (t.code !== 0 || !done) {
            rows.push({ engine, dataset: name, batchSize, epochs: plan.epochs, note: `exit ${t.code}: ${t.stderr.trim().split("\n").slice(-1)[0] ?? ""}`.slice(0, 160) });
            continue;
          }
          const sps = epochLines.reduce((a, l) => a + l.samplesPerSecond, 0) / Math.max(1, epochLines.length);
          rows.push({ engine, dataset: name, batchSize, epochs: plan.epochs, samplesPerSecond: sps, mae: done.test.mae, peakRssMiB: done.peakRssMiB, wallSeconds: t.seconds });
          if (scan) notes.push(`${name} ${backend} b${batchSize}: statistics pass read ${(data.bytes / 2 ** 20 / scan.scanSeconds).toFixed(1)} MiB/s (raw GET of one shard: ${getRate.toFixed(1)} MiB/s)`);
        }
      }
    }
  } finally {
    minio.client.destroy();
    minio.stop();
  }
  return { rows, notes };
}
