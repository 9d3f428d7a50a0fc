/**
 * The Kueue manager configuration the stack's Kueue chart runs with (`managerConfig.controllerManagerConfigYaml`):
 * the chart's own defaults, the integrations Kiln uses (Jobs, and JobSets for multi-node runs) and
 * `waitForPodsReady` from the workload contract, so a run whose pods cannot all start is evicted and
 * requeued instead of holding its GPUs. The local harness writes its own Kueue config with the same
 * `KUEUE_WAIT_FOR_PODS_READY` (scripts/cluster/up.sh).
 */
import YAML from "yaml";
import { KUEUE_JOBSET_FRAMEWORK, KUEUE_WAIT_FOR_PODS_READY } from "../../contract/workload";
import { KUEUE_CONFIG_API_VERSION } from "../../contract/kueue";

/** Kueue's integration name of batch/v1 Jobs (the trainer's runs and sweeps). */
export const KUEUE_JOB_FRAMEWORK = "batch/job";

export interface KueueManagerConfigOptions {
  /** Manage JobSets (`jobset.x-k8s.io/jobset`): one Workload per JobSet, all its pods admitted at once. */
  readonly jobset: boolean;
}

/** The Configuration object (config.kueue.x-k8s.io/v1beta1), as data (pure: tested directly). */
export function kueueManagerConfig(opts: KueueManagerConfigOptions): Record<string, unknown> {
  return {
    apiVersion: KUEUE_CONFIG_API_VERSION,
    kind: "Configuration",
    // The chart's defaults (charts/kueue/values.yaml of 0.14.8), but for the workers and client rate below.
    health: { healthProbeBindAddress: ":8081" },
    metrics: { bindAddress: ":8443" },
    webhook: { port: 9443 },
    leaderElection: { leaderElect: true, resourceName: "c1f6bfd2.kueue.x-k8s.io" },
    controller: {
      groupKindConcurrency: {
        // Kueue's Job reconciler waits on API round trips: 5 workers (the chart's) left hundreds of admitted
        // runs suspended at 3,000 runs in the cluster bench.
        "Job.batch": 20,
        "JobSet.jobset.x-k8s.io": 5,
        Pod: 5,
        "Workload.kueue.x-k8s.io": 5,
        "LocalQueue.kueue.x-k8s.io": 1,
        "ClusterQueue.kueue.x-k8s.io": 1,
        "ResourceFlavor.kueue.x-k8s.io": 1,
      },
    },
    // The chart's 50 qps caps admissions near 12/s (each takes about four writes: quota, admission, the
    // Job's unsuspend, its status); the local harness admitted 70/s at 200 (the cluster bench).
    clientConnection: { qps: 200, burst: 400 },
    waitForPodsReady: structuredClone(KUEUE_WAIT_FOR_PODS_READY) as unknown,
    // Only what Kiln submits: Jobs, and JobSets when the stack runs JobSet.
    integrations: { frameworks: [KUEUE_JOB_FRAMEWORK, ...(opts.jobset ? [KUEUE_JOBSET_FRAMEWORK] : [])] },
  };
}

/** The chart value `managerConfig.controllerManagerConfigYaml`. */
export function kueueManagerConfigYaml(opts: KueueManagerConfigOptions): string {
  return YAML.stringify(kueueManagerConfig(opts));
}
