/**
 * The dated price and power table behind the plan's $/hour and kW estimates.
 *
 * AS_OF: 2026-11-28 (compiled). Prices are Linux on-demand USD per instance-hour in us-east-1 /
 * us-west-2 (the two regions list the same prices for these types).
 *
 * Sources (copy the figures again from these when updating; the machine that compiled this table
 * had no internet access, so every figure was transcribed, not fetched):
 * - AWS, "Amazon EC2 On-Demand Pricing", https://aws.amazon.com/ec2/pricing/on-demand/
 *   (g4dn, g5, g6, g6e, p4d, p4de, p5, m7i, m6i, m5 rows).
 * - AWS, "Announcing up to 45% price reduction for Amazon EC2 NVIDIA GPU-accelerated instances"
 *   (What's New, June 2025): the P4d / P4de / P5 on-demand prices below are the reduced ones.
 * - AWS, "Amazon EC2 Spot Instances Pricing" and the Spot Instance Advisor,
 *   https://aws.amazon.com/ec2/spot/instance-advisor/ : `spotDiscount` is a typical savings over
 *   on-demand for the family, not a quote; spot prices move every few minutes.
 * - AWS, "Amazon VPC pricing" (NAT gateway $0.045/h, interface endpoint $0.01/h per AZ) and
 *   "Amazon EKS pricing" (cluster $0.10/h in standard support).
 * - NVIDIA datasheets for per-GPU board power (max TGP/TDP): T4 70 W; A10 150 W (the A10G in g5
 *   reports a 300 W power limit in nvidia-smi, which we use); L4 72 W; L40S 350 W; A100 SXM4
 *   40/80 GB 400 W; H100 SXM5 700 W; H200 SXM 700 W.
 *
 * Power is GPU board power only (no CPU, memory, fans or PUE): the kW figure is a floor for
 * capacity planning, not a facility number.
 */

import { familyOf } from "./gpu-families";

export const PRICES_AS_OF = "2026-11-28";

export interface InstancePrice {
  /** On-demand USD per hour. */
  readonly onDemand: number;
  /** GPUs per instance (0 for CPU types). */
  readonly gpus: number;
}

export const INSTANCE_PRICES: Readonly<Record<string, InstancePrice>> = {
  // g4dn: NVIDIA T4
  "g4dn.xlarge": { onDemand: 0.526, gpus: 1 },
  "g4dn.2xlarge": { onDemand: 0.752, gpus: 1 },
  "g4dn.4xlarge": { onDemand: 1.204, gpus: 1 },
  "g4dn.8xlarge": { onDemand: 2.176, gpus: 1 },
  "g4dn.12xlarge": { onDemand: 3.912, gpus: 4 },
  "g4dn.16xlarge": { onDemand: 4.352, gpus: 1 },
  "g4dn.metal": { onDemand: 7.824, gpus: 8 },
  // g5: NVIDIA A10G
  "g5.xlarge": { onDemand: 1.006, gpus: 1 },
  "g5.2xlarge": { onDemand: 1.212, gpus: 1 },
  "g5.4xlarge": { onDemand: 1.624, gpus: 1 },
  "g5.8xlarge": { onDemand: 2.448, gpus: 1 },
  "g5.12xlarge": { onDemand: 5.672, gpus: 4 },
  "g5.16xlarge": { onDemand: 4.096, gpus: 1 },
  "g5.24xlarge": { onDemand: 8.144, gpus: 4 },
  "g5.48xlarge": { onDemand: 16.288, gpus: 8 },
  // g6: NVIDIA L4
  "g6.xlarge": { onDemand: 0.8048, gpus: 1 },
  "g6.2xlarge": { onDemand: 0.9776, gpus: 1 },
  "g6.4xlarge": { onDemand: 1.3232, gpus: 1 },
  "g6.8xlarge": { onDemand: 2.0144, gpus: 1 },
  "g6.12xlarge": { onDemand: 4.6016, gpus: 4 },
  "g6.16xlarge": { onDemand: 3.3968, gpus: 1 },
  "g6.24xlarge": { onDemand: 6.6752, gpus: 4 },
  "g6.48xlarge": { onDemand: 13.3504, gpus: 8 },
  // g6e: NVIDIA L40S
  "g6e.xlarge": { onDemand: 1.861, gpus: 1 },
  "g6e.2xlarge": { onDemand: 2.24208, gpus: 1 },
  "g6e.4xlarge": { onDemand: 3.00424, gpus: 1 },
  "g6e.8xlarge": { onDemand: 4.52856, gpus: 1 },
  "g6e.12xlarge": { onDemand: 10.49264, gpus: 4 },
  "g6e.16xlarge": { onDemand: 7.57719, gpus: 1 },
  "g6e.24xlarge": { onDemand: 15.06559, gpus: 4 },
  "g6e.48xlarge": { onDemand: 30.13118, gpus: 8 },
  // p4d / p4de: NVIDIA A100 40 GB / 80 GB (after the June 2025 reduction)
  "p4d.24xlarge": { onDemand: 21.96, gpus: 8 },
  "p4de.24xlarge": { onDemand: 27.45, gpus: 8 },
  // p5: NVIDIA H100 (after the June 2025 reduction)
  "p5.48xlarge": { onDemand: 55.04, gpus: 8 },
  // system node types (no GPU)
  "m7i.large": { onDemand: 0.1008, gpus: 0 },
  "m7i.xlarge": { onDemand: 0.2016, gpus: 0 },
  "m7i.2xlarge": { onDemand: 0.4032, gpus: 0 },
  "m6i.large": { onDemand: 0.096, gpus: 0 },
  "m6i.xlarge": { onDemand: 0.192, gpus: 0 },
  "m5.large": { onDemand: 0.096, gpus: 0 },
  "m5.xlarge": { onDemand: 0.192, gpus: 0 },
};

export interface FamilyFacts {
  /** Typical spot savings over on-demand (0.6 = pay 40%). */
  readonly spotDiscount: number;
  /** Board power per GPU, watts (NVIDIA datasheet max). */
  readonly gpuWatts: number;
}

export const FAMILY_FACTS: Readonly<Record<string, FamilyFacts>> = {
  g4dn: { spotDiscount: 0.65, gpuWatts: 70 },
  g5: { spotDiscount: 0.6, gpuWatts: 300 },
  g6: { spotDiscount: 0.6, gpuWatts: 72 },
  g6e: { spotDiscount: 0.55, gpuWatts: 350 },
  p4d: { spotDiscount: 0.6, gpuWatts: 400 },
  p4de: { spotDiscount: 0.5, gpuWatts: 400 },
  p5: { spotDiscount: 0.5, gpuWatts: 700 },
  p5e: { spotDiscount: 0.5, gpuWatts: 700 },
};

/** Fixed hourly charges that do not depend on instances. */
export const FIXED_HOURLY = {
  /** EKS cluster, standard support. */
  eksControlPlane: 0.1,
  /** One NAT gateway (plus data processing, not estimated). */
  natGateway: 0.045,
  /** One interface VPC endpoint in one AZ. */
  interfaceEndpointPerAz: 0.01,
};

/** Priced instance types of a family that have GPUs, cheapest per GPU first. */
export function gpuTypesOf(family: string): string[] {
  return Object.entries(INSTANCE_PRICES)
    .filter(([t, p]) => familyOf(t) === family && p.gpus > 0)
    .sort(([, a], [, b]) => a.onDemand / a.gpus - b.onDemand / b.gpus)
    .map(([t]) => t);
}
