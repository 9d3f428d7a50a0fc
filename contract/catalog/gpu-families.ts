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
  /**
   * EFA interfaces of the family's 8-GPU size (EC2 "network cards" with EFA; p4d/p4de.24xlarge 4,
   * p5/p5e.48xlarge 32); absent when Kiln does not give the family EFA (the g families: their few
   * EFA-capable sizes are not what multi-node runs are placed on).
   */
  readonly efaInterfaces?: number;
  /**
   * EC2 instance topology: instances carry `topology.k8s.aws/network-node-layer-1..3` (EC2 User Guide,
   * "Prerequisites for Amazon EC2 topology": g6e, p3dn, p4d, p4de, p5, p5e, p5en, ...; not g4dn, g5, g6).
   */
  readonly instanceTopology?: boolean;
  /** The sizes EC2 offers in the family (`<family>.<size>`): what a GPU pool's instance types may name. */
  readonly sizes: readonly string[];
}

const STEPS_8 = ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge"];

export const GPU_FAMILIES: Readonly<Record<string, GpuFamily>> = {
  g4dn: {
    gpuName: "t4",
    accelerator: "NVIDIA T4",
    gpuMemoryGiB: 16,
    sizes: ["xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"],
  },
  g5: { gpuName: "a10g", accelerator: "NVIDIA A10G", gpuMemoryGiB: 24, sizes: STEPS_8 },
  g6: { gpuName: "l4", accelerator: "NVIDIA L4", gpuMemoryGiB: 24, sizes: STEPS_8 },
  g6e: { gpuName: "l40s", accelerator: "NVIDIA L40S", gpuMemoryGiB: 48, instanceTopology: true, sizes: STEPS_8 },
  p4d: {
    gpuName: "a100",
    accelerator: "NVIDIA A100 40GB",
    gpuMemoryGiB: 40,
    efaInterfaces: 4,
    instanceTopology: true,
    sizes: ["24xlarge"],
  },
  p4de: {
    gpuName: "a100",
    accelerator: "NVIDIA A100 80GB",
    gpuMemoryGiB: 80,
    efaInterfaces: 4,
    instanceTopology: true,
    sizes: ["24xlarge"],
  },
  p5: {
    gpuName: "h100",
    accelerator: "NVIDIA H100",
    gpuMemoryGiB: 80,
    efaInterfaces: 32,
    instanceTopology: true,
    sizes: ["4xlarge", "48xlarge"],
  },
  p5e: {
    gpuName: "h200",
    accelerator: "NVIDIA H200",
    gpuMemoryGiB: 141,
    efaInterfaces: 32,
    instanceTopology: true,
    sizes: ["48xlarge"],
  },
};

/** `g5.12xlarge` -> `g5`. */
export function familyOf(instanceType: string): string {
  return instanceType.split(".")[0];
}

export function isKnownFamily(family: string): boolean {
  // The policy pack runs under Pulumi's ts-node, whose default lib predates Object.hasOwn.
  // biome-ignore lint/suspicious/noPrototypeBuiltins: see above
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
    if (!isKnownFamily(family))
      throw new Error(
        `unknown GPU instance family '${family}' (from '${item}'); known: ${Object.keys(GPU_FAMILIES).join(", ")}`,
      );
    names.add(GPU_FAMILIES[family].gpuName);
  }
  return [...names].sort();
}

/**
 * EFA interfaces every node of a pool made of these families/types has: the smallest of its families'
 * counts, or 0 when any of them has no EFA (a pool is EFA only when all of its nodes are). Unknown
 * families count as 0 (config validation refuses them first).
 */
export function efaInterfacesOf(familiesOrTypes: readonly string[]): number {
  if (familiesOrTypes.length === 0) return 0;
  return Math.min(
    ...familiesOrTypes.map((f) => (isKnownFamily(familyOf(f)) ? (GPU_FAMILIES[familyOf(f)].efaInterfaces ?? 0) : 0)),
  );
}

/** True when every family/type of a pool carries EC2 instance topology labels. */
export function hasInstanceTopology(familiesOrTypes: readonly string[]): boolean {
  return (
    familiesOrTypes.length > 0 &&
    familiesOrTypes.every((f) => isKnownFamily(familyOf(f)) && GPU_FAMILIES[familyOf(f)].instanceTopology === true)
  );
}
