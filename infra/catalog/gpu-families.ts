/**
 * The EC2 GPU instance families Kiln knows how to run training on. Karpenter labels GPU nodes
 * with `karpenter.k8s.aws/instance-gpu-name`; `gpuName` is that label's value for the family.
 */
export interface GpuFamily {
  /** Value of the `karpenter.k8s.aws/instance-gpu-name` node label. */
  readonly gpuName: string;
  /** NVIDIA accelerator, for humans and the plan. */
  readonly accelerator: string;
  /** GPU memory per GPU, GiB. */
  readonly gpuMemoryGiB: number;
}

export const GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
  g4dn: { gpuName: "t4", accelerator: "NVIDIA T4", gpuMemoryGiB: 16 },
  g5: { gpuName: "a10g", accelerator: "NVIDIA A10G", gpuMemoryGiB: 24 },
  g6: { gpuName: "l4", accelerator: "NVIDIA L4", gpuMemoryGiB: 24 },
  g6e: { gpuName: "l40s", accelerator: "NVIDIA L40S", gpuMemoryGiB: 48 },
  p4d: { gpuName: "a100", accelerator: "NVIDIA A100 40GB", gpuMemoryGiB: 40 },
  p4de: { gpuName: "a100", accelerator: "NVIDIA A100 80GB", gpuMemoryGiB: 80 },
  p5: { gpuName: "h100", accelerator: "NVIDIA H100", gpuMemoryGiB: 80 },
  p5e: { gpuName: "h200", accelerator: "NVIDIA H200", gpuMemoryGiB: 141 },
};

/** `g5.12xlarge` -> `g5`. */
export function familyOf(instanceType: string): string {
  return instanceType.split(".")[0];
}

export function isKnownFamily(family: string): boolean {
  return Object.prototype.hasOwnProperty.call(GPU_FAMILIES, family);
}

/**
 * Distinct `karpenter.k8s.aws/instance-gpu-name` values of instance families and/or types
 * (`g5`, `g6.xlarge`, ...). Throws on an unknown family, naming it and the known ones.
 */
export function gpuNamesOf(familiesOrTypes: readonly string[]): string[] {
  const names = new Set<string>();
  for (const item of familiesOrTypes) {
    const family = familyOf(item);
    if (!isKnownFamily(family)) throw new Error(`unknown GPU instance family '${family}' (from '${item}'); known: ${Object.keys(GPU_FAMILIES).join(", ")}`);
    names.add(GPU_FAMILIES[family].gpuName);
  }
  return [...names].sort();
}
