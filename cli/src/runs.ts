/**
 * A run is a Job (Kiln's trainer: `submit --spec`, sweeps, `kubectl create job --from=cronjob/kiln-trainer`)
 * or a JobSet (`submit --image`, one pod per node). The verbs and the dashboard read both through these
 * functions; a JobSet's child Jobs are never runs of their own.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import {
  COMPLETION_INDEX_ANNOTATION,
  JOBSET_NAME_LABEL,
  JOBSET_RESTART_LABEL,
  REPLICATED_JOB,
} from "../../contract/workload";
import { GPU_RESOURCE } from "../../contract/gpu";
import { CliError, explainApiError, statusCode, type ApiErrorContext } from "./errors";
import { isJobSet, type JobSet } from "./jobset";

import type { KubeApi } from "./kube";
import { matchesSelector } from "./selector";
import { JOB_NAME_LABEL, RUN_SELECTOR, TRAINER_CONTAINER } from "../../contract/labels";

export type RunObject = V1Job | JobSet;
export { isJobSet };

/** Trainer Jobs that are runs: the run labels, and not a JobSet's child. */
export const JOB_RUN_SELECTOR = `${RUN_SELECTOR},!${JOBSET_NAME_LABEL}`;
/** JobSets that are runs. */
export const JOBSET_RUN_SELECTOR = RUN_SELECTOR;

/** Kubernetes puts the completion index on an Indexed Job's pods as a label and an annotation of the same name. */
const COMPLETION_INDEX_LABEL = COMPLETION_INDEX_ANNOTATION;

/** The pod template of a run's Job (a JobSet's replicated Job `node`). */
export const jobSpecOf = (run: RunObject) =>
  isJobSet(run)
    ? (run.spec.replicatedJobs?.find((r) => r.name === REPLICATED_JOB) ?? run.spec.replicatedJobs?.[0])?.template.spec
    : run.spec;

/** GPUs per pod (per node for a JobSet), 0 for CPU runs. */
export function gpusPerPod(run: RunObject): number {
  const pod = jobSpecOf(run)?.template.spec;
  const c = pod?.containers.find((x) => x.name === TRAINER_CONTAINER) ?? pod?.containers[0];
  const v = c?.resources?.limits?.[GPU_RESOURCE] ?? c?.resources?.requests?.[GPU_RESOURCE];
  return v === undefined ? 0 : Number(v);
}

/** Nodes of a JobSet run (its Indexed Job's completions), 1 for a Job. */
export const nodesOf = (run: RunObject) => (isJobSet(run) ? (jobSpecOf(run)?.completions ?? 1) : 1);

/** Group restarts of a JobSet run (status.restarts), 0 for a Job. */
export const restartsOf = (run: RunObject) => (isJobSet(run) ? (run.status?.restarts ?? 0) : 0);

/**
 * The label selector of a run's pods: a Job's by job-name (a sweep point by completion index); a JobSet's
 * by JobSet name and the current restart attempt, `rank` (default 0) by completion index.
 */
export function podSelector(run: RunObject, index?: number): string {
  const name = run.metadata?.name ?? "";
  if (isJobSet(run))
    return `${JOBSET_NAME_LABEL}=${name},${JOBSET_RESTART_LABEL}=${restartsOf(run)},${COMPLETION_INDEX_LABEL}=${index ?? 0}`;
  return `${JOB_NAME_LABEL}=${name}${index !== undefined ? `,${COMPLETION_INDEX_LABEL}=${index}` : ""}`;
}

/** Every pod of a run (every rank and restart attempt of a JobSet). */
export const allPodsSelector = (run: RunObject) =>
  isJobSet(run) ? `${JOBSET_NAME_LABEL}=${run.metadata?.name}` : `${JOB_NAME_LABEL}=${run.metadata?.name}`;

/** Run pods carry their template's run labels: one list with this selector has the pods of every run in a scope. */
export const RUN_POD_SELECTOR = RUN_SELECTOR;

const created = (o: { metadata?: { creationTimestamp?: Date | string } }) =>
  new Date(o.metadata?.creationTimestamp ?? 0).getTime();

/**
 * The newest pod of each run among `pods` (a list with RUN_POD_SELECTOR), keyed `namespace/name`: as
 * podSelector picks them, a JobSet's rank 0 of its current restart attempt. Pure: no request per run.
 */
export function newestPodOfRuns(runs: readonly RunObject[], pods: readonly V1Pod[]): Map<string, V1Pod> {
  const byOwner = new Map<string, V1Pod[]>();
  for (const p of pods) {
    const labels = p.metadata?.labels;
    const owner = labels?.[JOBSET_NAME_LABEL] ?? labels?.[JOB_NAME_LABEL];
    if (owner === undefined) continue;
    const k = `${p.metadata?.namespace}/${owner}`;
    (byOwner.get(k) ?? byOwner.set(k, []).get(k)!).push(p);
  }
  const out = new Map<string, V1Pod>();
  for (const run of runs) {
    const k = `${run.metadata?.namespace}/${run.metadata?.name}`;
    const selector = podSelector(run);
    let newest: V1Pod | undefined;
    for (const p of byOwner.get(k) ?? [])
      if (matchesSelector(selector, p.metadata?.labels) && (!newest || created(p) > created(newest))) newest = p;
    if (newest) out.set(k, newest);
  }
  return out;
}

/** Newest first, then by name. */
export function sortRuns<T extends RunObject>(runs: readonly T[]): T[] {
  const t = (j: RunObject) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
  return [...runs].sort((a, b) => t(b) - t(a) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
}

/** Runs of a namespace (undefined = all): trainer Jobs and JobSets. A cluster without JobSet (404) has none of the latter. */
export async function listRuns(
  api: KubeApi,
  namespace: string | undefined,
  onNote?: (note: string) => void,
): Promise<RunObject[]> {
  // Both lists at once: at 10,000 runs each is tens of megabytes the API server encodes while the other is parsed.
  const [jobs, jobSets] = await Promise.all([
    api.listJobs(namespace, JOB_RUN_SELECTOR),
    api.listJobSets(namespace, JOBSET_RUN_SELECTOR).catch((err: unknown): JobSet[] => {
      const code = statusCode(err);
      if (code === 403)
        onNote?.("note: you may not list JobSets here: runs with your own image (submit --image) are not shown\n");
      else if (code !== 404) throw err;
      return [];
    }),
  ]);
  return sortRuns([...jobs, ...jobSets]);
}

/** The run named `name`: its Job, else its JobSet; a 404 when neither exists. */
export async function getRun(api: KubeApi, namespace: string, name: string, ctx: ApiErrorContext): Promise<RunObject> {
  let job: V1Job | undefined;
  try {
    job = await api.getJob(namespace, name);
  } catch (err) {
    if (statusCode(err) !== 404) throw explainApiError(err, ctx);
  }
  if (job) {
    const parent = job.metadata?.labels?.[JOBSET_NAME_LABEL];
    if (parent)
      throw new CliError(
        `${ctx.attempting}: Job ${name} is one attempt of run ${parent} (a JobSet), not a run: use ${parent}`,
      );
    return job;
  }
  try {
    return await api.getJobSet(namespace, name);
  } catch (err) {
    // No JobSet API (404 on the resource) reads the same as no such run.
    throw explainApiError(err, ctx);
  }
}
