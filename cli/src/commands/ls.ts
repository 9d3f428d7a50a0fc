/**
 * `kubectl kiln ls [-A]`: training runs with status, age, GPUs, queue, usage and the best metric of finished
 * runs. A bounded number of requests whatever the number of runs: Jobs, JobSets, one pod list, usage records
 * and budgets, each listed once for the scope.
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Command } from "commander";
import { bestMetricOfPod } from "../best-metric";
import { type Deps, globalsOf, Session } from "../context";
import { explainApiError, statusCode } from "../errors";
import { formatObject, renderTable, type OutputFormat } from "../output";
import { LS_HEADER, lsRow, runPhase, runStatus } from "../rows";
import {
  gpusPerPod,
  isJobSet,
  listRuns,
  newestPodOfRuns,
  nodesOf,
  RUN_POD_SELECTOR,
  restartsOf,
  type RunObject,
} from "../runs";
import type { KubeApi } from "../kube";
import { budgetsIn, scopeOf, usageOfRuns, type BudgetStatus, type RunUsage } from "../usage";
import { outputOption } from "./common";
import { QUEUE_LABEL } from "../../../contract/labels";

interface LsFlags {
  allNamespaces?: boolean;
  metrics: boolean;
  output: OutputFormat;
}

/** Pods of every run in the scope; undefined where forbidden (no metrics, and the usage says why). */
async function runPods(api: KubeApi, namespace: string | undefined): Promise<V1Pod[] | undefined> {
  try {
    return await api.listPods(namespace, RUN_POD_SELECTOR);
  } catch (err) {
    if (statusCode(err) === 403) return undefined;
    throw err;
  }
}

/** Usage of the listed runs and the budget status of their namespaces; a cluster that forbids or lacks them shows "-". */
async function readUsage(
  api: KubeApi,
  jobs: RunObject[],
  now: Date,
  pods: V1Pod[] | undefined,
): Promise<{ usage: Map<string, RunUsage>; budgets: Map<string, BudgetStatus> }> {
  let budgets = new Map<string, BudgetStatus>();
  let usage = new Map<string, RunUsage>();
  try {
    [usage, budgets] = await Promise.all([usageOfRuns(api, jobs, now, pods), budgetsIn(api, scopeOf(jobs))]);
  } catch (err) {
    if (![401, 403].includes(statusCode(err) ?? 0)) throw err;
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
    .option("--no-metrics", "do not list the runs' pods for BEST-METRIC (their termination messages)")
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
      // One pod list for the whole scope: every run's newest pod carries its best metric in its termination message.
      // After the runs, not beside them: at 10,000 runs the pod list (~176 MB) alongside the Jobs' (~175 MB)
      // took `ls -A` from 8.8 to 20 s in the cluster bench (the API server encoding both, the plugin holding both).
      const pods = flags.metrics ? await runPods(api, all ? undefined : ns) : undefined;
      const newest = pods ? newestPodOfRuns(jobs, pods) : new Map<string, V1Pod>();
      const metrics = jobs.map((j) =>
        runPhase(j) === "Succeeded"
          ? bestMetricOfPod(newest.get(`${j.metadata?.namespace}/${j.metadata?.name}`))
          : undefined,
      );
      const now = deps.now();
      const { usage, budgets } = await readUsage(api, jobs, now, pods);
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
