/**
 * Pure construction of a run with your own image (`kubectl kiln submit --image`): the namespace's Job
 * template (CronJob kiln-trainer) -> a JobSet of one replicated Job `node` (Indexed, one pod per node)
 * with the workload contract's environment (contract/workload.ts), and the NetworkPolicy that lets
 * its pods reach each other. Every field JobSet's defaulting webhook would set is set here: the local
 * cluster runs the JobSet controller without its webhooks. Field names follow sigs.k8s.io/jobset v0.12.0
 * (api/jobset/v1alpha2/jobset_types.go). No API calls here.
 */
import type {
  V1Container,
  V1CronJob,
  V1EnvVar,
  V1Job,
  V1JobSpec,
  V1ObjectMeta,
  V1PodFailurePolicyRule,
  V1PodSpec,
} from "@kubernetes/client-node";
import {
  checkpointUri,
  COMPLETION_INDEX_ANNOTATION,
  coordinatorAddress,
  DEFAULT_MAX_RESTARTS,
  ENV,
  HOSTNAME_LABEL,
  EXIT_DISRUPTED,
  EXIT_FAIL_NOW,
  JOBSET_API_VERSION,
  JOBSET_GROUP,
  JOBSET_KIND,
  JOBSET_NAME_LABEL,
  JOBSET_RESTART_LABEL,
  outputUri,
  peerSelector,
  rankHost,
  RENDEZVOUS_PORT,
  REPLICATED_JOB,
  TOPOLOGY_PREFERRED_ANNOTATION,
  TOPOLOGY_REQUIRED_ANNOTATION,
  WORKLOAD_IMAGE,
  WORKLOAD_LABEL,
} from "../../contract/workload";
import { GPU_RESOURCE } from "../../contract/gpu";
import { CliError } from "./errors";
import { setGpus, trainerContainer } from "./job";
import { checkTemplate } from "./template-schema";
import { PART_OF, PART_OF_LABEL, QUEUE_LABEL, RUN_LABEL, TRAINER_NAME } from "../../contract/labels";

export const JOBSET_API = `${JOBSET_GROUP}/${JOBSET_API_VERSION}`;

/** A JobSet condition (metav1.Condition). */
export interface JobSetCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface FailurePolicyRule {
  /** ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ */
  name: string;
  action:
    | "FailJobSet"
    | "RestartJobSet"
    | "RestartJobSetAndIgnoreMaxRestarts"
    | "RestartJob"
    | "RestartJobAndIgnoreMaxRestarts";
  onJobFailureReasons?: string[];
  /** RE2 patterns matched against the failed Job's Failed condition message. */
  onJobFailureMessagePatterns?: string[];
  targetReplicatedJobs?: string[];
}

/** The parts of jobset.x-k8s.io/v1alpha2 JobSet Kiln writes and reads. */
export interface JobSet {
  apiVersion: string;
  kind: typeof JOBSET_KIND;
  metadata: V1ObjectMeta;
  spec: {
    replicatedJobs: { name: string; replicas: number; template: { metadata?: V1ObjectMeta; spec: V1JobSpec } }[];
    network?: { enableDNSHostnames?: boolean; subdomain?: string; publishNotReadyAddresses?: boolean };
    successPolicy?: { operator: "All" | "Any"; targetReplicatedJobs?: string[] };
    failurePolicy?: {
      maxRestarts?: number;
      restartStrategy?: "Recreate" | "BlockingRecreate" | "InPlaceRestart";
      rules?: FailurePolicyRule[];
    };
    startupPolicy?: { startupPolicyOrder: "AnyOrder" | "InOrder" };
    suspend?: boolean;
    ttlSecondsAfterFinished?: number;
  };
  status?: {
    conditions?: JobSetCondition[];
    restarts?: number;
    restartsCountTowardsMax?: number;
    terminalState?: string;
    replicatedJobsStatus?: {
      name: string;
      ready: number;
      succeeded: number;
      failed: number;
      active: number;
      suspended: number;
    }[];
  };
}

