/**
 * Benchmark: samples/s and test MAE of the 64-64-1 net on Auto MPG and on a 1M-row synthetic set,
 * per tfjs backend (wasm, cpu, tfjs-node when loadable), and the same model in Keras on TensorFlow CPU.
 * Usage: npm run bench -w trainer-image   (env: BENCH_MPG_EPOCHS=100, BENCH_SYNTH_ROWS=1000000,
 *        BENCH_SYNTH_EPOCHS=1, BENCH_BACKENDS=wasm,cpu,tensorflow, KILN_VENV=~/.cache/kiln/venv,
 *        BENCH_LARGE_RESUME=0 skips the stop-and-resume check of the large run)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { autoMpgCsv } from "../../datasets/auto-mpg";
import { selectBackend } from "../src/backend";
import { parseRows, readCsv } from "../src/data";
import { buildModel, compileModel } from "../src/model";
import { encode, fitPreprocess, splitIndices, type Matrix } from "../src/preprocess";
import { mulberry32 } from "../src/rng";
import { parseRunSpec, type RunSpec } from "../src/spec";
import { regressionMetrics } from "../src/metrics";
import { streamingRows, type StreamRow } from "./streaming";

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const MPG_EPOCHS = num("BENCH_MPG_EPOCHS", 100);
const SYNTH_ROWS = num("BENCH_SYNTH_ROWS", 1_000_000);
const SYNTH_EPOCHS = num("BENCH_SYNTH_EPOCHS", 1);
const BACKENDS = (process.env.BENCH_BACKENDS ?? "wasm,cpu,tensorflow").split(",");
const VENV = process.env.KILN_VENV ?? path.join(os.homedir(), ".cache", "kiln", "venv");
/** Parts to run: raw (model.fit ceiling in memory), stream (the trainer from MinIO), keras. */
const PARTS = new Set((process.env.BENCH_PARTS ?? "raw,stream,keras").split(","));
/** Streaming runs: rows of the small set (every backend, batch 32 and 256) and of the large one (batch 256, BENCH_LARGE_BACKENDS). */
const STREAM_ROWS = num("BENCH_STREAM_ROWS", 1_000_000);
const LARGE_ROWS = num("BENCH_LARGE_ROWS", 20_000_000);
const LARGE_BACKENDS = (process.env.BENCH_LARGE_BACKENDS ?? "wasm").split(",");
const STREAM_BATCHES = (process.env.BENCH_STREAM_BATCHES ?? "32,256").split(",").map(Number);

interface Dataset {
  name: string;
  train: { x: Matrix; y: Matrix };
  test: { x: Matrix; y: Matrix };
  epochs: number;
  batchSize: number;
  learningRate: number;
}

interface Row {
  engine: string;
  dataset: string;
  epochs: number | string;
  samplesPerSecond?: number;
  mae?: number;
  seconds?: number;
  note?: string;
}

const specFor = (d: Dataset): RunSpec =>
  parseRunSpec({
    dataset: { uri: "bench", target: "y" },
    task: "regression",
    model: {
      layers: [
        { units: 64, activation: "relu" },
        { units: 64, activation: "relu" },
      ],
      init: "glorotUniform",
    },
    training: {
      loss: "mse",
      optimizer: { name: "adam", learningRate: d.learningRate },
      epochs: d.epochs,
      batchSize: d.batchSize,
      seed: 42,
    },
    output: { uri: "/tmp/unused" },
  });

async function autoMpg(): Promise<Dataset> {
  const spec = parseRunSpec({
    dataset: { uri: "auto-mpg.csv", target: "Miles_per_Gallon", drop: ["Name"], categorical: ["Origin"] },
    task: "regression",
    split: { test: 0.2, validation: 0, seed: 42 },
    output: { uri: "/tmp/unused" },
  });
  const rows = parseRows(spec, await readCsv(autoMpgCsv(), "auto-mpg.csv"), "auto-mpg.csv");
  const split = splitIndices(rows.x.length, 0.2, 0, 42);
  const pre = fitPreprocess(spec, rows, split.train);
  return {
    name: "auto-mpg",
    train: encode(pre, rows, split.train),
    test: encode(pre, rows, split.test),
    epochs: MPG_EPOCHS,
    batchSize: 32,
    learningRate: 0.01,
  };
}

