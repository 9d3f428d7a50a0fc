/**
 * The plugin's only door to the Kubernetes API. Commands depend on the `KubeApi` interface, so they
 * can run against a real API server, or a test double, without change.
 */
import * as k8s from "@kubernetes/client-node";
import type { V1ConfigMap, V1CronJob, V1Job, V1Node, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { Writable } from "node:stream";
import { JOBSET_API_VERSION, JOBSET_GROUP, JOBSET_KIND, JOBSET_PLURAL, TOPOLOGY_NAME } from "../../contract/workload";
import type { JobSet, NetworkPolicy } from "./jobset";
import { KUEUE_GROUP, KUEUE_VERSION } from "../../contract/kueue";
import { keepAliveClients } from "../../contract/kube-client";

/** The parts of a Kueue Topology the plugin reads. */
export interface Topology {
  metadata?: { name?: string };
  spec?: { levels?: { nodeLabel: string }[] };
}

export interface KubeApi {
  /** API server URL of the current context. */
  readonly server: string;
  getCronJob(namespace: string, name: string): Promise<V1CronJob>;
  /** Creates a Job; `dryRun` asks the server to validate without persisting. */
  createJob(namespace: string, job: V1Job, dryRun: boolean): Promise<V1Job>;
  getJob(namespace: string, name: string): Promise<V1Job>;
  /** Jobs matching a label selector; `namespace` undefined = all namespaces. */
  listJobs(namespace: string | undefined, labelSelector: string): Promise<V1Job[]>;
  /** Deletes a Job and (in the background) its pods. */
  deleteJob(namespace: string, name: string, dryRun: boolean): Promise<void>;
  /** Pods matching a label selector; `namespace` undefined = all namespaces. */
  listPods(namespace: string | undefined, labelSelector: string): Promise<V1Pod[]>;
  readLog(namespace: string, pod: string, container: string, tailLines?: number): Promise<string>;
  /** Streams a container's log to `out` until it ends or the returned controller is aborted. */
  followLog(
    namespace: string,
    pod: string,
    container: string,
    out: Writable,
  ): Promise<{ abort(): void; done: Promise<void> }>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap>;
  /** ConfigMaps matching a label (and a field) selector; every namespace when `namespace` is undefined. */
  listConfigMaps(namespace: string | undefined, labelSelector?: string, fieldSelector?: string): Promise<V1ConfigMap[]>;
  getSecret(namespace: string, name: string): Promise<V1Secret>;
  /** true/false when the namespace's existence can be read, undefined when forbidden. */
  namespaceExists(namespace: string): Promise<boolean | undefined>;
  /** Creates a JobSet (runs with your own image); `dryRun` asks the server to validate without persisting. */
  createJobSet(namespace: string, jobSet: JobSet, dryRun: boolean): Promise<JobSet>;
  getJobSet(namespace: string, name: string): Promise<JobSet>;
  /** JobSets matching a label selector; `namespace` undefined = all namespaces. */
  listJobSets(namespace: string | undefined, labelSelector: string): Promise<JobSet[]>;
  /** Deletes a JobSet; its Jobs, pods, Service and NetworkPolicy go in the background (owner references). */
  deleteJobSet(namespace: string, name: string, dryRun: boolean): Promise<void>;
  createNetworkPolicy(namespace: string, policy: NetworkPolicy, dryRun: boolean): Promise<NetworkPolicy>;
  /** Kueue's Topology TOPOLOGY_NAME (cluster-scoped). */
  getTopology(name?: string): Promise<Topology>;
  listNodes(labelSelector?: string): Promise<V1Node[]>;
}

export interface KubeOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** One kubeconfig loader: in a pod the service account, elsewhere $KUBECONFIG / ~/.kube/config (or --kubeconfig). */
export function loadKubeConfig(opts: KubeOptions): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (opts.context) {
    if (!kc.getContextObject(opts.context))
      throw new Error(
        `context "${opts.context}" is not in the kubeconfig (have: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(", ") || "none"
        })`,
      );
    kc.setCurrentContext(opts.context);
  }
  return kc;
}

/** Namespace of the current context, else "default". */
export function contextNamespace(kc: k8s.KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || "default";
}

const JOBSETS = { group: JOBSET_GROUP, version: JOBSET_API_VERSION, plural: JOBSET_PLURAL } as const;
/** Items of a list carry no kind: set it, so runs can be told apart (cli/src/runs.ts). */
const withKind = (js: JobSet): JobSet => ({
  ...js,
  apiVersion: js.apiVersion ?? `${JOBSET_GROUP}/${JOBSET_API_VERSION}`,
  kind: JOBSET_KIND,
});

/**
 * Lists are served from the API server's watch cache (`resourceVersion=0`: as new as the cache, never a
 * quorum read of etcd). The plugin's lists are views; at 10,000 runs on a busy API server a consistent list
 * of every Job fell back to etcd and timed out after 60 s (the cluster bench), where the cache answers.
 */
const FROM_CACHE = { resourceVersion: "0" } as const;

/** KubeApi over @kubernetes/client-node 1.x (object-parameter calls). */
export class ClientNodeApi implements KubeApi {
  readonly server: string;
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  /** The kubeconfig, for watches (the dashboard's informers). */
  constructor(readonly kc: k8s.KubeConfig) {
    this.server = kc.getCurrentCluster()?.server ?? "<no cluster in kubeconfig>";
    const clients = keepAliveClients(kc);
    this.batch = clients.make(k8s.BatchV1Api);
    this.core = clients.make(k8s.CoreV1Api);
    this.custom = clients.make(k8s.CustomObjectsApi);
  }

