/**
 * Runs as the dashboard lists them: a Job joined with its Kueue Workload (queue position, the reason it
 * waits, the admitted flavor) and filtered and paged on the server. Pure: tested with fixed objects.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { BUDGET_HOLD_ANNOTATION } from "../../../contract/accounting/keys";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../../contract/gpu";

import { completionsOf, runPhase, runStatus, sortJobs, type RunPhase } from "../rows";
import { gpusPerPod, isJobSet, jobSpecOf, nodesOf, restartsOf, type RunObject } from "../runs";
import { conditionOf, isTrue, type ClusterQueue, type LocalQueue, type Workload } from "./kueue";
import { QUEUE_LABEL } from "../../../contract/labels";

export interface RunRow {
  readonly namespace: string;
  readonly name: string;
  readonly phase: RunPhase;
  /** Phase plus sweep progress ("Running 2/6"). */
  readonly status: string;
  /** LocalQueue (the Job's queue-name label). */
  readonly queue: string | null;
  readonly clusterQueue: string | null;
  /** 1-based place among the ClusterQueue's waiting workloads (priority, then age), null when not waiting. */
  readonly position: number | null;
  readonly waitReason: string | null;
  /** GPUs per pod. */
  readonly gpus: number;
  /** Pods the run completes (sweep points). */
  readonly completions: number;
  /** `Job` (Kiln's trainer) or `JobSet` (your image). */
  readonly kind: "Job" | "JobSet";
  /** Nodes of a JobSet run (one pod each), 1 for a Job. */
  readonly nodes: number;
  /** Group restarts of a JobSet run (status.restarts), 0 for a Job. */
  readonly restarts: number;
  readonly pool: string | null;
  readonly created: string | null;
}

export const PHASES: readonly RunPhase[] = ["Running", "Queued", "Pending", "Suspended", "Succeeded", "Failed"];

const key = (ns: string | undefined, name: string | undefined) => `${ns}/${name}`;
const iso = (t: Date | string | undefined) => (t === undefined ? null : new Date(t).toISOString());

/** The Workload Kueue made for each run (owner reference by uid; by kind and name for a run without one), keyed by namespace/name. */
export function workloadsByJob(jobs: readonly RunObject[], workloads: readonly Workload[]): Map<string, Workload> {
  const byUid = new Map<string, Workload>();
  const byName = new Map<string, Workload>();
  for (const w of workloads) {
    for (const o of w.metadata.ownerReferences ?? []) {
      // A JobSet is admitted as one Workload owned by the JobSet; its child Jobs get none.
      if (o.kind !== "Job" && o.kind !== "JobSet") continue;
      byUid.set(o.uid, w);
      byName.set(`${o.kind}:${key(w.metadata.namespace, o.name)}`, w);
    }
  }
  const out = new Map<string, Workload>();
  for (const j of jobs) {
    const k = key(j.metadata?.namespace, j.metadata?.name);
    // By uid: a Job deleted and created again under the same name must not inherit the old Workload.
    const w = j.metadata?.uid ? byUid.get(j.metadata.uid) : byName.get(`${isJobSet(j) ? "JobSet" : "Job"}:${k}`);
    if (w) out.set(k, w);
  }
  return out;
}

const waiting = (w: Workload) =>
  !isTrue(w.status?.conditions, "QuotaReserved") &&
  !isTrue(w.status?.conditions, "Admitted") &&
  !isTrue(w.status?.conditions, "Finished");

/**
 * Place of each waiting Workload in its ClusterQueue, keyed by namespace/name of the Workload: higher
 * priority first, then older (Kueue's BestEffortFIFO/StrictFIFO order without evictions).
 */
