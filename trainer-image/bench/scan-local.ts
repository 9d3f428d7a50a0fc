/**
 * The statistics pass alone on local shards, CSV and Parquet alternated (median of BENCH_SCAN_ROUNDS), with
 * the load average: a quick before/after check without MinIO. Defaults to the shards bench/ingest.ts keeps in
 * $TMPDIR. MB/s are of the CSV bytes for both formats (as bench/ingest.ts reports them). CPU seconds (the process's
 * user + system time) are printed beside wall seconds: on a shared machine they move far less with the load.
 * Usage: npx ts-node --transpile-only bench/scan-local.ts [csv-dir parquet-dir]
 */
import { readdirSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveShards } from "../src/shards";
import { parseRunSpec } from "../src/spec";
import { scanDataset } from "../src/stats";

const ROUNDS = Number(process.env.BENCH_SCAN_ROUNDS ?? 5);
const retry = { deadlineSeconds: 5, sdkAttempts: 1 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

(async () => {
  const [csvDir, parquetDir] = process.argv.slice(2).length
    ? process.argv.slice(2)
    : [
        path.join(os.tmpdir(), "kiln-bench-ingest-1000000"),
        path.join(os.tmpdir(), "kiln-bench-ingest-1000000-parquet"),
      ];
  const csvBytes = readdirSync(csvDir).reduce((a, f) => a + statSync(path.join(csvDir, f)).size, 0);
  const spec = (uri: string) =>
    parseRunSpec({ dataset: { uri, target: "y", drop: ["id"] }, task: "regression", output: { uri: os.tmpdir() } });
  const engines: Record<string, string> = { CSV: `${csvDir}/*.csv`, Parquet: `${parquetDir}/*.parquet` };
  const times: Record<string, number[]> = { CSV: [], Parquet: [] };
  const cpu: Record<string, number[]> = { CSV: [], Parquet: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ["CSV", "Parquet"] : ["Parquet", "CSV"];
    for (const k of order) {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      await scanDataset(spec(engines[k]), await resolveShards(engines[k], retry));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const used = process.cpuUsage(c0);
      const c = (used.user + used.system) / 1e6;
      times[k].push(s);
      cpu[k].push(c);
      console.log(`round ${round} ${k.padEnd(8)} ${s.toFixed(2)} s, CPU ${c.toFixed(2)} s (load ${load()})`);
    }
  }
  for (const k of Object.keys(engines)) {
    const s = median(times[k]);
    const c = median(cpu[k]);
    console.log(
      `statistics pass, ${k}: median ${s.toFixed(2)} s, ${(csvBytes / 1e6 / s).toFixed(1)} MB/s; CPU ${c.toFixed(2)} s, ${(csvBytes / 1e6 / c).toFixed(1)} MB/CPU-s (load ${load()})`,
    );
  }
})();
