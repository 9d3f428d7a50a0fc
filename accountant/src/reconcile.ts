/**
 * One pass of the accountant: for every team, bring each Job's usage record up to date from its pods,
 * sum the month, write the team's budget status and hold or release its ClusterQueue.
 */
import type { V1ConfigMap, V1Job, V1Node, V1Pod } from "@kubernetes/client-node";
import pLimit from "p-limit";
import type { Gone, NamespaceView } from "./cache";
import { BUDGET_STATUS_KEY, BUDGET_STATUS_NAME, POD_JOB_UID_LABEL } from "../../contract/accounting/keys";
import { JOBSET_UID_LABEL } from "../../contract/workload";
import { budgetStatus, periodOf, type BudgetStatus } from "../../contract/accounting/budget";
import {
  isRollup,
  recordConfigMap,
  recordOf,
  rollupConfigMap,
  rollupOf,
  type MonthRollup,
  type UsageRecord,
} from "../../contract/accounting/record";
import { planRetention } from "./retention";
import type { Settings, TeamSettings } from "../../contract/accounting/settings";
import { mergeSpans, spanOfPod, sumFigures, usageOf, type PodSpan } from "../../contract/accounting/usage";
import { PART_OF, PART_OF_LABEL, RUN_LABEL } from "../../contract/labels";

/**
 * Every call the accountant makes; RBAC in infra/cluster/accountant.ts grants exactly these. Reads come from
 * memory (cache.ts: watches), writes go to the API.
 */
export interface AccountantApi {
  /** Nodes by name. */
  nodes(): ReadonlyMap<string, V1Node>;
  /** The namespace's Jobs, pods and usage records, and the Jobs and pods gone since they were last recorded. */
  view(namespace: string): NamespaceView;
  /** The gone Jobs and pods of `view` are recorded: keep them no longer. */
  forget(namespace: string, view: Pick<NamespaceView, "goneJobs" | "gonePods">): void;
  /** Creates or replaces a ConfigMap. */
  putConfigMap(namespace: string, cm: V1ConfigMap): Promise<void>;
  /** Deletes a ConfigMap; one already gone is no error. */
  deleteConfigMap(namespace: string, name: string): Promise<void>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /** The ClusterQueue's stopPolicy and the accountant's hold annotation (undefined when absent). */
  getQueueHold(name: string): Promise<{ stopPolicy: string; heldFor?: string }>;
  /** Sets stopPolicy Hold with the reason, or None and removes the annotation. */
  setQueueHold(name: string, reason: string | null): Promise<void>;
}

export interface TeamOutcome {
  readonly team: string;
  /** Jobs and pods the pass saw (live and gone), and the records it read. */
  readonly seen?: { readonly jobs: number; readonly pods: number; readonly records: number };
  readonly recordsWritten: number;
  /** Months rolled up this pass (`2026-11`), and per-Job records pruned. */
  readonly rolledUp?: string[];
  readonly pruned?: number;
  readonly budget: BudgetStatus | null;
  /** `held`, `released` or undefined (no change). */
  readonly queue?: "held" | "released";
  readonly problems: string[];
}

/**
 * The run a Job belongs to: a JobSet's child Job (recreated on every group restart) counts towards its
 * JobSet, by the JobSet's UID; any other Job is its own run.
 */
export function runOfJob(job: V1Job): { run: string; runUid: string } {
  const labels = job.metadata?.labels ?? {};
  return { run: labels[RUN_LABEL] ?? job.metadata!.name!, runUid: labels[JOBSET_UID_LABEL] ?? job.metadata!.uid! };
}

function newRecord(job: V1Job, team: TeamSettings, region: string, now: Date): UsageRecord {
  return {
    version: 1,
    job: job.metadata!.name!,
    uid: job.metadata!.uid!,
    ...runOfJob(job),
    namespace: team.namespace,
    team: team.name,
    region,
    created: new Date(job.metadata?.creationTimestamp ?? now).toISOString(),
    spans: [],
    updated: now.toISOString(),
    usage: { gpuHours: 0, usd: 0, kWh: 0, co2eKg: 0, pool: null, instanceType: null, capacityType: null, basis: [] },
  };
}

const sameSpans = (a: readonly PodSpan[], b: readonly PodSpan[]) => JSON.stringify(a) === JSON.stringify(b);

