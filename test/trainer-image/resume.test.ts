/**
 * Whole runs (in process) over sharded local data: stopped mid-epoch, with a shuffle buffer smaller than
 * the data, and resumed: the final weights, test metrics and every epoch's loss equal an uninterrupted run's.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { runTraining } from "../../trainer-image/src/run";
import { parseRunSpec, type RunSpec } from "../../trainer-image/src/spec";
import { writeParquetBuffer } from "../../trainer-image/src/parquet-write";
import { testBackends } from "./backends";

jest.setTimeout(120_000);

let dir: string;
let data: string;
let parquet: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-resume-"));
  data = path.join(dir, "data");
  parquet = path.join(dir, "parquet");
  mkdirSync(data);
  mkdirSync(parquet);
  // y = 2 a - b + (c == "q" ? 1 : 0) + small noise; 4 shards of 600 rows, one gzipped.
  for (let s = 0; s < 4; s++) {
    const lines = ["a,b,c,y"];
    for (let i = 0; i < 600; i++) {
      const r = s * 600 + i;
      const a = Math.sin(r * 0.37);
      const b = Math.cos(r * 0.11);
      const c = ["p", "q", "r"][r % 3];
      lines.push(
        `${a.toFixed(4)},${b.toFixed(4)},${c},${(2 * a - b + (c === "q" ? 1 : 0) + 0.01 * Math.sin(r)).toFixed(4)}`,
      );
    }
    const text = `${lines.join("\n")}\n`;
    if (s === 2) writeFileSync(path.join(data, `part-${s}.csv.gz`), gzipSync(text));
    else writeFileSync(path.join(data, `part-${s}.csv`), text);
    // The same shard as Parquet, in row groups of 128 rows (a stop lands inside one), one shard gzipped.
    const rows = lines.slice(1).map((l) => l.split(","));
    const col = (i: number) => rows.map((r) => (i === 2 ? r[i] : Number(r[i])));
    const columnData = ["a", "b", "c", "y"].map((name, i) => ({
      name,
      data: col(i),
      type: i === 2 ? ("STRING" as const) : ("DOUBLE" as const),
    }));
    writeFileSync(
      path.join(parquet, `part-${s}.parquet`),
      Buffer.from(writeParquetBuffer({ columnData, rowGroupSize: 128, codec: s === 2 ? "gzip" : "snappy" })),
    );
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const specOf = (runId: string, format = "csv"): RunSpec & { runId: string } =>
  parseRunSpec({
    runId,
    dataset: {
      uri: format === "csv" ? `${data}/part-*` : `${parquet}/`,
      target: "y",
      categorical: ["c"],
      shuffleBuffer: 300,
    },
    task: "regression",
    split: { test: 0.15, validation: 0.15, seed: 4 },
    model: { layers: [{ units: 16, activation: "relu" }] },
    training: { optimizer: { name: "adam", learningRate: 0.01 }, epochs: 4, batchSize: 32, seed: 8 },
    output: { uri: path.join(dir, "runs") },
  }) as RunSpec & { runId: string };

const weights = (runId: string) =>
  Array.from(
    new Float32Array(new Uint8Array(readFileSync(path.join(dir, "runs", runId, "model", "weights.bin"))).buffer),
  );
const metrics = (runId: string) => JSON.parse(readFileSync(path.join(dir, "runs", runId, "metrics.json"), "utf8"));
const quiet = () => undefined;

// The main thread parses for wasm, a worker thread for cpu (tensorflow: sharded-process.test.ts).
const cases = ["csv", "parquet"].flatMap((format) => testBackends().map((b) => [format, b, b === "wasm" ? "0" : "1"]));
test.each(cases)(
  "a sharded %s run stopped mid-epoch and resumed ends with the uninterrupted run's weights (%s, KILN_PARSE_WORKER=%s)",
  async (format, backend, worker) => {
    const env = { KILN_BACKEND: backend, KILN_PARSE_WORKER: worker };
    const spec = (runId: string) => specOf(runId, format);
    // Run ids (and so output prefixes) per format and backend.
    backend = `${format}-${backend}`;
    const ref = await runTraining(spec(`ref-${backend}`), { env, log: quiet });
    expect(ref.status).toBe("succeeded");

    // Stop after 70 training batches: epoch 2 (about 53 batches per epoch), with the shuffle buffer part-full.
    let training = false;
    let polls = 0;
    const lines: Record<string, unknown>[] = [];
    const log = (l: Record<string, unknown>) => {
      lines.push(l);
      if (l.event === "data") training = true;
    };
    const first = await runTraining(spec(`stop-${backend}`), { env, log, shouldStop: () => training && ++polls >= 70 });
    expect(first.status).toBe("interrupted");
    const stop = lines.find((l) => l.event === "interrupted")!;
    expect(stop).toMatchObject({ epoch: 1 });
    expect(stop.batch as number).toBeGreaterThan(0);
    const manifest = JSON.parse(
      readFileSync(path.join(dir, "runs", `stop-${backend}`, "checkpoints", "latest.json"), "utf8"),
    );
    // The buffer is topped up before each pick, so after a batch it holds all but the row just taken.
    expect(manifest.state.stream).toEqual({
      shard: expect.any(Number),
      record: expect.any(Number),
      rng: expect.any(Number),
      size: 299,
    });
    expect(manifest.groups.stream.map((g: { name: string }) => g.name)).toEqual(["x", "y"]);

    const resumedLines: Record<string, unknown>[] = [];
    const second = await runTraining(spec(`stop-${backend}`), { env, log: (l) => resumedLines.push(l) });
    expect(second.status).toBe("succeeded");
    expect(resumedLines.find((l) => l.event === "resume")).toMatchObject({ epoch: 1, batch: stop.batch });

    expect(weights(`stop-${backend}`)).toEqual(weights(`ref-${backend}`));
    const [a, b] = [metrics(`ref-${backend}`), metrics(`stop-${backend}`)];
    expect(b.test).toEqual(a.test);
    const losses = (m: { history: { loss: number; val_loss: number }[] }) => m.history.map((h) => [h.loss, h.val_loss]);
    expect(losses(b)).toEqual(losses(a));
    expect(a.rows).toMatchObject({ read: 2400, dropped: 0 });
    // The run's wall time covers the statistics pass as well as training.
    expect(a.wallSeconds).toBeGreaterThanOrEqual(a.scanSeconds + a.trainSeconds);
    expect(a.scanSeconds).toBeGreaterThan(0);
  },
);