  /** Items of a custom resource list (e.g. Kueue's ClusterQueues); `namespace` undefined = cluster-scoped or all namespaces. */
  async listCustomObjects(group: string, version: string, plural: string, namespace?: string): Promise<unknown[]> {
    const list = (
      namespace === undefined
        ? await this.custom.listClusterCustomObject({ group, version, plural, ...FROM_CACHE })
        : await this.custom.listNamespacedCustomObject({ group, version, namespace, plural, ...FROM_CACHE })
    ) as { items?: unknown[] };
    return list.items ?? [];
  }

  async listNodes(labelSelector?: string) {
    return (await this.core.listNode({ ...(labelSelector ? { labelSelector } : {}), ...FROM_CACHE })).items;
  }

  async createJobSet(namespace: string, body: JobSet, dryRun: boolean) {
    return (await this.custom.createNamespacedCustomObject({
      ...JOBSETS,
      namespace,
      body,
      ...(dryRun ? { dryRun: "All" } : {}),
    })) as JobSet;
  }

  async getJobSet(namespace: string, name: string) {
    return withKind((await this.custom.getNamespacedCustomObject({ ...JOBSETS, namespace, name })) as JobSet);
  }

  async listJobSets(namespace: string | undefined, labelSelector: string) {
    const list = (
      namespace === undefined
        ? await this.custom.listClusterCustomObject({ ...JOBSETS, labelSelector, ...FROM_CACHE })
        : await this.custom.listNamespacedCustomObject({ ...JOBSETS, namespace, labelSelector, ...FROM_CACHE })
    ) as { items?: JobSet[] };
    return (list.items ?? []).map(withKind);
  }

  async deleteJobSet(namespace: string, name: string, dryRun: boolean) {
    await this.custom.deleteNamespacedCustomObject({
      ...JOBSETS,
      namespace,
      name,
      propagationPolicy: "Background",
      ...(dryRun ? { dryRun: "All" } : {}),
    });
  }

  async createNetworkPolicy(namespace: string, body: NetworkPolicy, dryRun: boolean) {
    // As JSON through the generic path: client-node's V1NetworkPolicy model renames `from`.
    return (await this.custom.createNamespacedCustomObject({
      group: "networking.k8s.io",
      version: "v1",
      plural: "networkpolicies",
      namespace,
      body,
      ...(dryRun ? { dryRun: "All" } : {}),
    })) as NetworkPolicy;
  }

  async getTopology(name = TOPOLOGY_NAME) {
    return (await this.custom.getClusterCustomObject({
      group: KUEUE_GROUP,
      version: KUEUE_VERSION,
      plural: "topologies",
      name,
    })) as Topology;
  }

  /** Pods of every namespace that match a field selector (e.g. not finished). */
  async listPodsAllNamespaces(fieldSelector: string) {
    return (await this.core.listPodForAllNamespaces({ fieldSelector, ...FROM_CACHE })).items;
  }

  getCronJob(namespace: string, name: string) {
    return this.batch.readNamespacedCronJob({ namespace, name });
  }

  createJob(namespace: string, body: V1Job, dryRun: boolean) {
    return this.batch.createNamespacedJob({ namespace, body, ...(dryRun ? { dryRun: "All" } : {}) });
  }

  getJob(namespace: string, name: string) {
    return this.batch.readNamespacedJob({ namespace, name });
  }

  async listJobs(namespace: string | undefined, labelSelector: string) {
    const list =
      namespace === undefined
        ? await this.batch.listJobForAllNamespaces({ labelSelector, ...FROM_CACHE })
        : await this.batch.listNamespacedJob({ namespace, labelSelector, ...FROM_CACHE });
    return list.items;
  }

  async deleteJob(namespace: string, name: string, dryRun: boolean) {
    await this.batch.deleteNamespacedJob({
      namespace,
      name,
      propagationPolicy: "Background",
      ...(dryRun ? { dryRun: "All" } : {}),
    });
  }

  async listPods(namespace: string | undefined, labelSelector: string) {
    const list =
      namespace === undefined
        ? await this.core.listPodForAllNamespaces({ labelSelector, ...FROM_CACHE })
        : await this.core.listNamespacedPod({ namespace, labelSelector, ...FROM_CACHE });
    return list.items;
  }

  readLog(namespace: string, name: string, container: string, tailLines?: number) {
    return this.core.readNamespacedPodLog({ namespace, name, container, ...(tailLines ? { tailLines } : {}) });
  }

  async followLog(namespace: string, pod: string, container: string, out: Writable) {
    let finish: (err?: unknown) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = (err) => (err && (err as Error).name !== "AbortError" ? reject(err) : resolve());
    });
    const controller = await new k8s.Log(this.kc).log(namespace, pod, container, out, (err) => finish(err), {
      follow: true,
    });
    return { abort: () => controller.abort(), done };
  }

  getConfigMap(namespace: string, name: string) {
    return this.core.readNamespacedConfigMap({ namespace, name });
  }

  async listConfigMaps(namespace: string | undefined, labelSelector?: string, fieldSelector?: string) {
    const selectors = { labelSelector, fieldSelector, ...FROM_CACHE };
    const list =
      namespace === undefined
        ? await this.core.listConfigMapForAllNamespaces(selectors)
        : await this.core.listNamespacedConfigMap({ namespace, ...selectors });
    return list.items;
  }

  getSecret(namespace: string, name: string) {
    return this.core.readNamespacedSecret({ namespace, name });
  }

  async namespaceExists(name: string) {
    try {
      await this.core.readNamespace({ name });
      return true;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 404) return false;
      if (code === 403) return undefined;
      throw err;
    }
  }
}