type LabelSelector = { matchLabels: Record<string, string> };
/**
 * networking.k8s.io/v1 NetworkPolicy as JSON (client-node's NetworkPolicy names `from` `_from`, so
 * it is sent as a plain object, like the JobSet).
 */
export interface NetworkPolicy {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  metadata: V1ObjectMeta;
  spec: {
    podSelector: LabelSelector;
    policyTypes: ("Ingress" | "Egress")[];
    ingress: { from: { podSelector: LabelSelector }[] }[];
    egress: { to: { podSelector: LabelSelector }[] }[];
  };
}

export const isJobSet = (o: unknown): o is JobSet => (o as { kind?: unknown } | undefined)?.kind === JOBSET_KIND;

/** Largest `--nodes`: ranks are `<run>-node-0-<rank>` host names (a DNS label, see MAX_IMAGE_RUN_NAME). */
export const MAX_NODES = 512;
/** Longest run name of a JobSet run: rank host names `<run>-node-0-<rank>` must stay within 63 characters. */
export const MAX_IMAGE_RUN_NAME = 63 - `-${REPLICATED_JOB}-0-`.length - String(MAX_NODES - 1).length;

/** The template's env Kiln's trainer alone reads; every KILN_* of the template goes (the contract sets its own). */
const isTrainerOnlyEnv = (name: string) => name.startsWith("KILN_");

/**
 * Kubernetes' Job controller (pkg/controller/job/pod_failure_policy.go, v1.34) fails a Job that matched a
 * FailJob rule with reason `PodFailurePolicy` and the message
 *   `Container <c> for pod <ns>/<pod> failed with exit code <n> matching FailJob rule at index <i>` or
 *   `Pod <ns>/<pod> has condition <type> matching FailJob rule at index <i>`.
 * JobSet matches these RE2 patterns against that message (failure_policy.go, ruleIsApplicable).
 */
export const JOB_FAILURE_REASON = "PodFailurePolicy";
export const exitCodePattern = (codes: readonly number[]) =>
  `failed with exit code (${codes.join("|")}) matching FailJob rule`;
export const conditionPattern = (type: string) => `has condition ${type} matching FailJob rule`;

