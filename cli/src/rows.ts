/** Pure row functions for `ls` and `status`: a Job (+ optional best metric) and a clock -> table cells. */
import type { V1Job } from "@kubernetes/client-node";
import { gpusOf, LABEL_QUEUE } from "./job";
import { formatAge } from "./output";
import { formatGpuHours, formatUsd, type RunUsage } from "./usage";

export type RunPhase = "Succeeded" | "Failed" | "Queued" | "Suspended" | "Running" | "Pending";

const condition = (job: V1Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === "True");

/** Phase of a training Job from its conditions and counters. */
export function runPhase(job: V1Job): RunPhase {
  if (condition(job, "Complete") || condition(job, "SuccessCriteriaMet")) return "Succeeded";
  if (condition(job, "Failed") || condition(job, "FailureTarget")) return "Failed";
  if (job.spec?.suspend || condition(job, "Suspended")) return job.metadata?.labels?.[LABEL_QUEUE] ? "Queued" : "Suspended";
  if ((job.status?.active ?? 0) > 0) return "Running";
  return "Pending";
}

/** Phase plus progress for Indexed Jobs (sweeps): "Running 2/6". */
export function runStatus(job: V1Job): string {
  const phase = runPhase(job);
  const completions = job.spec?.completions ?? 1;
  if (job.spec?.completionMode === "Indexed" && completions > 1) return `${phase} ${job.status?.succeeded ?? 0}/${completions}`;
  return phase;
}

export const isFinished = (job: V1Job) => ["Succeeded", "Failed"].includes(runPhase(job));

export const LS_HEADER = ["NAME", "STATUS", "AGE", "GPUS", "QUEUE", "GPU-HOURS", "COST", "BEST-METRIC"] as const;

/** One `ls` row; NAMESPACE first when listing all namespaces. `held`: the team's queue is held by its budget. */
export function lsRow(job: V1Job, now: Date, bestMetric: string | undefined, allNamespaces: boolean, usage?: RunUsage, held = false): string[] {
  const gpus = gpusOf(job);
  const completions = job.spec?.completionMode === "Indexed" ? (job.spec.completions ?? 1) : 1;
  const row = [
    job.metadata?.name ?? "?",
    held && runPhase(job) === "Queued" ? `${runStatus(job)} (budget)` : runStatus(job),
    formatAge(job.metadata?.creationTimestamp, now),
    completions > 1 ? `${gpus}x${completions}` : String(gpus),
    job.metadata?.labels?.[LABEL_QUEUE] ?? "-",
    usage ? formatGpuHours(usage.gpuHours) : "-",
    usage ? formatUsd(usage.usd) : "-",
    bestMetric ?? "-",
  ];
  return allNamespaces ? [job.metadata?.namespace ?? "?", ...row] : row;
}

/** Newest first, then by name. */
export function sortJobs(jobs: readonly V1Job[]): V1Job[] {
  const t = (j: V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
  return [...jobs].sort((a, b) => t(b) - t(a) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** Wall time of a run: start -> completion (or now when still running). */
export function duration(job: V1Job, now: Date): string {
  const start = job.status?.startTime;
  if (!start) return "-";
  const end = job.status?.completionTime ?? (isFinished(job) ? undefined : now);
  return end ? formatAge(new Date(start), new Date(end)) : "-";
}
