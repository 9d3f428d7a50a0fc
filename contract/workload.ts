/**
 * The workload contract: how a run with your own image, on one node or many, is shaped (a JobSet of one
 * replicated Job, Indexed, one pod per node), what every pod of it is told (the rendezvous and storage
 * environment), and how a pod loss restarts the group. The plugin builds runs from it, the program's
 * RBAC, NetworkPolicies and Kueue config follow it, the harness and the e2e tests read it.
 */
import { RUN_LABEL } from "./labels";

/** JobSet's API (kubernetes-sigs/jobset; the version the stack installs is pinned in scripts/toolchain/versions.sh). */
export const JOBSET_GROUP = "jobset.x-k8s.io";
export const JOBSET_API_VERSION = "v1alpha2";
export const JOBSET_PLURAL = "jobsets";
export const JOBSET_KIND = "JobSet";
/** The Kueue integration name of JobSet (Kueue's `integrations.frameworks`). */
export const KUEUE_JOBSET_FRAMEWORK = "jobset.x-k8s.io/jobset";

/** The one replicated Job of a run; its Indexed pods are the nodes (ranks) of the run. */
export const REPLICATED_JOB = "node";
/** Labels JobSet puts on its child Jobs and their pods. */
export const JOBSET_NAME_LABEL = "jobset.sigs.k8s.io/jobset-name";
export const JOBSET_RESTART_LABEL = "jobset.sigs.k8s.io/restart-attempt";
/** Label JobSet puts on its child Jobs and their pods with the JobSet's UID (a re-used run name gets a new one). */
export const JOBSET_UID_LABEL = "jobset.sigs.k8s.io/jobset-uid";
/** Annotation (and label) Kubernetes puts on an Indexed Job's pods: the pod's rank. */
export const COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** Label on the Job or JobSet of a run with your own image: `image` (the trainer's runs have none). */
export const WORKLOAD_LABEL = "kiln.dev/workload";
export const WORKLOAD_IMAGE = "image";

/**
 * The pods of run `run` with your own image, as a label selector: the run label and the JobSet's name (so a
 * trainer Job of the same name is never a peer). A run's peers NetworkPolicy selects and admits exactly
 * these; the program's admission policy refuses a submitter's NetworkPolicy of any other shape.
 */
export function peerSelector(run: string): Record<string, string> {
  return { [RUN_LABEL]: run, [JOBSET_NAME_LABEL]: run };
}

/** The rendezvous port rank 0 listens on (torchrun's default; JAX's coordinator and TF_CONFIG use it too). */
export const RENDEZVOUS_PORT = 29500;

/** The stable DNS name of rank `rank` of run `run` (JobSet's headless Service is named after the run). */
export function rankHost(run: string, rank: number): string {
  return `${run}-${REPLICATED_JOB}-0-${rank}.${run}`;
}
/** `host:port` of rank 0: where every framework meets. */
export function coordinatorAddress(run: string): string {
  return `${rankHost(run, 0)}:${RENDEZVOUS_PORT}`;
}

/** Environment names Kiln sets in every pod of a run with your own image. */
export const ENV = {
  NODE_RANK: "KILN_NODE_RANK",
  NUM_NODES: "KILN_NUM_NODES",
  COORDINATOR: "KILN_COORDINATOR",
  GPUS_PER_NODE: "KILN_GPUS_PER_NODE",
  RUN_ID: "KILN_RUN_ID",
  OUTPUT_URI: "KILN_OUTPUT_URI",
  CHECKPOINT_URI: "KILN_CHECKPOINT_URI",
  RESTART_ATTEMPT: "KILN_RESTART_ATTEMPT",
} as const;

/** Names reserved for Kiln: a user's `--env` may not set them. */
export const RESERVED_ENV_PREFIXES = ["KILN_"] as const;
export const FRAMEWORK_ENV = [
  "MASTER_ADDR",
  "MASTER_PORT",
  "NNODES",
  "WORLD_SIZE",
  "NODE_RANK",
  "JAX_COORDINATOR_ADDRESS",
  "JAX_NUM_PROCESSES",
  "JAX_PROCESS_ID",
  "TF_CONFIG",
] as const;

/** Where a run's outputs and checkpoints go: `<artifacts>/runs/<run>/` and `.../checkpoints/` (the same across restarts). */
export function outputUri(artifactsBucket: string, run: string): string {
  return `s3://${artifactsBucket}/runs/${run}`;
}
export function checkpointUri(artifactsBucket: string, run: string): string {
  return `${outputUri(artifactsBucket, run)}/checkpoints`;
}

/**
 * Exit codes of a run's container and what they do to the group. 143 (SIGTERM: the pod was deleted,
 * evicted, drained or preempted, and the program checkpointed) and a pod's DisruptionTarget condition
 * restart the whole group without counting as a failure; 2 (bad input) and 3 (diverged) fail the run at
 * once; any other failure restarts the group and counts against `maxRestarts`.
 */
export const EXIT_DISRUPTED = 143;
export const EXIT_FAIL_NOW = [2, 3] as const;
/** Default of `--max-restarts`: group restarts after failures (disruptions do not count). */
export const DEFAULT_MAX_RESTARTS = 3;

/** Kueue TopologyAwareScheduling: the annotations a pod template asks for one topology level with. */
export const TOPOLOGY_REQUIRED_ANNOTATION = "kueue.x-k8s.io/podset-required-topology";
export const TOPOLOGY_PREFERRED_ANNOTATION = "kueue.x-k8s.io/podset-preferred-topology";
/** The Topology object every topology-aware flavor names. */
export const TOPOLOGY_NAME = "kiln-topology";
/** Kubernetes' node label with the node's name: the innermost topology level, and where ranks spread. */
export const HOSTNAME_LABEL = "kubernetes.io/hostname";
/** Node labels of the topology levels, outermost first: on aws EC2 instance topology, then the host. */
export const AWS_TOPOLOGY_LEVELS = [
  "topology.k8s.aws/network-node-layer-1",
  "topology.k8s.aws/network-node-layer-2",
  "topology.k8s.aws/network-node-layer-3",
  HOSTNAME_LABEL,
] as const;
/** On the local cluster: synthetic block and rack labels on the simulated nodes, then the host. */
export const LOCAL_TOPOLOGY_LEVELS = ["kiln.dev/topology-block", "kiln.dev/topology-rack", HOSTNAME_LABEL] as const;

/** EFA: the extended resource multi-node runs on EFA-capable pools request (aws). */
export const EFA_RESOURCE = "vpc.amazonaws.com/efa";

/** Short names a user may give `--topology` for a level label: `block`, `rack`, `layer-1`..`layer-3`, `host`. */
export function topologyLevelAlias(label: string): string {
  if (label === HOSTNAME_LABEL) return "host";
  const m = /(?:topology-|network-node-)(.+)$/.exec(label);
  return m ? m[1] : label;
}

/** Label on the nodes of a pool with EFA (aws): `"true"`. The EFA device plugin runs there. */
export const EFA_NODE_LABEL = "kiln.dev/efa";

/**
 * Kueue's `waitForPodsReady`, the all-or-nothing part of gang admission: a run whose pods are not all
 * Ready within `timeout` of admission (or, once running, within `recoveryTimeout` of losing one) is
 * evicted, its pods deleted and its quota released, and it is requeued after a backoff of about
 * `backoffBaseSeconds * 2^(n-1)` seconds (capped at `backoffMaxSeconds`); after `backoffLimitCount`
 * requeues Kueue deactivates it (`spec.active: false`). `blockAdmission: false`: other runs are admitted
 * while one waits for its pods. The ONE copy of these numbers: the aws stack's Kueue chart
 * (infra/cluster/kueue-config.ts) and the local harness's Kueue config (scripts/cluster/up.sh) read it.
 *
 * 10 minutes covers a cold GPU node on aws (Karpenter launch, join, device plugin, a multi-GB image
 * pull); a restart after a lost spot node needs a new node too, hence the same recoveryTimeout.
 * `timestamp: "Creation"`: a requeued run keeps its place by age, so an older run evicted for slow pods is
 * not put behind younger ones of the same priority (with `Eviction` the 10,000-run bench saw inversions).
 */
export const KUEUE_WAIT_FOR_PODS_READY = {
  enable: true,
  timeout: "10m",
  recoveryTimeout: "10m",
  blockAdmission: false,
  requeuingStrategy: {
    timestamp: "Creation",
    backoffLimitCount: 5,
    backoffBaseSeconds: 60,
    backoffMaxSeconds: 1800,
  },
} as const;
