/** Kueue quotas and RBAC inside the cluster. */
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../contract/gpu";
import { isGpuNodePool } from "./nodes";
import type { ResourceRule, StackRule } from "./types";
import { asArray, isK8s, num } from "./util";
import { KUEUE_GROUP } from "../../contract/kueue";

const isClusterQueue = (type: string) => isK8s(type, KUEUE_GROUP, "ClusterQueue");

/** flavor name -> nominal GPU quota of one ClusterQueue. */
export function gpuQuotas(props: Record<string, any>): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const group of asArray<any>(props.spec?.resourceGroups)) {
    if (!asArray<string>(group?.coveredResources).includes(GPU_RESOURCE)) continue;
    for (const flavor of asArray<any>(group?.flavors)) {
      const res = asArray<any>(flavor?.resources).find((x) => x?.name === GPU_RESOURCE);
      out.set(String(flavor?.name), num(res?.nominalQuota));
    }
  }
  return out;
}

export const clusterQueueGpuQuota: ResourceRule = {
  kind: "resource",
  name: "kueue-clusterqueue-gpu-quota",
  description: "Every Kueue ClusterQueue covers nvidia.com/gpu with a numeric nominalQuota per flavor.",
  severity: "high",
  applies: isClusterQueue,
  check: (r) => {
    const name = r.props.metadata?.name ?? r.name;
    const quotas = gpuQuotas(r.props);
    if (quotas.size === 0)
      return [`ClusterQueue ${name} does not cover nvidia.com/gpu: add a resource group with the team's GPU flavors`];
    return [...quotas]
      .filter(([, q]) => q === undefined)
      .map(([f]) => `ClusterQueue ${name} flavor ${f} has no numeric nvidia.com/gpu nominalQuota: set it`);
  },
};

export const quotaWithinPoolLimits: StackRule = {
  kind: "stack",
  name: "kueue-quota-within-pool-limits",
  description: "The GPU quota all ClusterQueues hold for a pool never exceeds that pool's NodePool GPU limit.",
  severity: "high",
  check: (all) => {
    const limits = new Map<string, number>();
    for (const np of all.filter(isGpuNodePool)) {
      const pool = np.props.spec?.template?.metadata?.labels?.[GPU_POOL_LABEL] ?? np.props.metadata?.name;
      const limit = num(np.props.spec?.limits?.[GPU_RESOURCE]);
      if (pool && limit !== undefined) limits.set(pool, limit);
    }
    const flavorPool = new Map<string, string>();
    for (const f of all.filter((r) => isK8s(r.type, KUEUE_GROUP, "ResourceFlavor"))) {
      const name = f.props.metadata?.name ?? f.name;
      flavorPool.set(name, f.props.spec?.nodeLabels?.[GPU_POOL_LABEL] ?? name);
    }
    const sums = new Map<string, number>();
    for (const cq of all.filter((r) => isClusterQueue(r.type)))
      for (const [flavor, q] of gpuQuotas(cq.props)) {
        const pool = flavorPool.get(flavor) ?? flavor;
        sums.set(pool, (sums.get(pool) ?? 0) + (q ?? 0));
      }
    return [...sums]
      .filter(([pool, sum]) => limits.has(pool) && sum > limits.get(pool)!)
      .map(([pool, sum]) => ({
        message: `ClusterQueues hold ${sum} GPUs of pool ${pool} but its NodePool is limited to ${limits.get(pool)}: queued Jobs would wait for capacity that can never come`,
      }));
  },
};

export const rbacNoWildcards: ResourceRule = {
  kind: "resource",
  name: "rbac-no-wildcards",
  description: "Kiln's Roles and ClusterRoles name their verbs, resources and API groups (no '*').",
  severity: "high",
  applies: (type) =>
    isK8s(type, "rbac.authorization.k8s.io", "Role") || isK8s(type, "rbac.authorization.k8s.io", "ClusterRole"),
  check: (r) =>
    asArray<any>(r.props.rules).flatMap((rule, i) =>
      (["verbs", "resources", "apiGroups"] as const)
        .filter((k) => asArray(rule?.[k]).includes("*"))
        .map(
          (k) => `${r.type.split(":").pop()} ${r.props.metadata?.name ?? r.name} rule ${i} grants ${k} "*": list them`,
        ),
    ),
};

export const queueRules = [clusterQueueGpuQuota, quotaWithinPoolLimits, rbacNoWildcards];
