/** Pure row functions for `ls` and `status`: a run (a Job or a JobSet, + optional best metric) and a clock -> table cells. */
import type { V1Job } from "@kubernetes/client-node";

import type { JobSet } from "./jobset";
import { formatAge } from "./output";
import { gpusPerPod, isJobSet, jobSpecOf, nodesOf, restartsOf, sortRuns, type RunObject } from "./runs";
import { formatGpuHours, formatUsd, type RunUsage } from "./usage";
import { QUEUE_LABEL } from "../../contract/labels";

export type RunPhase = "Succeeded" | "Failed" | "Queued" | "Suspended" | "Running" | "Pending";

const condition = (job: V1Job, type: string) =>
  job.status?.conditions?.find((c) => c.type === type && c.status === "True");
const jobSetCondition = (js: JobSet, type: string) =>
  js.status?.conditions?.find((c) => c.type === type && c.status === "True");

/** Phase of a JobSet run from its conditions (Completed, Failed, Suspended) and its Jobs' counters. */
function jobSetPhase(js: JobSet): RunPhase {
  if (jobSetCondition(js, "Completed")) return "Succeeded";
  if (jobSetCondition(js, "Failed")) return "Failed";
  if (js.spec?.suspend || jobSetCondition(js, "Suspended"))
    return js.metadata?.labels?.[QUEUE_LABEL] ? "Queued" : "Suspended";
  if ((js.status?.replicatedJobsStatus ?? []).some((r) => (r.active ?? 0) > 0 || (r.ready ?? 0) > 0)) return "Running";
  return "Pending";
}

/** Phase of a run: a training Job from its conditions and counters, a JobSet from its conditions. */
export function runPhase(run: RunObject): RunPhase {
  if (isJobSet(run)) return jobSetPhase(run);
  const job = run;
  if (condition(job, "Complete") || condition(job, "SuccessCriteriaMet")) return "Succeeded";
  if (condition(job, "Failed") || condition(job, "FailureTarget")) return "Failed";
  if (job.spec?.suspend || condition(job, "Suspended"))
    return job.metadata?.labels?.[QUEUE_LABEL] ? "Queued" : "Suspended";
  if ((job.status?.active ?? 0) > 0) return "Running";
  return "Pending";
}

/** Phase plus progress for Indexed Jobs (sweeps): "Running 2/6"; plus group restarts of a JobSet: "Running (1 restart)". */
export function runStatus(run: RunObject): string {
  const phase = runPhase(run);
  if (isJobSet(run)) {
    const n = restartsOf(run);
    return n > 0 ? `${phase} (${n} restart${n === 1 ? "" : "s"})` : phase;
  }
  const job = run;
  const completions = job.spec?.completions ?? 1;
  if (job.spec?.completionMode === "Indexed" && completions > 1)
    return `${phase} ${job.status?.succeeded ?? 0}/${completions}`;
  return phase;
}

export const isFinished = (run: RunObject) => ["Succeeded", "Failed"].includes(runPhase(run));

export const LS_HEADER = ["NAME", "STATUS", "AGE", "GPUS", "QUEUE", "GPU-HOURS", "COST", "BEST-METRIC"] as const;

/** Sweep points of a Job (1 for a plain run or a JobSet). */
export const completionsOf = (run: RunObject) =>
  !isJobSet(run) && run.spec?.completionMode === "Indexed" ? (run.spec.completions ?? 1) : 1;

/** The GPUS cell: per pod; `2x4` for a sweep of 4 points; `8 (4 nodes x 2)` for a run on 4 nodes. */
export function gpusCell(run: RunObject): string {
  const gpus = gpusPerPod(run);
  const nodes = nodesOf(run);
  if (isJobSet(run)) return nodes > 1 ? `${gpus * nodes} (${nodes} nodes x ${gpus})` : String(gpus);
  const completions = completionsOf(run);
  return completions > 1 ? `${gpus}x${completions}` : String(gpus);
}

/** One `ls` row; NAMESPACE first when listing all namespaces. `held`: the team's queue is held by its budget. */
export function lsRow(
  run: RunObject,
  now: Date,
  bestMetric: string | undefined,
  allNamespaces: boolean,
  usage?: RunUsage,
  held = false,
): string[] {
  const row = [
    run.metadata?.name ?? "?",
    held && runPhase(run) === "Queued" ? `${runStatus(run)} (budget)` : runStatus(run),
    formatAge(run.metadata?.creationTimestamp, now),
    gpusCell(run),
    run.metadata?.labels?.[QUEUE_LABEL] ?? "-",
    usage ? formatGpuHours(usage.gpuHours) : "-",
    usage ? formatUsd(usage.usd) : "-",
    bestMetric ?? "-",
  ];
  return allNamespaces ? [run.metadata?.namespace ?? "?", ...row] : row;
}

/** Newest first, then by name. */
export const sortJobs = sortRuns;

/** First time a condition of the JobSet became true, for its wall time. */
const firstTransition = (js: JobSet, types: string[]) =>
  (js.status?.conditions ?? [])
    .filter((c) => types.includes(c.type) && c.status === "True" && c.lastTransitionTime)
    .map((c) => c.lastTransitionTime!)
    .sort()[0];

/** Wall time of a run: start -> completion (or now when still running). A JobSet's runs from creation (JobSet records no start). */
export function duration(run: RunObject, now: Date): string {
  if (isJobSet(run)) {
    if (runPhase(run) === "Queued" || runPhase(run) === "Suspended") return "-";
    const start = run.metadata?.creationTimestamp;
    if (!start) return "-";
    const end = isFinished(run) ? firstTransition(run, ["Completed", "Failed"]) : now;
    return end ? formatAge(new Date(start), new Date(end)) : "-";
  }
  const job = run;
  const start = job.status?.startTime;
  if (!start) return "-";
  const end = job.status?.completionTime ?? (isFinished(job) ? undefined : now);
  return end ? formatAge(new Date(start), new Date(end)) : "-";
}

export { jobSpecOf };
