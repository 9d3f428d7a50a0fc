/**
 * A fake cluster for the dashboard: the plugin's in-memory API (test/cli/support.ts) plus Kueue objects,
 * nodes and builders for training Jobs in every state, their Workloads, pods and trainer logs.
 */
import type { V1Job, V1JobCondition, V1Node, V1Pod } from "@kubernetes/client-node";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../../contract/gpu";
import type { DashboardApi } from "../../../cli/src/dashboard/api";
import type { ClusterQueue, LocalQueue, Workload } from "../../../cli/src/dashboard/kueue";

import { FakeKube } from "../support";
import { POD_JOB_UID_LABEL } from "../../../contract/accounting/keys";
import { JOB_NAME_LABEL, QUEUE_LABEL } from "../../../contract/labels";

export class FakeCluster extends FakeKube implements DashboardApi {
  readonly clusterQueues: ClusterQueue[] = [];
  readonly localQueues: LocalQueue[] = [];
  readonly workloads: Workload[] = [];

  async listCustomObjects(group: string, version: string, plural: string, namespace?: string): Promise<unknown[]> {
    this.calls.push(`listCustomObjects ${group}/${version} ${plural} ${namespace ?? "*"}`);
    const all: Record<string, { metadata: { namespace?: string } }[]> = {
      clusterqueues: this.clusterQueues,
      localqueues: this.localQueues,
      workloads: this.workloads,
    };
    const list = all[plural];
    if (!list) throw new Error(`fake: no ${plural}`);
    return structuredClone(list.filter((o) => namespace === undefined || o.metadata.namespace === namespace));
  }

  async listPodsAllNamespaces(fieldSelector: string) {
    this.calls.push(`listPodsAllNamespaces ${fieldSelector}`);
    return this.pods.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  }
}

export type FakePhase = "Succeeded" | "Failed" | "Running" | "Queued";

export interface JobSpec {
  readonly ns: string;
  readonly name: string;
  readonly phase: FakePhase;
  readonly gpus?: number;
  readonly pool?: string;
  readonly created: string;
  readonly queue?: string;
  /** Sweep points (Indexed Job). */
  readonly completions?: number;
}

let uid = 0;

/** A training Job as `kubectl kiln submit` makes it, with the status of `phase`. */
export function trainingJob(s: JobSpec): V1Job {
  const gpus = s.gpus ?? 1;
  const labels: Record<string, string> = {
    "app.kubernetes.io/part-of": "kiln",
    "app.kubernetes.io/component": "training-run",
    "kiln.dev/run": s.name,
  };
  if (s.queue) labels[QUEUE_LABEL] = s.queue;
  const done = s.phase === "Succeeded" || s.phase === "Failed";
  const conditions: V1JobCondition[] =
    s.phase === "Succeeded"
      ? [{ type: "Complete", status: "True" }]
      : s.phase === "Failed"
        ? [
            {
              type: "Failed",
              status: "True",
              reason: "BackoffLimitExceeded",
              message: "Job has reached the specified backoff limit",
            },
          ]
        : [];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: s.name, namespace: s.ns, uid: `uid-${++uid}`, labels, creationTimestamp: new Date(s.created) },
    spec: {
      suspend: s.phase === "Queued",
      ...(s.completions ? { completionMode: "Indexed", completions: s.completions, parallelism: 2 } : {}),
      template: {
        spec: {
          restartPolicy: "Never",
          ...(s.pool ? { nodeSelector: { [GPU_POOL_LABEL]: s.pool } } : {}),
          containers: [
            {
              name: "trainer",
              image: "localhost:5000/kiln/trainer:0.1.0",
              env: [
                {
                  name: "KILN_RUN_SPEC",
                  value:
                    "dataset: {uri: s3://datasets/auto-mpg/auto-mpg.csv, target: Miles_per_Gallon}\ntask: regression\noutput: {uri: s3://artifacts/runs}\n",
                },
              ],
              resources: gpus
                ? { limits: { [GPU_RESOURCE]: String(gpus) }, requests: { [GPU_RESOURCE]: String(gpus) } }
                : {},
            },
          ],
        },
      },
    },
    status: {
      conditions,
      ...(s.phase === "Running" ? { active: 1, startTime: new Date(s.created) } : {}),
      ...(done
        ? {
            startTime: new Date(s.created),
            completionTime: new Date(new Date(s.created).getTime() + 600_000),
            succeeded: s.phase === "Succeeded" ? (s.completions ?? 1) : 0,
          }
        : {}),
    },
  };
}

/** The Workload Kueue makes for `job`; `waiting` gives the QuotaReserved=False message. */
export function workloadFor(
  job: V1Job,
  o: { clusterQueue: string; admitted?: boolean; waiting?: string; priority?: number; flavor?: string },
): Workload {
  const created = new Date(job.metadata!.creationTimestamp!).toISOString();
  return {
    metadata: {
      name: `job-${job.metadata!.name}-abcde`,
      namespace: job.metadata!.namespace,
      creationTimestamp: created,
      ownerReferences: [{ kind: "Job", name: job.metadata!.name!, uid: job.metadata!.uid! }],
    },
    spec: {
      queueName: job.metadata!.labels![QUEUE_LABEL],
      priority: o.priority ?? 0,
      podSets: [{ name: "main", count: 1 }],
    },
    status: o.admitted
      ? {
          conditions: [
            { type: "QuotaReserved", status: "True", reason: "QuotaReserved" },
            { type: "Admitted", status: "True", reason: "Admitted" },
          ],
          admission: {
            clusterQueue: o.clusterQueue,
            podSetAssignments: [{ name: "main", flavors: { [GPU_RESOURCE]: o.flavor ?? "a10g" }, count: 1 }],
          },
        }
      : {
          conditions: [
            {
              type: "QuotaReserved",
              status: "False",
              reason: "Pending",
              message:
                o.waiting ??
                "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor a10g, 4 more needed",
            },
          ],
        },
  };
}

