/**
 * A cluster behind real client-node informers (fake-server.ts) and the accountant's WatchCache: the
 * production read path, with a clock the test moves.
 */
import type { KubernetesObject, V1ConfigMap, V1Job, V1Node, V1Pod } from "@kubernetes/client-node";
import { USAGE_RECORD_LABEL } from "../../contract/accounting/keys";
import { WatchCache, type NamespaceView } from "../../accountant/src/cache";
import type { AccountantApi } from "../../accountant/src/reconcile";
import { FakeResource, settle } from "./fake-server";
import { node } from "./fixtures";

export const NS = "kiln-research";

export class SimCluster implements AccountantApi {
  readonly jobs = new FakeResource<V1Job>();
  readonly pods = new FakeResource<V1Pod>();
  readonly records = new FakeResource<V1ConfigMap>();
  readonly nodeObjects = new FakeResource<V1Node>();
  readonly others = new Map<string, V1ConfigMap>();
  readonly cache: WatchCache;
  clock = new Date("2026-12-01T00:00:00Z");

  constructor() {
    this.cache = new WatchCache(
      [NS],
      {
        jobs: () => this.jobs.informer,
        pods: () => this.pods.informer,
        records: () => this.records.informer,
        nodes: () => this.nodeObjects.informer,
      },
      { now: () => this.clock, restartMs: 0 },
    );
    this.nodeObjects.apply(node("g5", "g5.xlarge", "on-demand", { pool: "a10g" }));
  }

  async start(): Promise<void> {
    await this.cache.start();
    await settle();
  }

  /** Moves the clock, then applies an object in the team namespace. */
  at<T extends KubernetesObject>(time: string, res: FakeResource<T>, obj: T): void {
    this.clock = new Date(time);
    res.apply({ ...obj, metadata: { ...obj.metadata, namespace: NS } });
  }

  removeAt(time: string, res: FakeResource<KubernetesObject>, name: string): void {
    this.clock = new Date(time);
    res.remove(name);
  }

  nodes() {
    return this.cache.nodes();
  }
  view(namespace: string) {
    return this.cache.view(namespace);
  }
  forget(namespace: string, v: Pick<NamespaceView, "goneJobs" | "gonePods">) {
    this.cache.forget(namespace, v);
  }
  async putConfigMap(namespace: string, cm: V1ConfigMap) {
    const name = cm.metadata!.name!;
    if (cm.metadata?.labels?.[USAGE_RECORD_LABEL] === undefined) {
      this.others.set(name, structuredClone(cm));
      return;
    }
    this.records.apply(cm);
    this.cache.recordWritten(namespace, this.records.get(name)!);
  }
  async deleteConfigMap(namespace: string, name: string) {
    this.records.remove(name);
    this.cache.recordDeleted(namespace, name);
  }
  async getConfigMap(_ns: string, name: string) {
    return this.records.get(name) ?? this.others.get(name);
  }
  async getQueueHold() {
    return { stopPolicy: "None" };
  }
  async setQueueHold() {}
}
