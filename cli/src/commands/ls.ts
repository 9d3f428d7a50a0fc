/** `kubectl kiln ls [-A]`: training runs with status, age, GPUs, queue and the best metric of finished runs. */
import { mapLimited } from "../concurrency";
import type { Command } from "commander";
import { type Deps, globalsOf, Session } from "../context";
import { explainApiError } from "../errors";

import { formatObject, renderTable, type OutputFormat } from "../output";
import { bestMetric } from "../progress";
import { LS_HEADER, lsRow, runPhase, runStatus } from "../rows";
import { gpusPerPod, isJobSet, listRuns, nodesOf, podSelector, restartsOf, type RunObject } from "../runs";
import type { KubeApi } from "../kube";
import { budgetOf, usageOfRuns, type BudgetStatus, type RunUsage } from "../usage";
import { outputOption } from "./common";
import { QUEUE_LABEL, TRAINER_CONTAINER } from "../../../contract/labels";

interface LsFlags {
  allNamespaces?: boolean;
  metrics: boolean;
  output: OutputFormat;
}

/** Log lines read per finished run to find its best metric. */
const METRIC_TAIL_LINES = 2000;
/** Log reads in flight at once. */
const METRIC_CONCURRENCY = 8;

/** Best metric of a succeeded run from its newest pod's log (rank 0's for a JobSet); undefined when unreadable. */
async function runBestMetric(api: KubeApi, job: RunObject): Promise<string | undefined> {
  const ns = job.metadata!.namespace!;
  try {
    const pods = await api.listPods(ns, podSelector(job));
    const newest = pods.sort(
      (a, b) =>
        new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
    )[0];
    if (!newest) return undefined;
    return bestMetric(await api.readLog(ns, newest.metadata!.name!, TRAINER_CONTAINER, METRIC_TAIL_LINES));
  } catch {
    return undefined;
  }
}

/** Usage of the listed runs and the budget status of their namespaces; a cluster that forbids or lacks them shows "-". */
async function readUsage(
  api: KubeApi,
  jobs: RunObject[],
  now: Date,
): Promise<{ usage: Map<string, RunUsage>; budgets: Map<string, BudgetStatus> }> {
  const budgets = new Map<string, BudgetStatus>();
  let usage = new Map<string, RunUsage>();
  try {
    usage = await usageOfRuns(api, jobs, now);
    for (const ns of new Set(jobs.map((j) => j.metadata?.namespace ?? ""))) {
      const b = await budgetOf(api, ns);
      if (b) budgets.set(ns, b);
    }
  } catch (err) {
    if (![401, 403].includes((err as { code?: number }).code ?? 0)) throw err;
  }
  return { usage, budgets };
}

export function registerLs(program: Command, deps: Deps): void {
  program
    .command("ls")
    .description(
      "list training runs (Jobs made from the kiln-trainer template, and JobSets of runs with your own image)",
    )
    .option("-A, --all-namespaces", "list runs in every namespace")
    .option("--no-metrics", "do not read logs of finished runs for BEST-METRIC")
    .addOption(outputOption())
    .action(async (flags: LsFlags, cmd: Command) => {
      const session = new Session(deps, globalsOf(cmd));
      const all = flags.allNamespaces === true;
      const ns = session.namespace;
      const api = session.api;
      let jobs: RunObject[];
      try {
        jobs = await listRuns(api, all ? undefined : ns, deps.io.err);
      } catch (err) {
        throw explainApiError(err, {
          attempting: `listing runs in ${all ? "all namespaces" : `namespace ${ns}`}`,
          server: api.server,
          namespace: ns,
          notFound: `namespace ${ns} does not exist`,
        });
      }
      if (jobs.length === 0) {
        deps.io.err(all ? "No runs found in any namespace.\n" : `No runs found in ${ns}.\n`);
        return;
      }
      const metrics = flags.metrics
        ? await mapLimited(jobs, METRIC_CONCURRENCY, (j) =>
            runPhase(j) === "Succeeded" ? runBestMetric(api, j) : Promise.resolve(undefined),
          )
        : jobs.map(() => undefined);
      const now = deps.now();
      const { usage, budgets } = await readUsage(api, jobs, now);
      const held = (j: RunObject) => budgets.get(j.metadata?.namespace ?? "")?.held === true;
      if (flags.output === "table") {
        const header = all ? ["NAMESPACE", ...LS_HEADER] : [...LS_HEADER];
        deps.io.out(
          renderTable(
            header,
            jobs.map((j, i) =>
              lsRow(j, now, metrics[i], all, usage.get(`${j.metadata?.namespace}/${j.metadata?.name}`), held(j)),
            ),
          ),
        );
        for (const b of budgets.values()) if (b.held) deps.io.err(`note: ${b.reason}\n`);
        return;
      }
      const runs = jobs.map((j, i) => ({
        namespace: j.metadata?.namespace,
        name: j.metadata?.name,
        status: runStatus(j),
        created: j.metadata?.creationTimestamp,
        kind: isJobSet(j) ? "JobSet" : "Job",
        gpus: gpusPerPod(j),
        completions: isJobSet(j) ? 1 : (j.spec?.completions ?? 1),
        nodes: nodesOf(j),
        totalGpus: gpusPerPod(j) * nodesOf(j) * (isJobSet(j) ? 1 : (j.spec?.completions ?? 1)),
        restarts: restartsOf(j),
        queue: j.metadata?.labels?.[QUEUE_LABEL] ?? null,
        bestMetric: metrics[i] ?? null,
        usage: usage.get(`${j.metadata?.namespace}/${j.metadata?.name}`) ?? null,
        waitingFor:
          held(j) && runStatus(j).startsWith("Queued") ? budgets.get(j.metadata?.namespace ?? "")?.reason : null,
      }));
      deps.io.out(formatObject({ runs }, flags.output));
    });
}
