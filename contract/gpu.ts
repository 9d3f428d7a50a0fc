/**
 * The GPU contract, in one place: how a node is a GPU node of a pool (label, taint, extended resource)
 * and how a pod becomes a GPU pod (resources, toleration, pool selector). infra/aws, the cluster layer,
 * the local harness, the plugin and the policy pack import it; the trainer chart receives it through
 * the values the program passes (`chartGpuContract`), and a test ties the chart's defaults to it.
 */

/** Extended resource a GPU pod requests and a GPU node advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";
/** Node label naming a node's GPU pool (Kueue ResourceFlavors and the chart's `gpuPool` select on it). */
export const GPU_POOL_LABEL = "kiln.dev/gpu-pool";
/** Label the NVIDIA stack reads to find GPU nodes; every Kiln GPU node carries it. */
export const GPU_PRESENT_LABEL = { key: "nvidia.com/gpu.present", value: "true" } as const;
/** Label Karpenter sets on AWS GPU instances. */
export const KARPENTER_GPU_LABEL = "karpenter.k8s.aws/instance-gpu-name";
/** Taint every GPU node carries: only pods that ask for GPUs land there. */
export const GPU_TAINT = { key: GPU_RESOURCE, value: "true", effect: "NoSchedule" } as const;
/** The toleration a GPU pod (and a GPU DaemonSet) carries for GPU_TAINT. */
export const GPU_TOLERATION = { key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect } as const;

export interface Toleration {
  readonly key: string;
  readonly operator: "Exists" | "Equal";
  readonly value?: string;
  readonly effect?: string;
}

/** What makes a pod a GPU pod: requests/limits, tolerations and the node selector. */
export interface GpuPodScheduling {
  /** Added to the trainer container's requests and limits (empty for a CPU run). */
  readonly resources: Readonly<Record<string, string>>;
  readonly tolerations: readonly Toleration[];
  /** Empty for a CPU run or when any GPU pool will do. */
  readonly nodeSelector: Readonly<Record<string, string>>;
}

/** The scheduling fields of a pod with `gpus` GPUs, optionally pinned to `pool`. */
export function gpuPodScheduling(gpus: number, pool?: string): GpuPodScheduling {
  if (!Number.isInteger(gpus) || gpus < 0) throw new Error(`GPUs per pod must be an integer >= 0, got ${gpus}`);
  if (gpus === 0) return { resources: {}, tolerations: [], nodeSelector: {} };
  return {
    resources: { [GPU_RESOURCE]: String(gpus) },
    tolerations: [{ ...GPU_TOLERATION }],
    nodeSelector: pool ? { [GPU_POOL_LABEL]: pool } : {},
  };
}

/** True for a toleration that belongs to the contract (so the plugin can replace it, not stack a copy). */
export function isGpuToleration(t: { key?: string }): boolean {
  return t.key === GPU_TAINT.key;
}

/** The chart's `gpuContract` values (charts/trainer/values.yaml holds the same as defaults). */
export function chartGpuContract(): { resource: string; poolLabel: string; tolerations: Toleration[] } {
  return { resource: GPU_RESOURCE, poolLabel: GPU_POOL_LABEL, tolerations: [{ ...GPU_TOLERATION }] };
}
