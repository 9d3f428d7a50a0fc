/** GPU allocation per pool: nodes labelled kiln.dev/gpu-pool, their allocatable nvidia.com/gpu, and what running pods request. */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../../contract/gpu";
import { parseQuantity } from "./quantity";

export interface NodeAllocation {
  readonly name: string;
  readonly ready: boolean;
  /** A KWOK node (the local harness's simulated GPU nodes carry type=kwok). */
  readonly simulated: boolean;
  readonly allocatable: number;
  readonly requested: number;
  readonly pods: number;
}

export interface PoolAllocation {
  readonly pool: string;
  readonly allocatable: number;
  readonly requested: number;
  readonly nodes: NodeAllocation[];
}

/** GPUs a pod asks for: per container, requests (else limits) of nvidia.com/gpu. */
export function podGpus(pod: V1Pod): number {
  let n = 0;
  for (const c of pod.spec?.containers ?? [])
    n += parseQuantity(c.resources?.requests?.[GPU_RESOURCE] ?? c.resources?.limits?.[GPU_RESOURCE]) || 0;
  return n;
}

const holdsNode = (p: V1Pod) => !!p.spec?.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** Pools by name, each node with its allocatable GPUs and the GPUs its bound, unfinished pods request. */
export function poolAllocations(nodes: readonly V1Node[], pods: readonly V1Pod[]): PoolAllocation[] {
  const perNode = new Map<string, { gpus: number; pods: number }>();
  for (const p of pods) {
    const g = podGpus(p);
    if (!holdsNode(p) || g === 0) continue;
    const n = perNode.get(p.spec!.nodeName!) ?? { gpus: 0, pods: 0 };
    perNode.set(p.spec!.nodeName!, { gpus: n.gpus + g, pods: n.pods + 1 });
  }
  const pools = new Map<string, NodeAllocation[]>();
  for (const node of nodes) {
    const pool = node.metadata?.labels?.[GPU_POOL_LABEL];
    if (!pool) continue;
    const name = node.metadata?.name ?? "?";
    const use = perNode.get(name) ?? { gpus: 0, pods: 0 };
    const list = pools.get(pool) ?? pools.set(pool, []).get(pool)!;
    list.push({
      name,
      ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
      simulated: node.metadata?.labels?.type === "kwok",
      allocatable: parseQuantity(node.status?.allocatable?.[GPU_RESOURCE]) || 0,
      requested: use.gpus,
      pods: use.pods,
    });
  }
  return [...pools.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([pool, list]) => ({
      pool,
      allocatable: list.reduce((s, n) => s + n.allocatable, 0),
      requested: list.reduce((s, n) => s + n.requested, 0),
      nodes: list.sort((a, b) => a.name.localeCompare(b.name)),
    }));
}
