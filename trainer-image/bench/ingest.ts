/**
 * Ingest rates on the same rows in MinIO, engines alternated round by round (median of BENCH_INGEST_ROUNDS):
 * a raw GET of the CSV and of the Parquet shards, the trainer's statistics pass over CSV (fast path, and
 * csv-parse alone) and over Parquet (written from the CSV by `kiln-trainer convert`), and pandas.read_csv of
 * the same CSV files (downloaded; python with pandas from KILN_PANDAS_PYTHON, default the pyarrow venv).
 * MB/s are of the CSV bytes for every CSV-side row, and of the Parquet bytes for the Parquet GET.
 * Usage: npx ts-node --transpile-only bench/ingest.ts   (env: BENCH_INGEST_ROWS=1000000, BENCH_INGEST_ROUNDS=3)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { convertCsvToParquet } from "../src/convert";
import { resolveShards } from "../src/shards";
import { parseRunSpec } from "../src/spec";
import { scanDataset } from "../src/stats";
import { startMinio } from "./minio";
import { ensureShards } from "./synthetic-csv";

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const ROWS = num("BENCH_INGEST_ROWS", 1_000_000);
const ROUNDS = num("BENCH_INGEST_ROUNDS", 3);
const SHARD_ROWS = 250_000;
const PYTHON =
  process.env.KILN_PANDAS_PYTHON ?? path.join(os.homedir(), ".cache", "kiln", "pyarrow-venv", "bin", "python");

async function keysUnder(s3: S3Client, prefix: string): Promise<{ key: string; size: number }[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: "bench", Prefix: prefix }));
  return (out.Contents ?? [])
    .map((o) => ({ key: o.Key!, size: o.Size ?? 0 }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

async function rawGet(s3: S3Client, keys: string[]): Promise<void> {
  for (const Key of keys) {
    const out = await s3.send(new GetObjectCommand({ Bucket: "bench", Key }));
    for await (const chunk of out.Body as AsyncIterable<Buffer>) void chunk;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const minio = await startMinio(["bench"]);
  Object.assign(process.env, minio.env);
  try {
    const name = `ingest-${ROWS}`;
    const csv = await ensureShards(minio.client, "bench", name, ROWS, SHARD_ROWS);
    const parquetPrefix = `${name}-parquet/`;
    if ((await keysUnder(minio.client, parquetPrefix)).length === 0) {
      process.stderr.write(`  converting ${csv.uri} to Parquet (kiln-trainer convert)\n`);
      await convertCsvToParquet({
        from: csv.uri,
        to: `s3://bench/${parquetPrefix}`,
        rowGroupRows: 131_072,
        codec: "snappy",
        env: process.env,
        log: () => undefined,
      });
    }
    const csvKeys = (await keysUnder(minio.client, `${name}/`)).map((k) => k.key);
    const parquetObjects = await keysUnder(minio.client, parquetPrefix);
    const parquetBytes = parquetObjects.reduce((a, o) => a + o.size, 0);
    const local = path.join(os.tmpdir(), `kiln-bench-${name}`);
    mkdirSync(local, { recursive: true });
    for (const key of csvKeys) {
      const file = path.join(local, path.basename(key));
      if (!existsSync(file))
        writeFileSync(
          file,
          Buffer.from(
            await (
              await minio.client.send(new GetObjectCommand({ Bucket: "bench", Key: key }))
            ).Body!.transformToByteArray(),
          ),
        );
    }
    const spec = (uri: string) =>
      parseRunSpec({ dataset: { uri, target: "y", drop: ["id"] }, task: "regression", output: { uri: os.tmpdir() } });
    const retry = { deadlineSeconds: 60, sdkAttempts: 3 };
    const parquetUri = `s3://bench/${parquetPrefix}*.parquet`;
    const engines: Record<string, { bytes: number; run: () => Promise<void> }> = {
      "raw GET, CSV": { bytes: csv.bytes, run: () => rawGet(minio.client, csvKeys) },
      "raw GET, Parquet": {
        bytes: parquetBytes,
        run: () =>
          rawGet(
            minio.client,
            parquetObjects.map((o) => o.key),
          ),
      },
      "statistics pass, CSV (fast path)": {
        bytes: csv.bytes,
        run: async () => void (await scanDataset(spec(csv.uri), await resolveShards(csv.uri, retry))),
      },
      "statistics pass, CSV (csv-parse only)": {
        bytes: csv.bytes,
        run: async () =>
          void (await scanDataset(spec(csv.uri), await resolveShards(csv.uri, retry), undefined, { fastCsv: false })),
      },
      "statistics pass, Parquet": {
        bytes: csv.bytes,
        run: async () => void (await scanDataset(spec(parquetUri), await resolveShards(parquetUri, retry))),
      },
      "pandas.read_csv (local files)": {
        bytes: csv.bytes,
        run: async () => {
          const code = `import glob,pandas as pd\nfor f in sorted(glob.glob(${JSON.stringify(`${local}/*.csv`)})): pd.read_csv(f)`;
          const t = spawnSync(PYTHON, ["-c", code], { encoding: "utf8" });
          if (t.status !== 0) throw new Error(`pandas: ${t.stderr}`);
        },
      },
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(engines).map((k) => [k, []]));
    const names = Object.keys(engines);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order round by round so no engine always runs on a warm (or cold) store.
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const k of order) {
        const t0 = process.hrtime.bigint();
        await engines[k].run();
        times[k].push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
    }
    console.log(
      `\n${ROWS.toLocaleString("en-US")} rows, ${csvKeys.length} shards: CSV ${(csv.bytes / 1e6).toFixed(1)} MB, Parquet (snappy) ${(parquetBytes / 1e6).toFixed(1)} MB; median of ${ROUNDS} alternated rounds; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    console.log("| engine | seconds | MB/s | rows/s |\n|---|---|---|---|");
    for (const k of names) {
      const s = median(times[k]);
      console.log(
        `| ${k} | ${s.toFixed(2)} | ${(engines[k].bytes / 1e6 / s).toFixed(1)} | ${Math.round(ROWS / s).toLocaleString("en-US")} |`,
      );
    }
  } finally {
    minio.stop();
  }
})();
