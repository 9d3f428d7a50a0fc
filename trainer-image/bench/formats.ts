/**
 * The built trainer (dist/main.js, a child process) on the same rows as CSV shards and as Parquet shards
 * (local files: the ingest bench's download, converted by `kiln-trainer convert`), per backend and batch size,
 * runs alternated; then Keras, for as many epochs, on in-memory numpy arrays of the same CSV shards
 * (bench/keras_memory_bench.py) and over tf.data (bench/keras_csv_bench.py), in the bench venv. Prints a
 * markdown table: wall time (whole run), statistics pass (Keras: its adapt pass, or the pandas load), ms/step
 * per epoch, samples/s, test MAE, peak RSS.
 * Usage: npx ts-node --transpile-only bench/formats.ts <csv dir>   (env: BENCH_FORMAT_BACKENDS=wasm,tensorflow,
 *        BENCH_FORMAT_BATCHES=256,1024, BENCH_FORMAT_EPOCHS=2, KILN_VENV)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { convertCsvToParquet } from "../src/convert";

const TRAINER = path.resolve(__dirname, "..", "dist", "main.js");
const BACKENDS = (process.env.BENCH_FORMAT_BACKENDS ?? "wasm,tensorflow").split(",");
const BATCHES = (process.env.BENCH_FORMAT_BATCHES ?? "256,1024").split(",").map(Number);
const EPOCHS = Number(process.env.BENCH_FORMAT_EPOCHS ?? 2);
const VENV = process.env.KILN_VENV ?? path.join(os.homedir(), ".cache", "kiln", "venv");

interface Result {
  engine: string;
  format: string;
  batch: number;
  wall?: number;
  scan?: number;
  msPerStep?: string;
  samplesPerSecond?: number;
  mae?: number;
  peakRssMiB?: number;
  note?: string;
}

function train(uri: string, backend: string, batch: number, out: string): Result {
  const runId = `fmt-${backend}-${batch}-${path.basename(uri).replace(/[^a-z0-9]/gi, "")}-${Date.now()}`;
  const spec = {
    runId,
    dataset: { uri, target: "y", drop: ["id"], memoryCacheMiB: 256 },
    task: "regression",
    split: { test: 0.1, validation: 0, seed: 1 },
    model: {
      layers: [
        { units: 64, activation: "relu" },
        { units: 64, activation: "relu" },
      ],
    },
    training: {
      loss: "mse",
      optimizer: { name: "adam", learningRate: 0.001 },
      epochs: EPOCHS,
      batchSize: batch,
      seed: 42,
    },
    output: { uri: out },
  };
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [TRAINER, "train"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: os.homedir(),
      KILN_RUN_SPEC: JSON.stringify(spec),
      KILN_BACKEND: backend,
    },
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  const processSeconds = (Date.now() - t0) / 1000;
  if (r.status !== 0)
    return {
      engine: `Kiln ${backend}`,
      format: uri.includes("parquet") ? "Parquet" : "CSV",
      batch,
      note: `exit ${r.status}: ${r.stderr.slice(-300)}`,
    };
  const lines = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  const m = JSON.parse(readFileSync(path.join(out, runId, "metrics.json"), "utf8"));
  const epochs = lines.filter((l) => typeof l.epoch === "number" && !("event" in l));
  return {
    engine: `Kiln ${backend}`,
    format: uri.includes("parquet") ? "Parquet" : "CSV",
    batch,
    wall: processSeconds,
    scan: m.scanSeconds,
    msPerStep: epochs.map((e) => e.msPerStep).join(" / "),
    samplesPerSecond: m.samplesPerSecond,
    mae: m.test.mae,
    peakRssMiB: m.peakRssMiB,
  };
}

(async () => {
  const csvDir = process.argv[2];
  if (!csvDir || !existsSync(csvDir))
    throw new Error(
      "usage: bench/formats.ts <dir of CSV shards> (e.g. the ingest bench's $TMPDIR/kiln-bench-ingest-1000000)",
    );
  const parquetDir = `${csvDir}-parquet`;
  if (!existsSync(parquetDir) || readdirSync(parquetDir).length === 0)
    await convertCsvToParquet({
      from: `${csvDir}/*.csv`,
      to: parquetDir,
      rowGroupRows: 131_072,
      codec: "snappy",
      env: process.env,
      log: () => undefined,
    });
  const out = mkdtempSync(path.join(os.tmpdir(), "kiln-bench-formats-"));
  const results: Result[] = [];
  let flip = false;
  for (const backend of BACKENDS) {
    for (const batch of BATCHES) {
      // Alternate which format runs first.
      const uris = [`${csvDir}/*.csv`, `${parquetDir}/*.parquet`];
      flip = !flip;
      for (const uri of flip ? uris : uris.reverse()) {
        const r = train(uri, backend, batch, out);
        console.error(JSON.stringify(r));
        results.push(r);
      }
    }
  }
  const python = path.join(VENV, "bin", "python");
  if (existsSync(python)) {
    for (const [script, engine] of [
      ["keras_memory_bench.py", "in-memory numpy"],
      ["keras_csv_bench.py", "tf.data"],
    ] as const) {
      const r = spawnSync(python, [path.join(__dirname, script), csvDir, ...BATCHES.map(String)], {
        encoding: "utf8",
        maxBuffer: 1 << 26,
        env: { ...process.env, KERAS_EPOCHS: String(EPOCHS), TF_CPP_MIN_LOG_LEVEL: "2" },
      });
      for (const l of r.stdout.split("\n").filter((x) => x.startsWith("{"))) {
        const k = JSON.parse(l);
        results.push({
          engine: `Keras ${k.tensorflow ?? ""} ${engine}`,
          format: "CSV",
          batch: k.batchSize,
          wall: k.wallSeconds ?? k.seconds,
          scan: k.statsSeconds ?? k.loadSeconds,
          msPerStep: (k.msPerStep as number[] | undefined)?.map((m) => m.toFixed(2)).join(" / "),
          samplesPerSecond: Math.round(k.samplesPerSecond),
          mae: k.mae,
          peakRssMiB: k.peakRssMiB === undefined ? undefined : Math.round(k.peakRssMiB),
          note: k.note,
        });
      }
      if (r.status !== 0)
        results.push({
          engine: `Keras ${engine}`,
          format: "CSV",
          batch: 0,
          note: `exit ${r.status}: ${r.stderr.slice(-200)}`,
        });
    }
  } else results.push({ engine: "Keras", format: "-", batch: 0, note: `skipped: no ${python}` });
  console.log(
    `\n${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}, ${EPOCHS} epochs\n`,
  );
  console.log(
    "| engine | format | batch | wall s | statistics pass s | ms/step (epoch 1 / 2) | samples/s | test MAE | peak RSS MiB | note |\n|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const r of results)
    console.log(
      `| ${r.engine} | ${r.format} | ${r.batch} | ${r.wall?.toFixed(1) ?? ""} | ${r.scan?.toFixed(2) ?? ""} | ${r.msPerStep ?? ""} | ${r.samplesPerSecond ?? ""} | ${r.mae?.toFixed(4) ?? ""} | ${r.peakRssMiB ?? ""} | ${r.note ?? ""} |`,
    );
})();
