/**
 * Usage as the plugin and the dashboard read it: the accountant's records (accountant/), else, for a
 * run it has not recorded (no accountant in the cluster), the run's live pods without prices.
 */
import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import {
  BUDGET_STATUS_KEY,
  BUDGET_STATUS_NAME,
  POD_JOB_UID_LABEL,
  USAGE_JOB_UID_LABEL,
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
import { isJobSet, RUN_POD_SELECTOR, type RunObject } from "./runs";

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

/**
 * Records parsed once per ConfigMap object: the dashboard's informers hand the same object to every page
 * until it changes, and parsing 10,000 records took most of a runs page's own time.
 */
const parsedRecords = new WeakMap<V1ConfigMap, UsageRecord | Error>();
function cachedRecordOf(cm: V1ConfigMap): UsageRecord | Error {
  const cached = parsedRecords.get(cm);
  if (cached !== undefined) return cached;
  const r = recordOf(cm);
  parsedRecords.set(cm, r);
  return r;
}

const NO_RECORD = "no usage record (is the accountant running?): GPU-hours from live pods, not priced";
const key = (j: RunObject) => `${j.metadata?.namespace}/${j.metadata?.name}`;

async function records(api: UsageReader, namespace: string | undefined): Promise<UsageRecord[]> {
  const cms: V1ConfigMap[] = await api.listConfigMaps(namespace, `${USAGE_RECORD_LABEL}=run`);
  return cms.map(cachedRecordOf).filter((r): r is UsageRecord => !(r instanceof Error));
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

/** The one namespace all `runs` are in, else undefined (every namespace): what a list for them covers. */
export function scopeOf(runs: readonly RunObject[]): string | undefined {
  const namespaces = new Set(runs.map((j) => j.metadata?.namespace ?? "default"));
  return namespaces.size === 1 ? [...namespaces][0] : undefined;
}

/** What usage is computed from: the accountant's ConfigMaps (records; others are ignored) and the runs' pods. */
export interface UsageObjects {
  readonly configMaps: readonly V1ConfigMap[];
  readonly pods: readonly V1Pod[];
}

function groupBy<T>(items: readonly T[], keyOf: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = keyOf(t);
    if (k !== undefined) (out.get(k) ?? out.set(k, []).get(k)!).push(t);
  }
  return out;
}

/** A JobSet's usage: its records (one per attempt) plus the live pods of an attempt not recorded yet. */
function jobSetUsage(recs: readonly UsageRecord[], pods: readonly V1Pod[], now: Date): RunUsage {
  const recorded = new Set(recs.map((r) => r.uid));
  const live = spansOfPods(pods.filter((p) => !recorded.has(p.metadata?.labels?.[POD_JOB_UID_LABEL] ?? "")));
  if (recs.length === 0) return unrecorded(live, now);
  const spans = [...recs.flatMap((r) => r.spans), ...live].sort(
    (a, b) => a.start.localeCompare(b.start) || a.name.localeCompare(b.name),
  );
  const u = usageOf(spans, now, { region: recs[0].region });
  if (!live.length) return u;
  return {
    ...u,
    basis: [...u.basis, `${live.length} pod(s) of an attempt not recorded yet: counted from live pods, not priced`],
  };
}

/**
 * Usage of each run (key `namespace/name`), at `now`, from objects already read (pure). A Job's is its
 * record's. A JobSet's is the sum over every pod of the run: the records of all its child Jobs, one per group
 * restart attempt (by the JobSet's UID, so a re-used name starts from zero), plus the live pods of a child
 * Job not recorded yet. A run without a record counts its live pods, unpriced.
 */
export function usageFromObjects(runs: readonly RunObject[], objs: UsageObjects, now: Date): Map<string, RunUsage> {
  const recs = objs.configMaps
    .filter((c) => c.metadata?.labels?.[USAGE_RECORD_LABEL] === "run")
    .map(cachedRecordOf)
    .filter((r): r is UsageRecord => !(r instanceof Error));
  const byUid = new Map(recs.map((r) => [r.uid, r]));
  const byRun = groupBy(recs, runUidOf);
  const podsByJob = groupBy(objs.pods, (p) => p.metadata?.labels?.[POD_JOB_UID_LABEL]);
  const podsByJobSet = groupBy(objs.pods, (p) => p.metadata?.labels?.[JOBSET_UID_LABEL]);
  const out = new Map<string, RunUsage>();
  for (const run of runs) {
    const uid = run.metadata?.uid ?? "";
    const r = byUid.get(uid);
    if (isJobSet(run)) out.set(key(run), jobSetUsage(byRun.get(uid) ?? [], podsByJobSet.get(uid) ?? [], now));
    else if (r) out.set(key(run), r.final ? r.usage : usageOf(r.spans, now, { region: r.region }));
    else out.set(key(run), unrecorded(spansOfPods(podsByJob.get(uid) ?? []), now));
  }
  return out;
}

/**
 * Usage of each run (key `namespace/name`), at `now`: one list of records for the runs' scope (their
 * namespace, else every namespace), and one of run pods when a run needs them and `pods` are not given.
 */
export async function usageOfRuns(
  api: UsageReader,
  runs: readonly RunObject[],
  now: Date,
  pods?: readonly V1Pod[],
): Promise<Map<string, RunUsage>> {
  if (runs.length === 0) return new Map();
  const scope = scopeOf(runs);
  const configMaps = await api.listConfigMaps(scope, `${USAGE_RECORD_LABEL}=run`);
  const recorded = new Set(configMaps.map((c) => c.metadata?.labels?.[USAGE_JOB_UID_LABEL]));
  // Pods count for a JobSet (an attempt not recorded yet) and for a Job without a record.
  const needPods = runs.some((r) => isJobSet(r) || !recorded.has(r.metadata?.uid));
  const live = pods ?? (needPods ? await api.listPods(scope, RUN_POD_SELECTOR) : []);
  return usageFromObjects(runs, { configMaps, pods: live }, now);
}

/** The budget status in a kiln-budget ConfigMap, null when it has none or it is unreadable. */
export function budgetOfConfigMap(cm: V1ConfigMap | undefined): BudgetStatus | null {
  const text = cm?.data?.[BUDGET_STATUS_KEY];
  if (!text) return null;
  try {
    return JSON.parse(text) as BudgetStatus;
  } catch {
    return null;
  }
}

/** Budget status by namespace for a scope: one read of the namespace's kiln-budget, or one list for every namespace. */
export async function budgetsIn(
  api: Pick<KubeApi, "getConfigMap" | "listConfigMaps">,
  namespace: string | undefined,
): Promise<Map<string, BudgetStatus>> {
  const out = new Map<string, BudgetStatus>();
  if (namespace !== undefined) {
    const b = await budgetOf(api, namespace);
    if (b) out.set(namespace, b);
    return out;
  }
  for (const cm of await api.listConfigMaps(undefined, undefined, `metadata.name=${BUDGET_STATUS_NAME}`)) {
    const b = budgetOfConfigMap(cm);
    if (b) out.set(cm.metadata?.namespace ?? "", b);
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
