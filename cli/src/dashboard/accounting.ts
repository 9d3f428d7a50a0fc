/**
 * The accounting the dashboard shows (per-run GPU-hours, dollars, energy; team usage against budget),
 * injected so the server can be tested with fakes. The types are those of cli/src/usage.ts.
 */
import type { V1Job } from "@kubernetes/client-node";
import type { KubeApi } from "../kube";

export interface RunUsage {
  gpuHours: number;
  usd: number | null;
  kWh: number;
  co2eKg: number;
  pool: string | null;
  instanceType: string | null;
  capacityType: string | null;
  /** Caveats, e.g. "simulated pod times (KWOK node)", "full board power assumed". */
  basis: string[];
}

export interface BudgetStatus {
  unit: "gpuHours" | "usd";
  limit: number;
  spent: number;
  /** Calendar month, e.g. 2026-12. */
  period: string;
  held: boolean;
  reason: string | null;
}

export interface TeamUsage {
  team: string;
  namespace: string;
  runs: number;
  gpuHours: number;
  usd: number | null;
  kWh: number;
  co2eKg: number;
  budget: BudgetStatus | null;
}

export interface Accounting {
  /** Keyed by `${namespace}/${name}`. */
  usageOfRuns(api: KubeApi, jobs: readonly V1Job[], now: Date): Promise<Map<string, RunUsage>>;
  usageOfTeams(api: KubeApi, opts: { namespaces?: readonly string[]; since: Date; now: Date }): Promise<TeamUsage[]>;
}

/** Start of the calendar month (UTC) of `now`: the budget period. */
export const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
