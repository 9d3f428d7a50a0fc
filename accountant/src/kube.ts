/** AccountantApi over @kubernetes/client-node 1.x: only the calls its RBAC grants. */
import * as k8s from "@kubernetes/client-node";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { BUDGET_HOLD_ANNOTATION, POD_JOB_UID_LABEL, USAGE_RECORD_LABEL } from "../../contract/accounting";

import type { AccountantApi } from "./reconcile";
import { RUN_SELECTOR } from "../../contract/labels";
import { KUEUE_GROUP, KUEUE_VERSION } from "../../contract/kueue";

const KUEUE = { group: KUEUE_GROUP, version: KUEUE_VERSION, plural: "clusterqueues" } as const;

const code = (e: unknown) => (e as { code?: unknown }).code;

export class ClientNodeAccountantApi implements AccountantApi {
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig) {
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async listJobs(namespace: string) {
    return (await this.batch.listNamespacedJob({ namespace, labelSelector: RUN_SELECTOR })).items;
  }

  async listPods(namespace: string) {
    return (await this.core.listNamespacedPod({ namespace, labelSelector: POD_JOB_UID_LABEL })).items;
  }

  async listNodes() {
    return (await this.core.listNode({})).items;
  }

  async listRecords(namespace: string) {
    return (await this.core.listNamespacedConfigMap({ namespace, labelSelector: `${USAGE_RECORD_LABEL}=run` })).items;
  }

  async getConfigMap(namespace: string, name: string) {
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name });
    } catch (e) {
      if (code(e) === 404) return undefined;
      throw e;
    }
  }

  async putConfigMap(namespace: string, body: V1ConfigMap) {
    const name = body.metadata!.name!;
    try {
      await this.core.replaceNamespacedConfigMap({ namespace, name, body });
    } catch (e) {
      if (code(e) !== 404) throw e;
      await this.core.createNamespacedConfigMap({ namespace, body });
    }
  }

  async getQueueHold(name: string) {
    const cq = (await this.custom.getClusterCustomObject({ ...KUEUE, name })) as { spec?: { stopPolicy?: string }; metadata?: { annotations?: Record<string, string> } };
    return { stopPolicy: cq.spec?.stopPolicy ?? "None", heldFor: cq.metadata?.annotations?.[BUDGET_HOLD_ANNOTATION] };
  }

  async setQueueHold(name: string, reason: string | null) {
    const body = { spec: { stopPolicy: reason === null ? "None" : "Hold" }, metadata: { annotations: { [BUDGET_HOLD_ANNOTATION]: reason } } };
    await this.custom.patchClusterCustomObject({ ...KUEUE, name, body }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
  }
}
