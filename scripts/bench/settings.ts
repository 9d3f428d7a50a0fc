/**
 * The cluster bench's knobs (BENCH_* in the environment), read and checked once: every bad value is named
 * at once. scripts/bench/cluster.sh checks them with this file before it makes anything, and repeats the
 * defaults for its own use (a test ties the two).
 */
import * as path from "node:path";

export interface BenchSettings {
  readonly runs: number;
  readonly nodes: number;
  readonly gpusPerNode: number;
  readonly pools: number;
  readonly teams: number;
  readonly multiNodeShare: number;
  readonly hold: boolean;
  readonly concurrency: number;
  readonly runSeconds: number;
  readonly accountant: boolean;
  readonly accountantInterval: number;
  readonly dashboard: boolean;
  readonly timeoutSeconds: number;
  readonly outDir: string;
  readonly kilnDir: string;
  readonly seed: number;
}

/** Each knob's environment variable and default (the full size that finishes on a 2-core machine). */
export const BENCH_KNOBS = {
  runs: ["BENCH_RUNS", 10_000],
  nodes: ["BENCH_NODES", 1000],
  gpusPerNode: ["BENCH_GPUS", 8],
  pools: ["BENCH_POOLS", 2],
  teams: ["BENCH_TEAMS", 4],
  multiNodeShare: ["BENCH_MULTI_NODE_SHARE", 0.05],
  hold: ["BENCH_HOLD", true],
  concurrency: ["BENCH_CONCURRENCY", 32],
  runSeconds: ["BENCH_RUN_SECONDS", 600],
  accountant: ["BENCH_ACCOUNTANT", true],
  accountantInterval: ["BENCH_ACCOUNTANT_INTERVAL", 30],
  dashboard: ["BENCH_DASHBOARD", true],
  timeoutSeconds: ["BENCH_TIMEOUT", 7200],
  seed: ["BENCH_SEED", 24],
} as const satisfies Record<string, readonly [string, number | boolean]>;

type Knob = keyof typeof BENCH_KNOBS;

export class BenchSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`bad bench settings:\n  ${problems.join("\n  ")}`);
  }
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const problems: string[] = [];
  /** The knob's value as `parse` reads it, its default when unset or empty, else a problem naming it. */
  const knob = <T>(k: Knob, parse: (v: string) => T | undefined, expected: string): T => {
    const [name, fallback] = BENCH_KNOBS[k];
    const v = env[name];
    if (v === undefined || v === "") return fallback as T;
    const parsed = parse(v);
    if (parsed !== undefined) return parsed;
    problems.push(`${name}=${v}: expected ${expected}`);
    return fallback as T;
  };
  const int = (k: Knob) =>
    knob(k, (v) => (Number.isInteger(Number(v)) && Number(v) > 0 ? Number(v) : undefined), "a positive integer");
  const bool = (k: Knob) => knob(k, (v) => (v === "true" || v === "false" ? v === "true" : undefined), "true or false");
  const fraction = (k: Knob) =>
    knob(
      k,
      (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 1 ? Number(v) : undefined),
      "a fraction from 0 to 1",
    );
  const kilnDir = env.KILN_DIR ?? path.resolve(__dirname, "../../.kiln");
  const s: BenchSettings = {
    runs: int("runs"),
    nodes: int("nodes"),
    gpusPerNode: int("gpusPerNode"),
    pools: int("pools"),
    teams: int("teams"),
    multiNodeShare: fraction("multiNodeShare"),
    hold: bool("hold"),
    concurrency: int("concurrency"),
    runSeconds: int("runSeconds"),
    accountant: bool("accountant"),
    accountantInterval: int("accountantInterval"),
    dashboard: bool("dashboard"),
    timeoutSeconds: int("timeoutSeconds"),
    outDir: env.BENCH_OUT_DIR || path.join(kilnDir, "bench"),
    kilnDir,
    seed: int("seed"),
  };
  if (s.pools > s.nodes) problems.push(`BENCH_POOLS=${s.pools}: more pools than nodes (BENCH_NODES=${s.nodes})`);
  if (problems.length) throw new BenchSettingsError(problems);
  return s;
}

if (require.main === module) {
  try {
    settingsFromEnv();
  } catch (e) {
    process.stderr.write(`bench:cluster: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