export function queuePositions(
  workloads: readonly Workload[],
  clusterQueueOf: (w: Workload) => string | null,
): Map<string, number> {
  const groups = new Map<string, Workload[]>();
  for (const w of workloads) {
    const cq = clusterQueueOf(w);
    if (!cq || !waiting(w)) continue;
    (groups.get(cq) ?? groups.set(cq, []).get(cq)!).push(w);
  }
  const out = new Map<string, number>();
  for (const list of groups.values()) {
    list.sort(
      (a, b) =>
        (b.spec.priority ?? 0) - (a.spec.priority ?? 0) ||
        new Date(a.metadata.creationTimestamp ?? 0).getTime() - new Date(b.metadata.creationTimestamp ?? 0).getTime() ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    for (const [i, w] of list.entries()) out.set(key(w.metadata.namespace, w.metadata.name), i + 1);
  }
  return out;
}

/** Why a run that has not started waits, from its Workload's conditions and its queues. */
export function waitReason(
  job: RunObject,
  phase: RunPhase,
  w: Workload | undefined,
  lq: LocalQueue | undefined,
  cq: ClusterQueue | undefined,
): string | null {
  if (phase !== "Queued" && phase !== "Suspended" && phase !== "Pending") return null;
  const queue = job.metadata?.labels?.[QUEUE_LABEL];
  if (phase === "Suspended") return "suspended, and no Kueue queue label to start it";
  if (phase === "Pending" && !w) return null;
  if (queue && !lq) return `LocalQueue ${queue} does not exist in namespace ${job.metadata?.namespace}`;
  if (cq?.spec.stopPolicy && cq.spec.stopPolicy !== "None") {
    const budget = cq.metadata.annotations?.[BUDGET_HOLD_ANNOTATION];
    return budget
      ? `team budget: ${budget}`
      : `ClusterQueue ${cq.metadata.name} is held (stopPolicy ${cq.spec.stopPolicy})`;
  }
  if (!w) return "no Kueue Workload yet (is Kueue running?)";
  const conds = w.status?.conditions;
  const evicted = conditionOf(conds, "Evicted");
  if (evicted?.status === "True") return `evicted: ${evicted.message ?? evicted.reason ?? ""}`.trim();
  for (const type of ["QuotaReserved", "Admitted"]) {
    const c = conditionOf(conds, type);
    if (c && c.status !== "True") return c.message || c.reason || `not ${type}`;
  }
  if (isTrue(conds, "QuotaReserved") && !isTrue(conds, "Admitted"))
    return "quota reserved, waiting for admission checks";
  return phase === "Queued" ? "waiting for Kueue to admit it" : null;
}

/**
 * Why an admitted run's newest pod has not started (the Job counts it active, so the run shows Running):
 * the scheduler's PodScheduled=False message (no node fits, a GPU node being provisioned), else the
 * trainer container's waiting reason (ImagePullBackOff, ...). null once the pod runs.
 */
export function podWait(newestFirst: readonly V1Pod[]): string | null {
  const pod = newestFirst[0];
  if (pod?.status?.phase !== "Pending") return null;
  const name = pod.metadata?.name ?? "?";
  const unscheduled = pod.status.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (unscheduled) return `pod ${name} not scheduled: ${unscheduled.message || unscheduled.reason || "no node fits"}`;
  const waiting = (pod.status.containerStatuses ?? []).find((c) => c.state?.waiting)?.state?.waiting;
  if (waiting?.reason) return `pod ${name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`;
  return `pod ${name} is starting`;
}

/** GPU pool: the Job's pool selector, else the flavor Kueue admitted it to. */
export function poolOf(job: RunObject, w: Workload | undefined): string | null {
  const selected = jobSpecOf(job)?.template.spec?.nodeSelector?.[GPU_POOL_LABEL];
  if (selected) return selected;
  for (const a of w?.status?.admission?.podSetAssignments ?? []) {
    const f = a.flavors?.[GPU_RESOURCE];
    if (f) return f;
  }
  return null;
}

export interface QueueObjects {
  readonly workloads: readonly Workload[];
  readonly localQueues: readonly LocalQueue[];
  readonly clusterQueues: readonly ClusterQueue[];
}

/** Rows for every Job, newest first. */
export function runRows(jobs: readonly RunObject[], q: QueueObjects): RunRow[] {
  const lqs = new Map(q.localQueues.map((l) => [key(l.metadata.namespace, l.metadata.name), l]));
  const cqs = new Map(q.clusterQueues.map((c) => [c.metadata.name, c]));
  const cqOfWorkload = (w: Workload) =>
    w.status?.admission?.clusterQueue ??
    lqs.get(key(w.metadata.namespace, w.spec.queueName))?.spec.clusterQueue ??
    null;
  const positions = queuePositions(q.workloads, cqOfWorkload);
  const byJob = workloadsByJob(jobs, q.workloads);
  return sortJobs(jobs).map((job) => {
    const ns = job.metadata?.namespace ?? "";
    const name = job.metadata?.name ?? "";
    const w = byJob.get(key(ns, name));
    const queue = job.metadata?.labels?.[QUEUE_LABEL] ?? null;
    const lq = queue ? lqs.get(key(ns, queue)) : undefined;
    const clusterQueue = (w && cqOfWorkload(w)) ?? lq?.spec.clusterQueue ?? null;
    const phase = runPhase(job);
    const position =
      w && phase === "Queued" ? (positions.get(key(w.metadata.namespace, w.metadata.name)) ?? null) : null;
    return {
      namespace: ns,
      name,
      phase,
      status: runStatus(job),
      queue,
      clusterQueue,
      position,
      waitReason: waitReason(job, phase, w, lq, clusterQueue ? cqs.get(clusterQueue) : undefined),
      gpus: gpusPerPod(job),
      completions: completionsOf(job),
      kind: isJobSet(job) ? "JobSet" : "Job",
      nodes: nodesOf(job),
      restarts: restartsOf(job),
      pool: poolOf(job, w),
      created: iso(job.metadata?.creationTimestamp),
    };
  });
}

export interface RunFilter {
  readonly phase?: RunPhase;
  readonly namespace?: string;
  /** Substring of the run name (case-insensitive). */
  readonly name?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
  /** 1-based. */
  readonly page: number;
  readonly pages: number;
  readonly size: number;
}

export function filterRuns(rows: readonly RunRow[], f: RunFilter): RunRow[] {
  const needle = f.name?.toLowerCase();
  return rows.filter(
    (r) =>
      (!f.phase || r.phase === f.phase) &&
      (!f.namespace || r.namespace === f.namespace) &&
      (!needle || r.name.toLowerCase().includes(needle)),
  );
}

/** Page `page` (1-based, clamped to the last page) of `size` items. */
export function paginate<T>(items: readonly T[], page: number, size: number): Page<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(1, page), pages);
  return { items: items.slice((p - 1) * size, p * size), total: items.length, page: p, pages, size };
}
