/**
 * Where the trainer's read time goes, on one local CSV (default: 1M synthetic rows, ~92 MB, made once in
 * $TMPDIR): a raw read of the file, csv-parse alone, pass 1 (statistics) and pass 2 (float32 chunks of the
 * training rows), each in MB/s and rows/s. Usage: npx ts-node --transpile-only bench/passes.ts [file.csv target]
 */
import { createReadStream, existsSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodedChunks } from "../src/chunks";
import { csvBatches } from "../src/data";
import { mulberry32 } from "../src/rng";
import { resolveShards } from "../src/shards";
import { parseRunSpec } from "../src/spec";
import { scanDataset } from "../src/stats";

const retry = { deadlineSeconds: 5, sdkAttempts: 1 };

function synthetic(file: string, rows: number): void {
  const rand = mulberry32(1);
  const out: string[] = ["id,x0,x1,x2,x3,x4,x5,x6,x7,y"];
  for (let r = 0; r < rows; r++)
    out.push(`${r},${Array.from({ length: 9 }, () => (rand() * 2 - 1).toFixed(6)).join(",")}`);
  writeFileSync(file, `${out.join("\n")}\n`);
}

async function timed<T>(name: string, bytes: number, rowsOf: () => number, f: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const out = await f();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const rows = rowsOf();
  console.log(
    `${name.padEnd(34)} ${s.toFixed(2).padStart(7)} s ${(bytes / 1e6 / s).toFixed(1).padStart(8)} MB/s ${Math.round(
      rows / s,
    )
      .toLocaleString("en-US")
      .padStart(11)} rows/s`,
  );
  return out;
}

(async () => {
  let [file, target] = process.argv.slice(2);
  if (!file) {
    file = path.join(os.tmpdir(), "kiln-bench-passes-1m.csv");
    target = "y";
    if (!existsSync(file)) synthetic(file, 1_000_000);
  }
  const bytes = statSync(file).size;
  const spec = parseRunSpec({
    dataset: { uri: file, target: target ?? "y", drop: target ? [] : ["id"] },
    task: "regression",
    output: { uri: os.tmpdir() },
  });
  const shards = await resolveShards(spec.dataset.uri, retry);
  let rows = 0;
  await timed(
    "raw read",
    bytes,
    () => 0,
    async () => {
      for await (const c of createReadStream(file)) void c;
    },
  );
  await timed(
    "csv-parse (records only)",
    bytes,
    () => rows,
    async () => {
      for await (const b of csvBatches(createReadStream(file), file, false)) rows += b.length;
    },
  );
  const scan = await timed(
    "pass 1: statistics",
    bytes,
    () => rows,
    () => scanDataset(spec, shards),
  );
  await timed(
    "pass 2: train rows to float32",
    bytes,
    () => rows,
    async () => {
      const job = {
        shards: shards.map((s) => s.uri),
        columns: scan.columns,
        pre: scan.pre,
        split: spec.split,
        part: "train" as const,
        chunkRows: 4096,
        startShard: 0,
        skip: 0,
        retry,
        env: {},
      };
      for await (const c of encodedChunks(job, shards)) void c;
    },
  );
})();
