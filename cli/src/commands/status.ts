/** `kubectl kiln status RUN`: one run in detail (its Job or JobSet, pods and conditions). */
import type { Command } from "commander";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { type Deps, globalsOf, Session } from "../context";
import { explainApiError } from "../errors";
import { GPU_POOL_LABEL } from "../../../contract/gpu";
import {
  COMPLETION_INDEX_ANNOTATION,
  JOBSET_RESTART_LABEL,
  TOPOLOGY_PREFERRED_ANNOTATION,
  TOPOLOGY_REQUIRED_ANNOTATION,
} from "../../../contract/workload";
import { gpusOf, validateRunName } from "../job";
import type { JobSet } from "../jobset";
import { allPodsSelector, getRun, gpusPerPod, isJobSet, jobSpecOf, nodesOf, restartsOf, type RunObject } from "../runs";
import { formatAge, formatObject, renderTable, type OutputFormat } from "../output";
import { duration, runStatus } from "../rows";
import { outputOption } from "./common";
import { budgetOf, formatGpuHours, formatUsd, usageOfRuns, type BudgetStatus, type RunUsage } from "../usage";
import { QUEUE_LABEL, TRAINER_CONTAINER } from "../../../contract/labels";

/**
 * How a pod's trainer container ended or why it waits, e.g. `OOMKilled (exit 137)`, `Error (exit 2)`,
 * `ImagePullBackOff`, plus why the pod was disrupted (`EvictionByEvictionAPI`) when it was.
 */
export function podOutcome(pod: V1Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  const cs = statuses.find((x) => x.name === TRAINER_CONTAINER) ?? statuses[0];
  const parts: string[] = [];
  const t = cs?.state?.terminated;
  if (t) parts.push(`${t.reason ?? "Terminated"} (exit ${t.exitCode})`);
  else if (cs?.state?.waiting?.reason) parts.push(cs.state.waiting.reason);
  else if (cs?.state?.running) parts.push("running");
  const disruption = (pod.status?.conditions ?? []).find((k) => k.type === "DisruptionTarget" && k.status === "True");
  if (disruption) parts.push(`disrupted: ${disruption.reason ?? "DisruptionTarget"}`);
  return parts.join(", ") || "-";
}

/** The usage lines of `status`: figures, then how they were made. */
export function usageFields(u: RunUsage): [string, string][] {
  const where = [u.pool && `pool ${u.pool}`, u.instanceType, u.capacityType].filter(Boolean).join(", ");
  return [
    ["GPU-hours", `${formatGpuHours(u.gpuHours)}${where ? ` (${where})` : ""}`],
    ["Cost", u.usd === null ? "not priced" : formatUsd(u.usd)],
    ["Energy", `${u.kWh.toPrecision(3)} kWh`],
    ["CO2e", `${u.co2eKg.toPrecision(3)} kg`],
    ["Basis", u.basis.join("; ") || "-"],
  ];
}