/** The Job's pod failure policy: every outcome that the JobSet must tell apart fails the Job at once, with its own message. */
export function podFailurePolicyRules(container: string): V1PodFailurePolicyRule[] {
  return [
    { action: "FailJob", onExitCodes: { containerName: container, operator: "In", values: [...EXIT_FAIL_NOW] } },
    { action: "FailJob", onExitCodes: { containerName: container, operator: "In", values: [EXIT_DISRUPTED] } },
    { action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
  ];
}

/** The JobSet's rules: 2/3 fail the run, a disruption (143, DisruptionTarget) restarts the group for free, anything else restarts it and counts. */
export function failurePolicyRules(): FailurePolicyRule[] {
  return [
    {
      name: "failNow",
      action: "FailJobSet",
      onJobFailureReasons: [JOB_FAILURE_REASON],
      onJobFailureMessagePatterns: [exitCodePattern(EXIT_FAIL_NOW)],
      targetReplicatedJobs: [REPLICATED_JOB],
    },
    {
      name: "disrupted",
      action: "RestartJobSetAndIgnoreMaxRestarts",
      onJobFailureReasons: [JOB_FAILURE_REASON],
      onJobFailureMessagePatterns: [exitCodePattern([EXIT_DISRUPTED]), conditionPattern("DisruptionTarget")],
      targetReplicatedJobs: [REPLICATED_JOB],
    },
    // No rule matches any other failure: JobSet's default action, RestartJobSet, counts it against maxRestarts.
  ];
}

export interface TopologyRequest {
  readonly mode: "required" | "preferred";
  /** The level's node label (already checked against the cluster's Topology). */
  readonly level: string;
}

export interface ImageRunOptions {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  /** The container's command (entrypoint and arguments). */
  readonly command: readonly string[];
  readonly nodes: number;
  /** GPUs per node; default the template's. */
  readonly gpus?: number;
  /** CPU request per node (a Kubernetes quantity); default the template's. */
  readonly cpus?: string;
  /** Memory request and limit per node (a Kubernetes quantity); default the template's. */
  readonly memory?: string;
  /** The user's --env, already validated (not reserved, C identifiers). */
  readonly env?: readonly { name: string; value: string }[];
  /** Default DEFAULT_MAX_RESTARTS. */
  readonly maxRestarts?: number;
  readonly topology?: TopologyRequest;
  /** Kueue LocalQueue; default the template's. */
  readonly queue?: string;
  /** Bucket of the run's outputs and checkpoints (the default run spec's output.uri bucket). */
  readonly artifactsBucket: string;
}

export interface ImageRun {
  readonly jobSet: JobSet;
  /** Lets the run's pods reach each other on every port; none for one node. Owner reference added on create. */
  readonly networkPolicy?: NetworkPolicy;
}

const fieldEnv = (name: string, fieldPath: string): V1EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** The workload contract's environment for rank $(KILN_NODE_RANK) of `nodes`. */
export function contractEnv(run: string, nodes: number, gpusPerNode: number, artifactsBucket: string): V1EnvVar[] {
  const rank = `$(${ENV.NODE_RANK})`;
  const workers = Array.from({ length: nodes }, (_, i) => `${rankHost(run, i)}:${RENDEZVOUS_PORT}`);
  // Kubernetes expands $(KILN_NODE_RANK) (defined earlier in the list) inside the JSON: "index": 3.
  const tfConfig = `{"cluster":{"worker":${JSON.stringify(workers)}},"task":{"type":"worker","index":${rank}}}`;
  return [
    fieldEnv(ENV.NODE_RANK, `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']`),
    { name: ENV.NUM_NODES, value: String(nodes) },
    { name: ENV.COORDINATOR, value: coordinatorAddress(run) },
    { name: ENV.GPUS_PER_NODE, value: String(gpusPerNode) },
    { name: ENV.RUN_ID, value: run },
    fieldEnv(ENV.RESTART_ATTEMPT, `metadata.labels['${JOBSET_RESTART_LABEL}']`),
    { name: ENV.OUTPUT_URI, value: outputUri(artifactsBucket, run) },
    { name: ENV.CHECKPOINT_URI, value: checkpointUri(artifactsBucket, run) },
    { name: "MASTER_ADDR", value: rankHost(run, 0) },
    { name: "MASTER_PORT", value: String(RENDEZVOUS_PORT) },
    { name: "NNODES", value: String(nodes) },
    // Nodes, not processes: torchrun's --nproc-per-node multiplies (docs/workloads.md).
    { name: "WORLD_SIZE", value: String(nodes) },
    { name: "NODE_RANK", value: rank },
    { name: "JAX_COORDINATOR_ADDRESS", value: coordinatorAddress(run) },
    { name: "JAX_NUM_PROCESSES", value: String(nodes) },
    { name: "JAX_PROCESS_ID", value: rank },
    { name: "TF_CONFIG", value: tfConfig },
  ];
}

/** GPUs per pod of a container (nvidia.com/gpu limit, else request), 0 without. */
function containerGpus(c: V1Container): number {
  const v = c.resources?.limits?.[GPU_RESOURCE] ?? c.resources?.requests?.[GPU_RESOURCE];
  return v === undefined ? 0 : Number(v);
}

const withoutQueue = (labels: Record<string, string> | undefined) => {
  const out = { ...(labels ?? {}) };
  delete out[QUEUE_LABEL];
  return out;
};

/**
 * A run with your own image from the template CronJob: its pod template (security context, service
 * account, object-store env and credentials, tolerations, labels, queue) with only the image, command,
 * trainer-only env, GPUs and the Job's completion and failure fields changed.
 */
export function imageRunFromTemplate(template: V1CronJob, opts: ImageRunOptions): ImageRun {
  checkTemplate(template, `CronJob ${template?.metadata?.name ?? TRAINER_NAME}`);
  const jt = template.spec?.jobTemplate;
  if (!jt?.spec?.template?.spec)
    throw new CliError(
      `CronJob ${template.metadata?.name ?? TRAINER_NAME} has no jobTemplate with a pod spec; reinstall charts/trainer`,
    );
  const run = opts.name;
  const spec: V1JobSpec = structuredClone(jt.spec);
  const pod = spec.template.spec!;
  const c = trainerContainer(pod);

  c.image = opts.image;
  c.command = [...opts.command];
  delete c.args;
  // The user's --env replaces a template variable of the same name (HOME, AWS_*); reserved names never get here.
  const userNames = new Set((opts.env ?? []).map((e) => e.name));
  c.env = (c.env ?? []).filter((e) => !isTrainerOnlyEnv(e.name) && !userNames.has(e.name));
  if (opts.gpus !== undefined) setGpus(pod, opts.gpus);
  setCpuMemory(c, opts.cpus, opts.memory);
  const gpusPerNode = containerGpus(c);
  c.env.push(
    ...contractEnv(run, opts.nodes, gpusPerNode, opts.artifactsBucket),
    ...(opts.env ?? []).map((e) => ({ name: e.name, value: e.value })),
  );

  const queue = opts.queue ?? jt.metadata?.labels?.[QUEUE_LABEL];
  const runLabels = {
    ...withoutQueue(jt.metadata?.labels),
    "app.kubernetes.io/managed-by": "kubectl-kiln",
    [RUN_LABEL]: run,
    [WORKLOAD_LABEL]: WORKLOAD_IMAGE,
  };
  spec.template.metadata ??= {};
  const podMeta = spec.template.metadata;
  // Kueue admits the JobSet as one Workload: its child Jobs and pods carry no queue label of their own.
  podMeta.labels = {
    ...withoutQueue(podMeta.labels),
    "app.kubernetes.io/managed-by": "kubectl-kiln",
    [RUN_LABEL]: run,
    [WORKLOAD_LABEL]: WORKLOAD_IMAGE,
  };
  if (opts.topology) {
    podMeta.annotations = {
      ...(podMeta.annotations ?? {}),
      [opts.topology.mode === "required" ? TOPOLOGY_REQUIRED_ANNOTATION : TOPOLOGY_PREFERRED_ANNOTATION]:
        opts.topology.level,
    };
  }

  if (opts.nodes > 1) spreadRanks(pod, run);

  // One pod per node, every failure fails the Job at once: the JobSet's failure policy decides.
  spec.completionMode = "Indexed";
  spec.completions = opts.nodes;
  spec.parallelism = opts.nodes;
  spec.backoffLimit = 0;
  spec.podFailurePolicy = { rules: podFailurePolicyRules(c.name) };
  // The JobSet suspends and resumes its Jobs, and its own TTL removes them.
  delete spec.suspend;
  const ttl = spec.ttlSecondsAfterFinished;
  delete spec.ttlSecondsAfterFinished;

  const jobSet: JobSet = {
    apiVersion: JOBSET_API,
    kind: JOBSET_KIND,
    metadata: {
      name: run,
      namespace: opts.namespace,
      labels: { ...runLabels, ...(queue ? { [QUEUE_LABEL]: queue } : {}) },
      annotations: {
        ...(jt.metadata?.annotations ?? {}),
        "kiln.dev/template": `cronjob/${template.metadata?.name ?? TRAINER_NAME}`,
      },
    },
    spec: {
      replicatedJobs: [{ name: REPLICATED_JOB, replicas: 1, template: { metadata: { labels: runLabels }, spec } }],
      network: { enableDNSHostnames: true, subdomain: run, publishNotReadyAddresses: true },
      successPolicy: { operator: "All", targetReplicatedJobs: [REPLICATED_JOB] },
      failurePolicy: {
        maxRestarts: opts.maxRestarts ?? DEFAULT_MAX_RESTARTS,
        restartStrategy: "Recreate",
        rules: failurePolicyRules(),
      },
      startupPolicy: { startupPolicyOrder: "AnyOrder" },
      // Queued: Kueue starts the run by unsuspending the JobSet once the whole group fits.
      suspend: queue !== undefined,
      ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}),
    },
  };
  return { jobSet, ...(opts.nodes > 1 ? { networkPolicy: peersPolicy(run, opts.namespace) } : {}) };
}

