/**
 * The resource groups of a team's ClusterQueue (pure: tested directly).
 *
 * Without topology-aware pools: cpu and memory in the `cpu` flavor (no node constraint), GPUs in one
 * flavor per pool. With at least one topology-aware pool the layout must change, because Kueue 0.14's
 * TopologyAwareScheduling places a pod set only when ONE flavor holds all of its resources
 * (pkg/scheduler/flavorassigner/tas_flavorassigner.go `onlyFlavor`): one resource group then covers cpu,
 * memory and GPUs, each pool flavor carries the team's cpu and memory quota next to its GPUs, and the
 * `cpu` flavor (GPU quota 0, tried first so CPU-only runs land there) stays when it is topology-aware
 * itself (the platform's CPU nodes carry the levels) or when the team also has pools that are not.
 * Kueue treats a workload without topology annotations as topology-aware only when
 * EVERY flavor of its ClusterQueue is (a "TAS-only" queue); in a mixed queue such a workload is refused
 * by the topology-aware flavors ("supports only TopologyAwareScheduling"), and a workload that asks for a
 * topology is refused by the others.
 */
import { GPU_RESOURCE } from "../../contract/gpu";
import { CPU_FLAVOR } from "../../contract/names";
import type { FlavorQuota } from "./quota-split";

export interface ResourceQuota {
  readonly name: string;
  readonly nominalQuota: number | string;
  readonly borrowingLimit: number | string;
}
export interface FlavorQuotas {
  readonly name: string;
  readonly resources: readonly ResourceQuota[];
}
export interface ResourceGroup {
  readonly coveredResources: readonly string[];
  readonly flavors: readonly FlavorQuotas[];
}

export interface TeamQueueInput {
  /** The team's cpu and memory quota (its namespace ResourceQuota's numbers). */
  readonly cpuQuota: string;
  readonly memoryQuota: string;
  /** The team's GPU quota per pool, in pool order. */
  readonly gpu: readonly FlavorQuota[];
  /** Pools whose flavors are topology-aware. */
  readonly topologyPools: ReadonlySet<string>;
  /** The `cpu` flavor is topology-aware (the platform's CPU nodes carry the levels). */
  readonly cpuFlavorTopology: boolean;
}

export function resourceGroups(t: TeamQueueInput): ResourceGroup[] {
  const gpuQuota = (q: FlavorQuota): ResourceQuota => ({
    name: GPU_RESOURCE,
    nominalQuota: q.nominalQuota,
    borrowingLimit: q.borrowingLimit,
  });
  const cpuMemory: ResourceQuota[] = [
    { name: "cpu", nominalQuota: t.cpuQuota, borrowingLimit: "0" },
    { name: "memory", nominalQuota: t.memoryQuota, borrowingLimit: "0" },
  ];
  if (!t.gpu.some((q) => t.topologyPools.has(q.pool))) {
    const groups: ResourceGroup[] = [
      { coveredResources: ["cpu", "memory"], flavors: [{ name: CPU_FLAVOR, resources: cpuMemory }] },
    ];
    if (t.gpu.length > 0)
      groups.push({
        coveredResources: [GPU_RESOURCE],
        flavors: t.gpu.map((q) => ({ name: q.pool, resources: [gpuQuota(q)] })),
      });
    return groups;
  }
  const flavors: FlavorQuotas[] = [];
  if (t.cpuFlavorTopology || t.gpu.some((q) => !t.topologyPools.has(q.pool)))
    flavors.push({
      name: CPU_FLAVOR,
      resources: [...cpuMemory, { name: GPU_RESOURCE, nominalQuota: 0, borrowingLimit: 0 }],
    });
  for (const q of t.gpu) flavors.push({ name: q.pool, resources: [...cpuMemory, gpuQuota(q)] });
  return [{ coveredResources: ["cpu", "memory", GPU_RESOURCE], flavors }];
}

/** True when every flavor of the groups is topology-aware: runs without topology annotations are placed by topology too. */
export function isTopologyOnly(groups: readonly ResourceGroup[], topologyFlavors: ReadonlySet<string>): boolean {
  return groups.every((g) => g.flavors.every((f) => topologyFlavors.has(f.name)));
}