/** y = w.x + sin(3 x0) + 0.5 x1 x2 + noise(0.1), 8 features uniform in [-1, 1]; 90/10 split. */
function synthetic(rows: number, batchSize: number): Dataset {
  const cols = 8;
  const rand = mulberry32(2024);
  const w = [1.5, -2, 0.7, 0.3, -0.9, 1.1, 0, 0.4];
  const x = new Float32Array(rows * cols);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let t = 0;
    for (let c = 0; c < cols; c++) {
      const v = rand() * 2 - 1;
      x[r * cols + c] = v;
      t += w[c] * v;
    }
    const noise = (rand() + rand() + rand() - 1.5) * 0.2;
    y[r] = t + Math.sin(3 * x[r * cols]) + 0.5 * x[r * cols + 1] * x[r * cols + 2] + noise;
  }
  const nTrain = Math.floor(rows * 0.9);
  const m = (data: Float32Array, from: number, to: number, c: number): Matrix => ({
    data: data.slice(from * c, to * c),
    rows: to - from,
    cols: c,
  });
  return {
    name: `synthetic-${rows >= 1e6 ? `${rows / 1e6}M` : rows} b${batchSize}`,
    train: { x: m(x, 0, nTrain, cols), y: m(y, 0, nTrain, 1) },
    test: { x: m(x, nTrain, rows, cols), y: m(y, nTrain, rows, 1) },
    epochs: SYNTH_EPOCHS,
    batchSize,
    learningRate: 0.001,
  };
}

/** Raw model.fit on in-memory tensors (the tfjs ceiling on this backend). */
async function tfjsRow(engine: string, d: Dataset): Promise<Row> {
  const spec = specFor(d);
  const model = buildModel(spec, [d.train.x.cols]);
  compileModel(model, spec);
  const t = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);
  const data = { x: t(d.train.x), y: t(d.train.y) };
  const started = Date.now();
  await model.fit(data.x, data.y, { epochs: d.epochs, batchSize: d.batchSize, shuffle: true, verbose: 0 });
  const seconds = (Date.now() - started) / 1000;
  const xt = t(d.test.x);
  const pred = tf.tidy(() => model.predict(xt, { batchSize: 4096 }) as tf.Tensor);
  const mae = regressionMetrics(d.test.y.data, pred.dataSync()).mae;
  [data.x, data.y, xt, pred].forEach((v) => v.dispose());
  model.dispose();
  return {
    engine,
    dataset: d.name,
    epochs: d.epochs,
    samplesPerSecond: (d.train.x.rows * d.epochs) / seconds,
    mae,
    seconds,
  };
}