/** Records parsed once per ConfigMap object (the cache keeps the same object until it changes). */
const parsed = new WeakMap<V1ConfigMap, UsageRecord | Error>();
const parse = (cm: V1ConfigMap) => parsed.get(cm) ?? parsed.set(cm, recordOf(cm)).get(cm)!;
const parsedRollups = new WeakMap<V1ConfigMap, MonthRollup | Error>();
const parseRollup = (cm: V1ConfigMap) => parsedRollups.get(cm) ?? parsedRollups.set(cm, rollupOf(cm)).get(cm)!;

/** A pod that went away: its span, closed when its going was seen if it was still open. */
function goneSpan(g: Gone<V1Pod>, nodes: ReadonlyMap<string, V1Node>): PodSpan | undefined {
  const s = spanOfPod(g.obj, nodes);
  return s && s.end === null ? { ...s, end: g.goneAt, endEstimated: true } : s;
}

/** Gone pods of an unknown Job are kept this long, in case the Job's own event is late. */
const ORPHAN_GRACE_MS = 10 * 60_000;

function group<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    if (k !== undefined) out.set(k, [...(out.get(k) ?? []), t]);
  }
  return out;
}

async function reconcileTeam(
  api: AccountantApi,
  settings: Settings,
  team: TeamSettings,
  nodes: ReadonlyMap<string, V1Node>,
  now: Date,
): Promise<TeamOutcome> {
  const problems: string[] = [];
  const view = api.view(team.namespace);
  const records = new Map<string, UsageRecord>();
  const rolledUp = new Set<string>();
  for (const cm of view.records) {
    if (isRollup(cm)) {
      const m = parseRollup(cm);
      if (m instanceof Error) problems.push(m.message);
      else rolledUp.add(m.month);
      continue;
    }
    const r = parse(cm);
    if (r instanceof Error) problems.push(r.message);
    else records.set(r.uid, r);
  }
  const jobUid = (p: V1Pod) => p.metadata?.labels?.[POD_JOB_UID_LABEL];
  const livePods = group(view.pods, jobUid);
  const gonePods = group(view.gonePods, (g) => jobUid(g.obj));
  const liveJobs = new Set(view.jobs.map((j) => j.metadata?.uid));
  const goneJobs = new Map(
    view.goneJobs.filter((g) => !liveJobs.has(g.obj.metadata?.uid)).map((g) => [g.obj.metadata!.uid!, g]),
  );
  const iso = now.toISOString();
  let written = 0;
  const limit = pLimit(settings.writeConcurrency);
  const writes: Promise<void>[] = [];
  const write = (r: UsageRecord) => {
    records.set(r.uid, r);
    writes.push(
      limit(async () => {
        await api.putConfigMap(team.namespace, recordConfigMap(r));
        written++;
      }),
    );
  };
  const seen = new Set<string>();
  const settled: Gone<V1Job>[] = [];
  for (const job of [...view.jobs, ...[...goneJobs.values()].map((g) => g.obj)]) {
    const uid = job.metadata?.uid;
    if (!uid || !job.metadata?.name) continue;
    seen.add(uid);
    const gone = goneJobs.get(uid);
    // A deleted Job whose pods still run (they are deleted after it) stays open until they go.
    const final = gone !== undefined && !livePods.has(uid);
    const old = records.get(uid) ?? newRecord(job, team, settings.region, now);
    if (old.final) {
      if (gone) settled.push(gone);
      continue;
    }
    const observed = [
      ...(livePods.get(uid) ?? []).map((p) => spanOfPod(p, nodes)),
      ...(gonePods.get(uid) ?? []).map((g) => goneSpan(g, nodes)),
    ].filter((s): s is PodSpan => s !== undefined);
    // A Job no pod of which was ever scheduled used nothing: no record (at 10,000 queued runs, 10,000 writes).
    if (!records.has(uid) && observed.length === 0) {
      if (final) settled.push(gone);
      continue;
    }
    const run = runOfJob(job);
    if (final) {
      const spans = mergeSpans(old.spans, observed, gone.goneAt);
      write({
        ...old,
        ...run,
        spans,
        final: true,
        updated: gone.goneAt,
        usage: usageOf(spans, new Date(gone.goneAt), { region: settings.region }),
      });
      settled.push(gone);
      continue;
    }
    const spans = mergeSpans(old.spans, observed, old.updated);
    const open = spans.some((s) => s.end === null);
    // A record is rewritten when its spans change, and while a span is open, every openRecordRefreshSeconds.
    const runChanged = old.run !== run.run || old.runUid !== run.runUid;
    if (
      !records.has(uid) ||
      runChanged ||
      !sameSpans(spans, old.spans) ||
      (open && now.getTime() - Date.parse(old.updated) >= settings.openRecordRefreshSeconds * 1000)
    ) {
      write({ ...old, ...run, spans, updated: iso, usage: usageOf(spans, now, { region: settings.region }) });
    }
  }
  for (const r of [...records.values()]) {
    if (seen.has(r.uid) || r.final) continue;
    // The Job went while nothing watched (the accountant was down): close what it still held at the last time it was seen. Final.
    const spans = mergeSpans(r.spans, [], r.updated);
    write({ ...r, spans, final: true, usage: usageOf(spans, new Date(r.updated), { region: settings.region }) });
  }
  // Every write is tried; the first failure fails the team's pass (and nothing gone is forgotten).
  const results = await Promise.allSettled(writes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  const orphanBefore = now.getTime() - ORPHAN_GRACE_MS;
  api.forget(team.namespace, {
    goneJobs: settled,
    gonePods: view.gonePods.filter((g) => seen.has(jobUid(g.obj) ?? "") || Date.parse(g.goneAt) < orphanBefore),
  });

  // Retention: finished months roll up first; then old final records of those months go.
  const liveRuns = new Set(view.jobs.map((j) => runOfJob(j).runUid));
  const plan = planRetention(team, [...records.values()], rolledUp, liveRuns, settings.recordRetentionDays, now);
  for (const m of plan.rollups) await api.putConfigMap(team.namespace, rollupConfigMap(m));
  await Promise.all(
    plan.prune.map((r) => limit(() => api.deleteConfigMap(team.namespace, recordConfigMap(r).metadata!.name!))),
  );
  for (const r of plan.prune) records.delete(r.uid);
  const seenCounts = { jobs: seen.size, pods: view.pods.length + view.gonePods.length, records: records.size };
  const kept = { rolledUp: plan.rollups.map((m) => m.month), pruned: plan.prune.length };
  if (!team.budget || !team.clusterQueue)
    return { team: team.name, seen: seenCounts, recordsWritten: written, ...kept, budget: null, problems };
  const period = periodOf(now);
  const spend = sumFigures(
    [...records.values()].map((r) =>
      usageOf(r.spans, r.final ? new Date(r.updated) : now, {
        region: settings.region,
        from: period.from,
        to: period.to,
      }),
    ),
  );
  const status = budgetStatus(team.name, team.budget, period, spend);
  const text = JSON.stringify(status);
  const current = await api.getConfigMap(team.namespace, BUDGET_STATUS_NAME);
  if (current?.data?.[BUDGET_STATUS_KEY] !== text) {
    await api.putConfigMap(team.namespace, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: BUDGET_STATUS_NAME,
        namespace: team.namespace,
        labels: { [PART_OF_LABEL]: PART_OF, "app.kubernetes.io/component": "budget-status" },
      },
      data: { [BUDGET_STATUS_KEY]: text },
    });
  }
  const hold = await api.getQueueHold(team.clusterQueue);
  let queue: TeamOutcome["queue"];
  if (status.held && (hold.stopPolicy !== "Hold" || hold.heldFor !== status.reason)) {
    // Never loosen an operator's HoldAndDrain; a plain Hold is refreshed with the current reason.
    if (hold.stopPolicy !== "HoldAndDrain") {
      await api.setQueueHold(team.clusterQueue, status.reason);
      if (hold.stopPolicy !== "Hold") queue = "held";
    }
  } else if (!status.held && hold.heldFor !== undefined) {
    // Only a hold the accountant made is released: an operator's own Hold has no annotation.
    await api.setQueueHold(team.clusterQueue, null);
    queue = "released";
  }
  return { team: team.name, seen: seenCounts, recordsWritten: written, ...kept, budget: status, queue, problems };
}

/** One pass over every team. A team that fails is reported and does not stop the others. */
export async function reconcile(api: AccountantApi, settings: Settings, now: Date): Promise<TeamOutcome[]> {
  const nodes = api.nodes();
  const out: TeamOutcome[] = [];
  for (const team of settings.teams) {
    try {
      out.push(await reconcileTeam(api, settings, team, nodes, now));
    } catch (e) {
      out.push({
        team: team.name,
        recordsWritten: 0,
        budget: null,
        problems: [`team ${team.name}: ${(e as Error).message}`],
      });
    }
  }
  return out;
}