/** A team's ClusterQueue with a GPU flavor and a cpu/memory flavor, as infra/cluster/queues.ts makes it. */
export function clusterQueue(
  name: string,
  o: {
    pool: string;
    nominal: number;
    borrowingLimit?: number;
    used: number;
    borrowed?: number;
    reserved?: number;
    pending?: number;
    admitted?: number;
    stopPolicy?: "Hold";
  },
): ClusterQueue {
  return {
    metadata: { name },
    spec: {
      cohort: "kiln",
      queueingStrategy: "BestEffortFIFO",
      ...(o.stopPolicy ? { stopPolicy: o.stopPolicy } : {}),
      resourceGroups: [
        {
          coveredResources: ["cpu", "memory"],
          flavors: [
            {
              name: "cpu",
              resources: [
                { name: "cpu", nominalQuota: "64", borrowingLimit: "0" },
                { name: "memory", nominalQuota: "256Gi", borrowingLimit: "0" },
              ],
            },
          ],
        },
        {
          coveredResources: [GPU_RESOURCE],
          flavors: [
            {
              name: o.pool,
              resources: [
                {
                  name: GPU_RESOURCE,
                  nominalQuota: o.nominal,
                  ...(o.borrowingLimit !== undefined ? { borrowingLimit: o.borrowingLimit } : {}),
                },
              ],
            },
          ],
        },
      ],
    },
    status: {
      pendingWorkloads: o.pending ?? 0,
      admittedWorkloads: o.admitted ?? 0,
      reservingWorkloads: o.admitted ?? 0,
      flavorsUsage: [
        {
          name: "cpu",
          resources: [
            { name: "cpu", total: "3500m", borrowed: "0" },
            { name: "memory", total: "12Gi", borrowed: "0" },
          ],
        },
        { name: o.pool, resources: [{ name: GPU_RESOURCE, total: String(o.used), borrowed: String(o.borrowed ?? 0) }] },
      ],
      flavorsReservation: [
        {
          name: o.pool,
          resources: [{ name: GPU_RESOURCE, total: String(o.reserved ?? o.used), borrowed: String(o.borrowed ?? 0) }],
        },
      ],
    },
  };
}

export const localQueue = (ns: string, name: string, cq: string): LocalQueue => ({
  metadata: { name, namespace: ns },
  spec: { clusterQueue: cq },
  status: { pendingWorkloads: 1, admittedWorkloads: 1 },
});

export function gpuNode(name: string, pool: string, gpus: number, simulated = true): V1Node {
  return {
    metadata: { name, labels: { [GPU_POOL_LABEL]: pool, ...(simulated ? { type: "kwok" } : {}) } },
    status: {
      allocatable: { [GPU_RESOURCE]: String(gpus), cpu: "32" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

/**
 * A pod of `job` on `node` (phase Running unless said), labelled as the Job controller labels it (the
 * template's run labels, job name and uid); `message` is the trainer's termination message once it ended.
 */
export function podOf(
  job: V1Job,
  o: { node?: string; phase?: string; index?: number; created?: string; message?: string } = {},
): V1Pod {
  const name = `${job.metadata!.name}-${o.index ?? 0}-x${o.created ? o.created.slice(14, 16) : "aa"}`;
  const { [QUEUE_LABEL]: _queue, ...runLabels } = job.metadata!.labels ?? {};
  const labels: Record<string, string> = {
    ...runLabels,
    [JOB_NAME_LABEL]: job.metadata!.name!,
    [POD_JOB_UID_LABEL]: job.metadata!.uid!,
  };
  if (o.index !== undefined) labels["batch.kubernetes.io/job-completion-index"] = String(o.index);
  return {
    metadata: {
      name,
      namespace: job.metadata!.namespace,
      labels,
      creationTimestamp: new Date(o.created ?? job.metadata!.creationTimestamp!),
    },
    spec: { nodeName: o.node, containers: structuredClone(job.spec!.template.spec!.containers) },
    status: {
      phase: o.phase ?? "Running",
      ...(o.message !== undefined
        ? {
            containerStatuses: [
              {
                name: "trainer",
                image: "x",
                imageID: "",
                ready: false,
                restartCount: 0,
                state: { terminated: { exitCode: o.phase === "Failed" ? 1 : 0, message: o.message } },
              },
            ],
          }
        : {}),
    },
  };
}

/** The trainer's termination message for `epochs` epochs of trainerLog: its best (last) epoch line. */
export function trainerMessage(epochs: number): string {
  return `${trainerLog(epochs).trim().split("\n").pop()}\n`;
}

/** The trainer's log for `epochs` epochs: loss falling from 10 by 0.9 per epoch, val_loss a little above. */
export function trainerLog(epochs: number, extra: string[] = []): string {
  const lines = [JSON.stringify({ event: "start", runId: "r", output: "s3://artifacts/runs/r" })];
  for (let e = 1; e <= epochs; e++) {
    const loss = 10 * 0.9 ** e;
    lines.push(
      JSON.stringify({
        epoch: e,
        loss: +loss.toFixed(4),
        val_loss: +(loss * 1.1).toFixed(4),
        metrics: { mae: +(loss / 2).toFixed(4) },
        msPerStep: 1.5,
        etaSeconds: epochs - e,
      }),
    );
  }
  return `${[...lines, ...extra].join("\n")}\n`;
}
