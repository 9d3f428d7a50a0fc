/**
 * Usage as the plugin and the dashboard read it: the accountant's records (accountant/), else, for a
 * run it has not recorded (no accountant in the cluster), the run's live pods without prices.
 */
import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import {
  BUDGET_STATUS_KEY,
  BUDGET_STATUS_NAME,
  POD_JOB_UID_LABEL,
  USAGE_MONTH_VALUE,
  USAGE_RECORD_LABEL,
} from "../../contract/accounting/keys";
import { JOBSET_UID_LABEL } from "../../contract/workload";
import type { BudgetStatus } from "../../contract/accounting/budget";
import {
  figuresInWindow,
  recordOf,
  rollupOf,
  runUidOf,
  type MonthRollup,
  type UsageRecord,
} from "../../contract/accounting/record";
import { spanOfPod, usageOf, type PodSpan, type RunUsage } from "../../contract/accounting/usage";
import type { KubeApi } from "./kube";
import { isJobSet, type RunObject } from "./runs";

export type { BudgetStatus, RunUsage };

export interface TeamUsage {
  readonly team: string;
  readonly namespace: string;
  readonly runs: number;
  readonly gpuHours: number;
  readonly usd: number | null;
  readonly kWh: number;
  readonly co2eKg: number;
  readonly budget: BudgetStatus | null;
}

/** Reads Kiln needs beyond the run verbs (a subset of KubeApi, so the dashboard can pass its own). */
export type UsageReader = Pick<KubeApi, "listConfigMaps" | "listPods" | "getConfigMap">;

const NO_RECORD = "no usage record (is the accountant running?): GPU-hours from live pods, not priced";
const key = (j: RunObject) => `${j.metadata?.namespace}/${j.metadata?.name}`;

async function records(api: UsageReader, namespace: string | undefined): Promise<UsageRecord[]> {
  const cms: V1ConfigMap[] = await api.listConfigMaps(namespace, `${USAGE_RECORD_LABEL}=run`);
  return cms.map(recordOf).filter((r): r is UsageRecord => !(r instanceof Error));
}

/** The accountant's roll-ups of finished months (their per-Job records may be pruned). */
async function rollups(api: UsageReader, namespace: string | undefined): Promise<MonthRollup[]> {
  const cms: V1ConfigMap[] = await api.listConfigMaps(namespace, `${USAGE_RECORD_LABEL}=${USAGE_MONTH_VALUE}`);
  return cms.map(rollupOf).filter((r): r is MonthRollup => !(r instanceof Error));
}

const spansOfPods = (pods: readonly V1Pod[]) =>
  pods.map((p) => spanOfPod(p, new Map())).filter((s): s is PodSpan => s !== undefined);
/** Figures from live pods only: GPU-hours without prices. */
function unrecorded(spans: readonly PodSpan[], now: Date): RunUsage {
  const u = usageOf(spans, now, { region: "unknown" });
  return { ...u, usd: u.gpuHours === 0 ? 0 : null, kWh: 0, co2eKg: 0, basis: [NO_RECORD] };
}

/**
 * Usage of each run (key `namespace/name`), at `now`. A Job's is its record's. A JobSet's is the sum
 * over every pod of the run: the records of all its child Jobs, one per group restart attempt (by the
 * JobSet's UID, so a re-used name starts from zero), plus the live pods of a child Job not recorded yet.
 */
