/** Kubernetes objects for the accountant's tests: GPU pods on priced nodes, KWOK nodes, Jobs. */
import type { V1Job, V1Node, V1Pod } from "@kubernetes/client-node";
import { CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL, SIMULATED_NODE_ANNOTATION } from "../../contract/accounting/keys";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../contract/gpu";
import { settingsSchema, type Settings, type TeamSettings } from "../../contract/accounting/settings";

/** Settings with every default, for team research (kiln-research) unless told. */
export function settingsFor(opts: { budget?: TeamSettings["budget"]; [key: string]: unknown } = {}): Settings {
  const { budget, ...rest } = opts;
  return settingsSchema.parse({
    region: "us-east-1",
    intervalSeconds: 30,
    teams: [
      { name: "research", namespace: "kiln-research", clusterQueue: "kiln-research", ...(budget ? { budget } : {}) },
    ],
    ...rest,
  });
}

export function node(
  name: string,
  instanceType: string,
  capacityType: "spot" | "on-demand",
  opts: { pool?: string; simulated?: boolean } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: {
        [INSTANCE_TYPE_LABEL]: instanceType,
        [CAPACITY_TYPE_LABEL]: capacityType,
        ...(opts.pool ? { [GPU_POOL_LABEL]: opts.pool } : {}),
      },
      annotations: opts.simulated ? { [SIMULATED_NODE_ANNOTATION]: "fake" } : {},
    },
  };
}

export interface PodFacts {
  name: string;
  jobUid: string;
  node?: string;
  gpus: number;
  scheduled?: string;
  finished?: string;
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
}

export function pod(f: PodFacts): V1Pod {
  const phase = f.phase ?? (f.finished ? "Succeeded" : f.scheduled ? "Running" : "Pending");
  return {
    metadata: { name: f.name, uid: `uid-${f.name}`, labels: { "batch.kubernetes.io/controller-uid": f.jobUid } },
    spec: {
      nodeName: f.node,
      containers: [
        {
          name: "trainer",
          resources: f.gpus
            ? { limits: { [GPU_RESOURCE]: String(f.gpus) }, requests: { [GPU_RESOURCE]: String(f.gpus) } }
            : {},
        },
      ],
    },
    status: {
      phase,
      conditions: f.scheduled
        ? [{ type: "PodScheduled", status: "True", lastTransitionTime: new Date(f.scheduled) }]
        : [],
      containerStatuses: f.finished
        ? [
            {
              name: "trainer",
              image: "i",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: phase === "Failed" ? 1 : 0, finishedAt: new Date(f.finished) } },
            },
          ]
        : [],
    },
  };
}

export function job(name: string, uid: string, created = "2026-12-01T00:00:00Z"): V1Job {
  return {
    metadata: {
      name,
      uid,
      namespace: "kiln-research",
      creationTimestamp: new Date(created),
      labels: { "app.kubernetes.io/part-of": "kiln" },
    },
    spec: { template: { spec: { containers: [] } } },
  };
}
