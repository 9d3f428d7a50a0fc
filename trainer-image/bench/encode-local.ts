/**
 * Pass 2 alone (training rows encoded into float32 chunks, encodedChunks) on local CSV shards, median of
 * BENCH_ENCODE_ROUNDS, with the load average and CPU seconds (user + system: on a shared machine they move far
 * less with the load than wall seconds). The statistics pass runs once first, untimed, for the preprocessing.
 * A checksum of every chunk's bits is printed, so a before/after pair can be seen to encode the same rows.
 * Defaults to the shards bench/ingest.ts keeps in $TMPDIR.
 * Usage: npx ts-node --transpile-only bench/encode-local.ts [csv-dir [target task [categorical,columns]]]
 * (default: target y, regression, no categorical column; the id column is dropped).
 */
import { readdirSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { encodedChunks } from "../src/chunks";
import { resolveShards } from "../src/shards";
import { parseRunSpec } from "../src/spec";
import { scanDataset } from "../src/stats";

const ROUNDS = Number(process.env.BENCH_ENCODE_ROUNDS ?? 3);
const retry = { deadlineSeconds: 5, sdkAttempts: 1 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** FNV-style checksum over the bits of a float32 array. */
function checksum(h: number, a: Float32Array): number {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i], 0x01000193);
  return h >>> 0;
}

(async () => {
  const [dirArg, target = "y", task = "regression", categorical = ""] = process.argv.slice(2);
  const csvDir = dirArg ?? path.join(os.tmpdir(), "kiln-bench-ingest-1000000");
  const bytes = readdirSync(csvDir).reduce((a, f) => a + statSync(path.join(csvDir, f)).size, 0);
  const uri = `${csvDir}/*.csv`;
  const spec = parseRunSpec({
    dataset: { uri, target, drop: ["id"], categorical: categorical ? categorical.split(",") : [] },
    task,
    output: { uri: os.tmpdir() },
  });
  const shards = await resolveShards(uri, retry);
  const scan = await scanDataset(spec, shards);
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
  const times: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let rows = 0;
    let sum = 0x811c9dc5;
    for await (const c of encodedChunks(job, shards)) {
      rows += c.rows;
      sum = checksum(checksum(sum, c.x), c.y);
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const used = process.cpuUsage(c0);
    const c = (used.user + used.system) / 1e6;
    times.push(s);
    cpu.push(c);
    console.log(
      `round ${round}: ${s.toFixed(2)} s, CPU ${c.toFixed(2)} s, ${rows} rows, checksum ${sum.toString(16)} (load ${load()})`,
    );
  }
  const s = median(times);
  const c = median(cpu);
  console.log(
    `pass 2, CSV: median ${s.toFixed(2)} s, ${(bytes / 1e6 / s).toFixed(1)} MB/s; CPU ${c.toFixed(2)} s (load ${load()})`,
  );
})();
