/**
 * What the dashboard reads beyond the verbs' KubeApi: Kueue's queue objects, nodes and running pods.
 * ClientNodeApi has these methods; `dashboardApi` checks a session's API has them.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { CliError } from "../errors";
import type { KubeApi } from "../kube";
import type { ClusterQueue, LocalQueue, Workload } from "./kueue";
import { KUEUE_GROUP, KUEUE_VERSION } from "../../../contract/kueue";

export { KUEUE_GROUP, KUEUE_VERSION };

export interface DashboardApi extends KubeApi {
  /** Items of a custom resource list; `namespace` undefined = cluster-scoped or all namespaces. */
  listCustomObjects(group: string, version: string, plural: string, namespace?: string): Promise<unknown[]>;
  listNodes(labelSelector?: string): Promise<V1Node[]>;
  listPodsAllNamespaces(fieldSelector: string): Promise<V1Pod[]>;
}

/** The session's API as a DashboardApi, else a CliError (a KubeApi that cannot list queues or nodes). */
export function dashboardApi(api: KubeApi): DashboardApi {
  const a = api as Partial<DashboardApi>;
  if (
    typeof a.listCustomObjects !== "function" ||
    typeof a.listNodes !== "function" ||
    typeof a.listPodsAllNamespaces !== "function"
  ) {
    throw new CliError("the dashboard needs an API client that lists Kueue objects, nodes and pods (ClientNodeApi)");
  }
  return api as DashboardApi;
}

export const listClusterQueues = async (api: DashboardApi) =>
  (await api.listCustomObjects(KUEUE_GROUP, KUEUE_VERSION, "clusterqueues")) as ClusterQueue[];
export const listLocalQueues = async (api: DashboardApi, namespace?: string) =>
  (await api.listCustomObjects(KUEUE_GROUP, KUEUE_VERSION, "localqueues", namespace)) as LocalQueue[];
export const listWorkloads = async (api: DashboardApi, namespace?: string) =>
  (await api.listCustomObjects(KUEUE_GROUP, KUEUE_VERSION, "workloads", namespace)) as Workload[];