export async function usageOfRuns(
  api: UsageReader,
  runs: readonly RunObject[],
  now: Date,
): Promise<Map<string, RunUsage>> {
  const out = new Map<string, RunUsage>();
  const namespaces = [...new Set(runs.map((j) => j.metadata?.namespace ?? "default"))];
  const byUid = new Map<string, UsageRecord>();
  const byRun = new Map<string, UsageRecord[]>();
  for (const ns of namespaces) {
    for (const r of await records(api, ns)) {
      byUid.set(r.uid, r);
      byRun.set(runUidOf(r), [...(byRun.get(runUidOf(r)) ?? []), r]);
    }
  }
  const jobs = runs.filter((r) => !isJobSet(r));
  const missing = jobs.filter((j) => !byUid.has(j.metadata?.uid ?? ""));
  const livePods = new Map<string, V1Pod[]>();
  for (const ns of new Set(missing.map((j) => j.metadata?.namespace ?? "default"))) {
    for (const p of await api.listPods(ns, POD_JOB_UID_LABEL)) {
      const uid = p.metadata?.labels?.[POD_JOB_UID_LABEL] ?? "";
      livePods.set(uid, [...(livePods.get(uid) ?? []), p]);
    }
  }
  for (const run of runs) {
    const uid = run.metadata?.uid ?? "";
    if (isJobSet(run)) {
      const recs = byRun.get(uid) ?? [];
      const recorded = new Set(recs.map((r) => r.uid));
      const pods = await api.listPods(run.metadata?.namespace ?? "default", `${JOBSET_UID_LABEL}=${uid}`);
      const live = spansOfPods(pods.filter((p) => !recorded.has(p.metadata?.labels?.[POD_JOB_UID_LABEL] ?? "")));
      if (recs.length === 0) {
        out.set(key(run), unrecorded(live, now));
        continue;
      }
      const spans = [...recs.flatMap((r) => r.spans), ...live].sort(
        (a, b) => a.start.localeCompare(b.start) || a.name.localeCompare(b.name),
      );
      const u = usageOf(spans, now, { region: recs[0].region });
      out.set(
        key(run),
        live.length
          ? {
              ...u,
              basis: [
                ...u.basis,
                `${live.length} pod(s) of an attempt not recorded yet: counted from live pods, not priced`,
              ],
            }
          : u,
      );
      continue;
    }
    const r = byUid.get(uid);
    if (r) {
      out.set(key(run), r.final ? r.usage : usageOf(r.spans, now, { region: r.region }));
      continue;
    }
    out.set(key(run), unrecorded(spansOfPods(livePods.get(uid) ?? []), now));
  }
  return out;
}

/** A team's budget status (the accountant's kiln-budget ConfigMap), or null when it has no budget. */
export async function budgetOf(api: Pick<KubeApi, "getConfigMap">, namespace: string): Promise<BudgetStatus | null> {
  try {
    const text = (await api.getConfigMap(namespace, BUDGET_STATUS_NAME)).data?.[BUDGET_STATUS_KEY];
    return text ? (JSON.parse(text) as BudgetStatus) : null;
  } catch (e) {
    if ((e as { code?: unknown }).code === 404 || e instanceof SyntaxError) return null;
    throw e;
  }
}

/** Per team: the runs with time in [since, now) and their figures in that window, plus the budget. */
export async function usageOfTeams(
  api: UsageReader,
  opts: { namespaces?: readonly string[]; team?: string; since: Date; now: Date },
): Promise<TeamUsage[]> {
  const read = async <T>(f: (api: UsageReader, ns: string | undefined) => Promise<T[]>) =>
    opts.namespaces ? (await Promise.all(opts.namespaces.map((ns) => f(api, ns)))).flat() : await f(api, undefined);
  const [all, months] = await Promise.all([read(records), read(rollups)]);
  const teams = new Map<string, { namespace: string; recs: UsageRecord[]; months: MonthRollup[] }>();
  const teamOf = (name: string, namespace: string) =>
    teams.get(name) ?? teams.set(name, { namespace, recs: [], months: [] }).get(name)!;
  for (const r of all) if (!opts.team || r.team === opts.team) teamOf(r.team, r.namespace).recs.push(r);
  for (const m of months) if (!opts.team || m.team === opts.team) teamOf(m.team, m.namespace).months.push(m);
  const out: TeamUsage[] = [];
  for (const [team, { namespace, recs, months: rolled }] of [...teams].sort(([a], [b]) => a.localeCompare(b))) {
    // Months the accountant rolled up come from their roll-ups (their per-Job records may be pruned).
    const { figures, runs } = figuresInWindow(recs, rolled, opts.since, opts.now);
    out.push({ team, namespace, runs, ...figures, budget: await budgetOf(api, namespace) });
  }
  return out;
}

/** `7d`, `24h`, `90m` or `month` (the current calendar month, UTC) -> the start of the window. */
export function parseSince(text: string, now: Date): Date | undefined {
  if (text === "month") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const m = /^(\d{1,5})(m|h|d)$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"];
  return new Date(now.getTime() - ms);
}

/** `1.25`, `0.0222`: GPU-hours with enough digits to show a short simulated run. */
export function formatGpuHours(h: number): string {
  if (h === 0) return "0";
  return h >= 10 ? h.toFixed(1) : h >= 0.1 ? h.toFixed(2) : h.toPrecision(2);
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return "?";
  if (usd === 0) return "$0";
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}