/**
 * Each rank on a node of its own where there are nodes to spare: a preferred anti-affinity on the host
 * name against the run's other pods. Karpenter provisions for it as if it were required; a cluster with
 * fewer free nodes than ranks (the local cluster's one real node) packs them instead of waiting.
 */
function spreadRanks(pod: V1PodSpec, run: string): void {
  const term = {
    weight: 100,
    podAffinityTerm: { topologyKey: HOSTNAME_LABEL, labelSelector: { matchLabels: peerSelector(run) } },
  };
  pod.affinity ??= {};
  pod.affinity.podAntiAffinity ??= {};
  const anti = pod.affinity.podAntiAffinity;
  anti.preferredDuringSchedulingIgnoredDuringExecution = [
    ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []),
    term,
  ];
}

/**
 * --cpus sets the container's CPU request (and a CPU limit the template has); --memory its memory request
 * and limit (a pod over it is OOMKilled, so the two are the same).
 */
function setCpuMemory(c: V1Container, cpus: string | undefined, memory: string | undefined): void {
  if (cpus === undefined && memory === undefined) return;
  c.resources ??= {};
  const resources = c.resources;
  resources.requests ??= {};
  const requests = resources.requests;
  if (cpus !== undefined) {
    requests.cpu = cpus;
    if (resources.limits?.cpu !== undefined) resources.limits.cpu = cpus;
  }
  if (memory !== undefined) {
    requests.memory = memory;
    resources.limits ??= {};
    resources.limits.memory = memory;
  }
}

