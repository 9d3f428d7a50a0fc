/**
 * The accounting the dashboard shows (per-run GPU-hours, dollars, energy; team usage against budget):
 * cli/src/usage.ts in production, injected so the server can be tested with fakes.
 */
import type { RunObject } from "../runs";
import type { RunUsage, TeamUsage, UsageReader } from "../usage";

export type { BudgetStatus, RunUsage, TeamUsage } from "../usage";

export interface Accounting {
  /** Keyed by `${namespace}/${name}`. */
  usageOfRuns(api: UsageReader, jobs: readonly RunObject[], now: Date): Promise<Map<string, RunUsage>>;
  usageOfTeams(
    api: UsageReader,
    opts: { namespaces?: readonly string[]; since: Date; now: Date },
  ): Promise<TeamUsage[]>;
}

/** Start of the calendar month (UTC) of `now`: the budget period. */
export const monthStart = (now: Date) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
