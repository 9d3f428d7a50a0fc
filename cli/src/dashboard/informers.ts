/** The dashboard's watches over @kubernetes/client-node informers: each lists and watches with its kind's selector. */
import * as k8s from "@kubernetes/client-node";
import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import { USAGE_RECORD_LABEL } from "../../../contract/accounting/keys";
import { keepAliveClients } from "../../../contract/kube-client";
import { KUEUE_GROUP, KUEUE_VERSION } from "../../../contract/kueue";
import { JOBSET_API_VERSION, JOBSET_GROUP, JOBSET_KIND, JOBSET_PLURAL } from "../../../contract/workload";
import { JOB_RUN_SELECTOR, JOBSET_RUN_SELECTOR, RUN_POD_SELECTOR } from "../runs";
import type { CacheSources, Source } from "./cache";

/** `/api/v1` or `/apis/<group>/<version>`, then the namespace (none = every namespace, or cluster-scoped). */
const pathOf = (groupVersion: string, plural: string, namespace?: string) =>
  `${groupVersion}${namespace ? `/namespaces/${namespace}` : ""}/${plural}`;

/** Informers for the dashboard's scope: `namespace`, else every namespace. */
export function informerSources(kc: k8s.KubeConfig, namespace?: string): CacheSources {
  const clients = keepAliveClients(kc);
  const batch = clients.make(k8s.BatchV1Api);
  const core = clients.make(k8s.CoreV1Api);
  const custom = clients.make(k8s.CustomObjectsApi);
  const customs = <T extends KubernetesObject>(
    group: string,
    version: string,
    plural: string,
    labelSelector?: string,
    scoped = namespace,
    withKind?: (o: T) => T,
  ): Source<T> =>
    k8s.makeInformer<T>(
      kc,
      pathOf(`/apis/${group}/${version}`, plural, scoped),
      async () => {
        const list = (
          scoped === undefined
            ? await custom.listClusterCustomObject({ group, version, plural, labelSelector })
            : await custom.listNamespacedCustomObject({ group, version, namespace: scoped, plural, labelSelector })
        ) as KubernetesListObject<T>;
        return withKind ? { ...list, items: list.items.map(withKind) } : list;
      },
      labelSelector,
    );
  const ns = namespace;
  return {
    jobs: () =>
      k8s.makeInformer(
        kc,
        pathOf("/apis/batch/v1", "jobs", ns),
        () =>
          ns
            ? batch.listNamespacedJob({ namespace: ns, labelSelector: JOB_RUN_SELECTOR })
            : batch.listJobForAllNamespaces({ labelSelector: JOB_RUN_SELECTOR }),
        JOB_RUN_SELECTOR,
      ),
    // Items of a list carry no kind: set it, so runs can be told apart (cli/src/runs.ts). Watch events carry it.
    jobSets: () =>
      customs(JOBSET_GROUP, JOBSET_API_VERSION, JOBSET_PLURAL, JOBSET_RUN_SELECTOR, ns, (o) => ({
        ...o,
        apiVersion: `${JOBSET_GROUP}/${JOBSET_API_VERSION}`,
        kind: JOBSET_KIND,
      })),
    workloads: () => customs(KUEUE_GROUP, KUEUE_VERSION, "workloads"),
    localQueues: () => customs(KUEUE_GROUP, KUEUE_VERSION, "localqueues"),
    clusterQueues: () => customs(KUEUE_GROUP, KUEUE_VERSION, "clusterqueues", undefined, undefined),
    pods: () =>
      k8s.makeInformer(
        kc,
        pathOf("/api/v1", "pods", ns),
        () =>
          ns
            ? core.listNamespacedPod({ namespace: ns, labelSelector: RUN_POD_SELECTOR })
            : core.listPodForAllNamespaces({ labelSelector: RUN_POD_SELECTOR }),
        RUN_POD_SELECTOR,
      ),
    usageConfigMaps: () =>
      k8s.makeInformer(
        kc,
        pathOf("/api/v1", "configmaps", ns),
        () =>
          ns
            ? core.listNamespacedConfigMap({ namespace: ns, labelSelector: USAGE_RECORD_LABEL })
            : core.listConfigMapForAllNamespaces({ labelSelector: USAGE_RECORD_LABEL }),
        USAGE_RECORD_LABEL,
      ),
  };
}