/** Name of the NetworkPolicy of a run's peers. */
export const peersPolicyName = (run: string) => `${run}-peers`;

/**
 * The run's pods may reach each other on every port, both ways (rendezvous, then gloo/NCCL on ephemeral
 * ports), and nothing else: NetworkPolicies add up, so the namespace's default-deny and its other
 * allowances still hold. Selected by the run label and the JobSet name, so a trainer Job of the same
 * name is not a peer.
 */
export function peersPolicy(run: string, namespace: string): NetworkPolicy {
  const peers = { matchLabels: peerSelector(run) };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: peersPolicyName(run),
      namespace,
      labels: { [PART_OF_LABEL]: PART_OF, "app.kubernetes.io/managed-by": "kubectl-kiln", [RUN_LABEL]: run },
    },
    spec: {
      podSelector: peers,
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: peers }] }],
      egress: [{ to: [{ podSelector: peers }] }],
    },
  };
}

/** The NetworkPolicy owned by the created JobSet, so it goes when the run is deleted. */
export function ownedBy(policy: NetworkPolicy, jobSet: JobSet): NetworkPolicy {
  const uid = jobSet.metadata.uid;
  if (!uid) return policy;
  return {
    ...policy,
    metadata: {
      ...policy.metadata,
      ownerReferences: [{ apiVersion: JOBSET_API, kind: JOBSET_KIND, name: jobSet.metadata.name!, uid }],
    },
  };
}

/** The Job the JobSet makes for replicated Job `node`, for readers that take a Job (env resolution). */
export function childJobOf(js: JobSet): V1Job {
  const rj = js.spec.replicatedJobs[0];
  const spec = structuredClone(rj.template.spec);
  const restarts = String(js.status?.restarts ?? 0);
  spec.template.metadata = {
    ...spec.template.metadata,
    labels: {
      ...(spec.template.metadata?.labels ?? {}),
      [JOBSET_NAME_LABEL]: js.metadata.name!,
      [JOBSET_RESTART_LABEL]: restarts,
    },
  };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: `${js.metadata.name}-${rj.name}-0`,
      namespace: js.metadata.namespace,
      labels: { ...(rj.template.metadata?.labels ?? {}) },
    },
    spec,
  };
}
