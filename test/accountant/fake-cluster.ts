/** An in-memory cluster with just what the accountant reads and writes: its reads are plain arrays here. */
import type { V1ConfigMap, V1Job, V1Pod } from "@kubernetes/client-node";
import { BUDGET_STATUS_KEY, BUDGET_STATUS_NAME, USAGE_RECORD_LABEL } from "../../contract/accounting/keys";
import type { Gone, NamespaceView } from "../../accountant/src/cache";
import type { AccountantApi } from "../../accountant/src/reconcile";
import { node } from "./fixtures";

export class FakeCluster implements AccountantApi {
  jobs: V1Job[] = [];
  pods: V1Pod[] = [];
  goneJobs: Gone<V1Job>[] = [];
  gonePods: Gone<V1Pod>[] = [];
  configMaps = new Map<string, V1ConfigMap>();
  queues = new Map<string, { stopPolicy: string; heldFor?: string }>([["kiln-research", { stopPolicy: "None" }]]);
  writes = 0;
  deletes = 0;
  nodeList = [node("g5", "g5.xlarge", "on-demand", { pool: "a10g" })];

  nodes() {
    return new Map(this.nodeList.map((n) => [n.metadata!.name!, n]));
  }
  view(): NamespaceView {
    const records = [...this.configMaps.values()].filter((c) => c.metadata?.labels?.[USAGE_RECORD_LABEL] !== undefined);
    return { jobs: this.jobs, pods: this.pods, records, goneJobs: this.goneJobs, gonePods: this.gonePods };
  }
  forget(_ns: string, v: Pick<NamespaceView, "goneJobs" | "gonePods">) {
    this.goneJobs = this.goneJobs.filter((g) => !v.goneJobs.includes(g));
    this.gonePods = this.gonePods.filter((g) => !v.gonePods.includes(g));
  }
  async listRecords() {
    return [...this.configMaps.values()].filter((c) => c.metadata?.labels?.[USAGE_RECORD_LABEL] === "run");
  }
  async putConfigMap(_ns: string, cm: V1ConfigMap) {
    this.writes++;
    this.configMaps.set(cm.metadata!.name!, structuredClone(cm));
  }
  async deleteConfigMap(_ns: string, name: string) {
    this.deletes++;
    this.configMaps.delete(name);
  }
  async getConfigMap(_ns: string, name: string) {
    return this.configMaps.get(name);
  }
  async getQueueHold(name: string) {
    return this.queues.get(name)!;
  }
  async setQueueHold(name: string, reason: string | null) {
    this.queues.set(name, reason === null ? { stopPolicy: "None" } : { stopPolicy: "Hold", heldFor: reason });
  }
  budget() {
    return JSON.parse(this.configMaps.get(BUDGET_STATUS_NAME)!.data![BUDGET_STATUS_KEY]);
  }
}