/** The `status` text of a Job and its pods (pure: tested with a fixed clock). */
export function describeRun(
  job: V1Job,
  pods: readonly V1Pod[],
  now: Date,
  usage?: RunUsage,
  budget?: BudgetStatus | null,
): string {
  const pod = job.spec?.template.spec;
  const c = pod?.containers.find((x) => x.name === TRAINER_CONTAINER) ?? pod?.containers[0];
  const specEnv = c?.env?.find((e) => e.name === "KILN_RUN_SPEC");
  const specSource =
    specEnv?.value !== undefined
      ? "inline (KILN_RUN_SPEC)"
      : specEnv?.valueFrom?.configMapKeyRef
        ? `ConfigMap ${specEnv.valueFrom.configMapKeyRef.name} key ${specEnv.valueFrom.configMapKeyRef.key}`
        : "-";
  const gpus = gpusOf(job);
  const pool = pod?.nodeSelector?.[GPU_POOL_LABEL];
  const created = job.metadata?.creationTimestamp;
  const fields: [string, string][] = [
    ["Name", job.metadata?.name ?? "?"],
    ["Namespace", job.metadata?.namespace ?? "?"],
    ["Status", runStatus(job)],
    ["Created", created ? `${new Date(created).toISOString()} (${formatAge(created, now)} ago)` : "-"],
    ["Duration", duration(job, now)],
    ["GPUs", gpus > 0 ? `${gpus} per pod${pool ? ` (pool ${pool})` : ""}` : "0 (CPU run)"],
    ["Queue", job.metadata?.labels?.[QUEUE_LABEL] ?? "-"],
    ["Image", c?.image ?? "-"],
    ["Run spec", specSource],
  ];
  if (usage) fields.push(...usageFields(usage));
  if (budget?.held && runStatus(job).startsWith("Queued"))
    fields.push(["Waiting", budget.reason ?? "the team's budget is spent"]);
  if (job.spec?.completionMode === "Indexed") {
    const s = job.status;
    fields.push([
      "Sweep",
      `${job.spec.completions ?? 1} points, parallelism ${job.spec.parallelism ?? 1}: ${s?.succeeded ?? 0} succeeded, ${s?.failed ?? 0} failed, ${s?.active ?? 0} running`,
    ]);
  }
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  let out = `${fields.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join("\n")}\n`;
  const conditions = job.status?.conditions ?? [];
  if (conditions.length) {
    out +=
      "\nConditions:\n" +
      renderTable(
        ["TYPE", "STATUS", "REASON", "MESSAGE"],
        conditions.map((k) => [k.type, k.status, k.reason ?? "", k.message ?? ""]),
      );
  }
  out += "\nPods:\n";
  out += pods.length
    ? renderTable(
        ["NAME", "PHASE", "NODE", "AGE", "TRAINER"],
        pods.map((p) => [
          p.metadata?.name ?? "?",
          p.status?.phase ?? "?",
          p.spec?.nodeName ?? "<none>",
          formatAge(p.metadata?.creationTimestamp, now),
          podOutcome(p),
        ]),
      )
    : "  none yet\n";
  return out;
}

const fieldsText = (fields: [string, string][]) => {
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  return `${fields.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join("\n")}\n`;
};

