/** Node labels and taints every platform puts on GPU nodes (the contract with aws/ and the harness). */

/** Label naming a node's GPU pool. */
export const GPU_POOL_LABEL = "kiln.dev/gpu-pool";
/** Label Karpenter sets on AWS GPU instances. */
export const KARPENTER_GPU_LABEL = "karpenter.k8s.aws/instance-gpu-name";
/** Taint every GPU node carries. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** Extended resource a GPU pod requests. */
export const GPU_RESOURCE = "nvidia.com/gpu";
