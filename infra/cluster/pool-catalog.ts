/**
 * What a run may ask of each GPU pool, for the plugin: GPUs per node, EFA interfaces per node (aws
 * p-family pools) and whether Kueue places runs in it by topology (and on which levels). The stack output
 * `gpuPools` carries it, and so does the ConfigMap `kiln-pools` (key `pools.json`, the team's pools only)
 * in every team namespace, which submitters can read.
 */
import type { GpuPoolConfig } from "../config";
import { EFA_RESOURCE, TOPOLOGY_NAME } from "../../contract/workload";
import type { PoolEfa } from "../platform";

export const POOL_CATALOG_CONFIGMAP = "kiln-pools";
export const POOL_CATALOG_KEY = "pools.json";

export interface PoolCatalog {
  readonly name: string;
  readonly maxGpus: number;
  readonly gpusPerNode: number;
  /** EFA of every node of the pool; absent when it has none. A multi-node pod requests `resource: interfacesPerNode`. */
  readonly efa?: { readonly resource: string; readonly interfacesPerNode: number };
  /** Kueue topology-aware placement in this pool; absent when off. `levels` outermost first. */
  readonly topology?: { readonly name: string; readonly levels: readonly string[] };
}

/** One entry per pool, in config order (pure: tested directly). */
export function poolCatalog(
  pools: readonly GpuPoolConfig[],
  efa: Readonly<Record<string, PoolEfa>>,
  topologyPools: readonly string[],
  levels: readonly string[],
): PoolCatalog[] {
  return pools.map((p) => ({
    name: p.name,
    maxGpus: p.maxGpus,
    gpusPerNode: p.gpusPerNode,
    ...(efa[p.name] ? { efa: { resource: EFA_RESOURCE, interfacesPerNode: efa[p.name].interfacesPerNode } } : {}),
    ...(topologyPools.includes(p.name) ? { topology: { name: TOPOLOGY_NAME, levels: [...levels] } } : {}),
  }));
}