/** The `status` text of a JobSet run (your image on one node or many) and all its pods, every restart attempt (pure). */
export function describeJobSet(
  js: JobSet,
  pods: readonly V1Pod[],
  now: Date,
  usage?: RunUsage,
  budget?: BudgetStatus | null,
): string {
  const spec = jobSpecOf(js);
  const pod = spec?.template.spec;
  const c = pod?.containers.find((x) => x.name === TRAINER_CONTAINER) ?? pod?.containers[0];
  const gpus = gpusPerPod(js);
  const nodes = nodesOf(js);
  const pool = pod?.nodeSelector?.[GPU_POOL_LABEL];
  const created = js.metadata?.creationTimestamp;
  const annotations = spec?.template.metadata?.annotations ?? {};
  const topology = annotations[TOPOLOGY_REQUIRED_ANNOTATION]
    ? `required ${annotations[TOPOLOGY_REQUIRED_ANNOTATION]}`
    : annotations[TOPOLOGY_PREFERRED_ANNOTATION]
      ? `preferred ${annotations[TOPOLOGY_PREFERRED_ANNOTATION]}`
      : "-";
  const fp = js.spec?.failurePolicy;
  const fields: [string, string][] = [
    ["Name", js.metadata?.name ?? "?"],
    ["Namespace", js.metadata?.namespace ?? "?"],
    ["Kind", "JobSet (your image)"],
    ["Status", runStatus(js)],
    ["Created", created ? `${new Date(created).toISOString()} (${formatAge(created, now)} ago)` : "-"],
    ["Duration", duration(js, now)],
    ["Nodes", String(nodes)],
    [
      "GPUs",
      gpus > 0 ? `${gpus} per node x ${nodes} = ${gpus * nodes}${pool ? ` (pool ${pool})` : ""}` : "0 (CPU run)",
    ],
    [
      "Restarts",
      `${restartsOf(js)} (${js.status?.restartsCountTowardsMax ?? 0} of at most ${fp?.maxRestarts ?? 0} after failures; disruptions do not count)`,
    ],
    ["Queue", js.metadata?.labels?.[QUEUE_LABEL] ?? "-"],
    ["Topology", topology],
    ["Image", c?.image ?? "-"],
    ["Command", [...(c?.command ?? []), ...(c?.args ?? [])].join(" ") || "-"],
  ];
  if (usage) fields.push(...usageFields(usage));
  if (budget?.held && runStatus(js).startsWith("Queued"))
    fields.push(["Waiting", budget.reason ?? "the team's budget is spent"]);
  let out = fieldsText(fields);
  const conditions = js.status?.conditions ?? [];
  if (conditions.length)
    out +=
      "\nConditions:\n" +
      renderTable(
        ["TYPE", "STATUS", "REASON", "MESSAGE"],
        conditions.map((k) => [k.type, k.status, k.reason ?? "", k.message ?? ""]),
      );
  out += "\nPods:\n";
  const attempt = (p: V1Pod) => Number(p.metadata?.labels?.[JOBSET_RESTART_LABEL] ?? 0);
  const rank = (p: V1Pod) =>
    Number(
      p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? p.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION] ?? 0,
    );
  const sorted = [...pods].sort((a, b) => attempt(b) - attempt(a) || rank(a) - rank(b));
  out += sorted.length
    ? renderTable(
        ["NAME", "RANK", "ATTEMPT", "PHASE", "NODE", "AGE", "CONTAINER"],
        sorted.map((p) => [
          p.metadata?.name ?? "?",
          String(rank(p)),
          String(attempt(p)),
          p.status?.phase ?? "?",
          p.spec?.nodeName ?? "<none>",
          formatAge(p.metadata?.creationTimestamp, now),
          podOutcome(p),
        ]),
      )
    : "  none yet\n";
  return out;
}

export function registerStatus(program: Command, deps: Deps): void {
  program
    .command("status")
    .description("show one run: status, timing, GPUs, queue, pods and conditions")
    .argument("<run>", "run name (its Job or JobSet)")
    .addOption(outputOption())
    .action(async (run: string, flags: { output: OutputFormat }, cmd: Command) => {
      validateRunName(run);
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      const api = session.api;
      const ctx = {
        server: api.server,
        namespace: ns,
        notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})`,
      };
      const job: RunObject = await getRun(api, ns, run, {
        ...ctx,
        attempting: `reading run ${run} in namespace ${ns}`,
      });
      let pods: V1Pod[];
      try {
        pods = await api.listPods(ns, allPodsSelector(job));
      } catch (err) {
        throw explainApiError(err, { ...ctx, attempting: `reading run ${run} in namespace ${ns}` });
      }
      const now = deps.now();
      let usage: RunUsage | undefined;
      let budget: BudgetStatus | null = null;
      try {
        // The run's pods, all attempts and ranks: what its usage counts when a record is missing.
        usage = (await usageOfRuns(api, [job], now, pods)).get(`${ns}/${run}`);
        budget = await budgetOf(api, ns);
      } catch (err) {
        if (![401, 403].includes((err as { code?: number }).code ?? 0))
          throw explainApiError(err, { ...ctx, attempting: `reading the usage of run ${run}` });
      }
      if (flags.output === "table")
        deps.io.out(
          isJobSet(job) ? describeJobSet(job, pods, now, usage, budget) : describeRun(job, pods, now, usage, budget),
        );
      else
        deps.io.out(
          formatObject(
            {
              ...job,
              usage: usage ?? null,
              waitingFor: budget?.held && runStatus(job).startsWith("Queued") ? budget.reason : null,
            },
            flags.output,
          ),
        );
    });
}
