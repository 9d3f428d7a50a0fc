/**
 * EC2 instance types Kiln accepts: the type-name grammar, and the sizes that exist in each family it knows
 * (from the EC2 User Guide's "Instance type specifications", transcribed with contract/catalog/prices.ts; a test
 * keeps every priced type in here). A type outside this table is refused before AWS refuses it mid-deployment.
 */
import { GPU_FAMILIES } from "./gpu-families";
import { INSTANCE_PRICES } from "./prices";

/** Sizes per GPU family, from the family catalogue (gpu-families.ts holds them). */
export const GPU_FAMILY_SIZES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(GPU_FAMILIES).map(([family, f]) => [family, f.sizes]),
);

/** The sizes of the 7th-generation Intel general, compute and memory families (m7i, c7i, r7i). */
const GEN7_INTEL = [
  "large",
  "xlarge",
  "2xlarge",
  "4xlarge",
  "8xlarge",
  "12xlarge",
  "16xlarge",
  "24xlarge",
  "48xlarge",
  "metal-24xl",
  "metal-48xl",
];

/**
 * Sizes per x86 family the system node group may use (its AMI is AL2023_x86_64_STANDARD, so no Graviton
 * families).
 */
export const SYSTEM_FAMILY_SIZES: Readonly<Record<string, readonly string[]>> = {
  t3: ["medium", "large", "xlarge", "2xlarge"],
  m5: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "metal"],
  m6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"],
  m6a: [
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
    "metal",
  ],
  m7i: GEN7_INTEL,
  "m7i-flex": ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge"],
  m7a: [
    "medium",
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "32xlarge",
    "48xlarge",
    "metal-48xl",
  ],
  c5: ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"],
  c6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"],
  c7i: GEN7_INTEL,
  r5: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "metal"],
  r6i: ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"],
  r7i: GEN7_INTEL,
};

/**
 * An EC2 instance type name: family (a series letter or letters, a generation digit, optional attribute
 * letters and an optional `-flex`-style suffix), a dot, a size (`nano` ... `xlarge`, `<n>xlarge`, `metal`,
 * `metal-<n>xl`).
 */
export const INSTANCE_TYPE_NAME =
  /^(?<family>[a-z]+[1-9][a-z0-9]*(-[a-z0-9]+)?)\.(?<size>nano|micro|small|medium|large|xlarge|[1-9]\d?xlarge|metal(-[1-9]\d?xl)?)$/;

export type InstanceUse = "gpu" | "system";

export interface InstanceTypeVerdict {
  /** Why AWS would refuse the type, or undefined. */
  readonly problem?: string;
  /** Accepted, but the plan cannot price it. */
  readonly warning?: string;
}

/** Judges an instance type for a GPU pool or the system node group. */
export function checkInstanceType(type: string, use: InstanceUse): InstanceTypeVerdict {
  const table = use === "gpu" ? GPU_FAMILY_SIZES : SYSTEM_FAMILY_SIZES;
  const families = Object.keys(table).join(", ");
  const m = INSTANCE_TYPE_NAME.exec(type);
  if (!m)
    return {
      problem: `'${type.slice(0, 40)}' is not an EC2 instance type name (family.size, e.g. ${use === "gpu" ? "g5.xlarge" : "m7i.large"})`,
    };
  const { family, size } = m.groups!;
  const sizes = table[family];
  if (!sizes) {
    const other =
      use === "gpu"
        ? SYSTEM_FAMILY_SIZES[family]
          ? " (a CPU family: GPU pools need a GPU family)"
          : ""
        : GPU_FAMILIES[family]
          ? " (a GPU family: system nodes are x86 CPU types)"
          : "";
    return {
      problem: `'${type}' is not of a family Kiln knows for ${use === "gpu" ? "GPU pools" : "system nodes"}${other}: ${families}`,
    };
  }
  if (!sizes.includes(size)) return { problem: `'${type}' does not exist: ${family} comes in ${sizes.join(", ")}` };
  if (!INSTANCE_PRICES[type])
    return { warning: `'${type}' has no price in infra/catalog/prices.ts: the plan's $/h and kW leave it out` };
  return {};
}