function ensureVenv(): string {
  const py = path.join(VENV, "bin", "python");
  const hasTf = () =>
    existsSync(py) &&
    spawnSync(py, ["-c", "import tensorflow"], { stdio: "ignore", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" } })
      .status === 0;
  if (hasTf()) return py;
  console.error(`installing tensorflow-cpu into ${VENV} ...`);
  execFileSync("python3", ["-m", "venv", VENV], { stdio: "inherit" });
  execFileSync(py, ["-m", "pip", "install", "-q", "tensorflow-cpu"], { stdio: "inherit" });
  if (!hasTf()) throw new Error("tensorflow still not importable after pip install");
  return py;
}

function kerasRows(datasets: Dataset[]): Row[] {
  let py: string;
  try {
    py = ensureVenv();
  } catch (err) {
    return datasets.map((d) => ({
      engine: "keras/tf-cpu",
      dataset: d.name,
      epochs: "-",
      note: `skipped: ${(err as Error).message.split("\n")[0]}`,
    }));
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-bench-"));
  try {
    for (const d of datasets) {
      for (const [part, m] of [
        ["x_train", d.train.x],
        ["y_train", d.train.y],
        ["x_test", d.test.x],
        ["y_test", d.test.y],
      ] as const) {
        writeFileSync(
          path.join(dir, `${d.name}.${part}.f32`),
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        );
      }
    }
    const meta = {
      datasets: datasets.map((d) => ({
        name: d.name,
        inputs: d.train.x.cols,
        epochs: d.epochs,
        batchSize: d.batchSize,
        learningRate: d.learningRate,
      })),
    };
    writeFileSync(path.join(dir, "meta.json"), JSON.stringify(meta));
    const out = spawnSync(py, [path.join(__dirname, "keras_bench.py"), dir], {
      encoding: "utf8",
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
    });
    if (out.status !== 0)
      throw new Error(`keras_bench.py exited ${out.status}: ${out.stderr.trim().split("\n").slice(-1)[0]}`);
    const results = out.stdout
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    return results.map((r) => ({
      engine: `keras/tf-cpu ${r.tensorflow}`,
      dataset: r.name,
      epochs: datasets.find((d) => d.name === r.name)!.epochs,
      samplesPerSecond: r.samplesPerSecond,
      mae: r.mae,
      seconds: r.seconds,
    }));
  } catch (err) {
    return datasets.map((d) => ({
      engine: "keras/tf-cpu",
      dataset: d.name,
      epochs: "-",
      note: `skipped: ${(err as Error).message}`,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const head = ["engine", "dataset", "epochs", "samples/s", "test MAE", "train s", "note"];
  const body = rows.map((r) => [
    r.engine,
    r.dataset,
    String(r.epochs),
    r.samplesPerSecond ? Math.round(r.samplesPerSecond).toLocaleString("en-US") : "-",
    r.mae !== undefined ? r.mae.toFixed(3) : "-",
    r.seconds !== undefined ? r.seconds.toFixed(1) : "-",
    r.note ?? "",
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(" | ")} |`;
  return [line(head), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

function streamTable(rows: StreamRow[]): string {
  const head = ["engine", "dataset", "batch", "epochs", "samples/s", "test MAE", "peak RSS MiB", "wall s", "note"];
  const body = rows.map((r) => [
    r.engine,
    r.dataset,
    String(r.batchSize),
    String(r.epochs),
    r.samplesPerSecond ? Math.round(r.samplesPerSecond).toLocaleString("en-US") : "-",
    r.mae !== undefined ? r.mae.toFixed(3) : "-",
    r.peakRssMiB !== undefined ? String(r.peakRssMiB) : "-",
    r.wallSeconds !== undefined ? r.wallSeconds.toFixed(1) : "-",
    r.note ?? "",
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(" | ")} |`;
  return [line(head), `|${width.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

/** Backends of BENCH_BACKENDS that load here. */
async function loadable(): Promise<string[]> {
  const out: string[] = [];
  for (const b of BACKENDS)
    if (
      await selectBackend(b).then(
        () => true,
        () => false,
      )
    )
      out.push(b);
  return out;
}

async function main(): Promise<void> {
  const header = `Kiln trainer benchmark: 64-64-1 MLP, adam, mse (${os.cpus().length} CPUs, ${os.cpus()[0]?.model ?? "unknown CPU"}, node ${process.version})`;
  // The large run (and its stop-and-resume check) is the longest part: it comes last.
  const backends = PARTS.has("stream") ? await loadable() : [];
  if (PARTS.has("stream")) {
    const kerasPython = PARTS.has("keras")
      ? (() => {
          try {
            return ensureVenv();
          } catch {
            return undefined;
          }
        })()
      : undefined;
    const small = await streamingRows({
      datasets: [{ rows: STREAM_ROWS, shardRows: Math.ceil(STREAM_ROWS / 4) }],
      backends,
      batchSizes: STREAM_BATCHES,
      epochs: 1,
      kerasPython,
      diskCacheBackend: backends.includes("wasm") ? "wasm" : backends[0],
    });
    console.log(`\n${header}: the trainer streaming CSV shards from MinIO, 90/10 split, 1 epoch\n`);
    console.log(streamTable(small.rows));
    for (const n of small.notes) console.log(`  ${n}`);
  }
  await inMemory(header);
  if (PARTS.has("stream") && LARGE_ROWS > 0) {
    const large = await streamingRows({
      datasets: [{ rows: LARGE_ROWS, shardRows: 1_000_000 }],
      backends: LARGE_BACKENDS.filter((b) => backends.includes(b)),
      batchSizes: [256],
      epochs: 1,
      resumeCheck: process.env.BENCH_LARGE_RESUME !== "0",
    });
    console.log(`\n${header}: the trainer on the large set\n`);
    console.log(streamTable(large.rows));
    for (const n of large.notes) console.log(`  ${n}`);
  }
}

async function inMemory(header: string): Promise<void> {
  if (!PARTS.has("raw") && !PARTS.has("keras")) return;
  const datasets = [await autoMpg(), ...STREAM_BATCHES.map((b) => synthetic(SYNTH_ROWS, b))];
  const rows: Row[] = [];
  for (const backend of PARTS.has("raw") ? BACKENDS : []) {
    try {
      await selectBackend(backend);
    } catch (err) {
      for (const d of datasets)
        rows.push({
          engine: `tfjs ${backend}`,
          dataset: d.name,
          epochs: "-",
          note: `skipped: ${(err as Error).message.split("\n")[0]}`,
        });
      continue;
    }
    for (const d of datasets) {
      console.error(`running tfjs ${backend} on ${d.name} ...`);
      rows.push(await tfjsRow(`raw model.fit, tfjs ${backend}`, d));
    }
  }
  if (PARTS.has("keras")) {
    console.error("running keras/tf-cpu ...");
    rows.push(...kerasRows(datasets));
  }
  console.log(`\n${header}: in-memory tensors\n`);
  console.log(table(rows));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
