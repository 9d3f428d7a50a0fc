/** The accounting's reads (cli/src/usage.ts) served from the dashboard's watch cache; other reads go to the API. */
import type { KubernetesObject } from "@kubernetes/client-node";
import { matchesSelector } from "../selector";
import type { UsageReader } from "../usage";
import type { ClusterCache, Kind } from "./cache";

function select<T extends KubernetesObject>(
  cache: ClusterCache,
  kind: Kind,
  items: readonly T[],
  namespace: string | undefined,
  selector: string | undefined,
): T[] {
  // Not readable here (403): the caller says why its figures are missing, as after a failed list.
  if (cache.unavailable(kind)) throw cache.error(kind);
  return items.filter(
    (o) =>
      (namespace === undefined || o.metadata?.namespace === namespace) && matchesSelector(selector, o.metadata?.labels),
  );
}

export function cachedReads(cache: ClusterCache, api: Pick<UsageReader, "getConfigMap">): UsageReader {
  return {
    listConfigMaps: async (namespace, selector) =>
      select(cache, "usageConfigMaps", cache.items("usageConfigMaps"), namespace, selector),
    listPods: async (namespace, selector) => select(cache, "pods", cache.items("pods"), namespace, selector),
    getConfigMap: (namespace, name) => api.getConfigMap(namespace, name),
  };
}
