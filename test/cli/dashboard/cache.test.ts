/**
 * The dashboard served from watches: after the first lists no page waits on the API, a kind the cluster
 * lacks reads as empty, the best metric comes from pod termination messages, and the watches stop with the server.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { CacheSources, Source } from "../../../cli/src/dashboard/cache";
import { startDashboard } from "../../../cli/src/dashboard/server";
import { DashboardData } from "../../../cli/src/dashboard/service";
import { matchesSelector } from "../../../cli/src/selector";
import { JOB_RUN_SELECTOR, RUN_POD_SELECTOR } from "../../../cli/src/runs";
import { apiError, FIXED_NOW } from "../support";
import type { FakeCluster } from "./fake-cluster";
import { FakeAccounting, RESEARCH, sampleCluster } from "./fixture";

/** A watch over the fake cluster's objects: lists once at start (an error as the informer reports it), then live. */
class FakeInformer<T extends KubernetesObject> implements Source<T> {
  private readonly handlers = new Map<string, ((x?: unknown) => void)[]>();
  started = 0;
  stopped = false;
  constructor(
    private readonly objects: () => T[],
    private readonly failure?: unknown,
  ) {}
  // The informer's overloaded callbacks, taken as one.
  on(verb: string, cb: (x?: any) => void) {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb]);
  }
  off() {}
  async start() {
    this.started++;
    if (this.failure) for (const h of this.handlers.get("error") ?? []) h(this.failure);
  }
  async stop() {
    this.stopped = true;
  }
  list() {
    return this.objects();
  }
}

function sources(k: FakeCluster, failures: Partial<Record<keyof CacheSources, unknown>> = {}) {
  const made: FakeInformer<KubernetesObject>[] = [];
  const src = <T extends KubernetesObject>(kind: keyof CacheSources, objects: () => T[]) => {
    const i = new FakeInformer<T>(objects, failures[kind]);
    made.push(i as unknown as FakeInformer<KubernetesObject>);
    return i;
  };
  const s: CacheSources = {
    jobs: () =>
      src("jobs", () => [...k.jobs.values()].filter((j) => matchesSelector(JOB_RUN_SELECTOR, j.metadata?.labels))),
    jobSets: () => src("jobSets", () => [...k.jobSets.values()] as never[]),
    workloads: () => src("workloads", () => k.workloads as never[]),
    localQueues: () => src("localQueues", () => k.localQueues as never[]),
    clusterQueues: () => src("clusterQueues", () => k.clusterQueues as never[]),
    pods: () => src("pods", () => k.pods.filter((p) => matchesSelector(RUN_POD_SELECTOR, p.metadata?.labels))),
    usageConfigMaps: () => src("usageConfigMaps", () => [...k.configMaps.values()]),
  };
  return { sources: s, made };
}

async function serveCached(k: FakeCluster, failures: Partial<Record<keyof CacheSources, unknown>> = {}) {
  const { sources: s, made } = sources(k, failures);
  const data = new DashboardData({
    api: k,
    sources: s,
    accounting: new FakeAccounting(),
    artifacts: null,
    now: () => FIXED_NOW,
    ttlMs: 0,
  });
  await data.start();
  const d = await startDashboard({ data, server: k.server, now: () => FIXED_NOW, address: "127.0.0.1", port: 0 });
  return { d, made, json: async (p: string) => (await fetch(new URL(p, d.url))).json() };
}

describe("the dashboard over watches", () => {
  test("pages after the first lists make no request; a finished run's best metric is its pod's termination message", async () => {
    const k = sampleCluster();
    const { d, made, json } = await serveCached(k);
    try {
      const before = k.calls.length;
      for (let i = 0; i < 5; i++) await json("/api/runs?size=2");
      const runs = await json(`/api/runs?namespace=${RESEARCH}`);
      expect(k.calls.slice(before)).toEqual([]);
      expect(made.every((i) => i.started === 1)).toBe(true);
      const done = runs.page.items.find((r: { name: string }) => r.name === "mpg-done");
      expect(done.bestMetric).toBe(`val_loss=${(+(10 * 0.9 ** 20 * 1.1).toFixed(4)).toFixed(4)}@20`);
      // A Job created later shows up on the next page from its watch event, still without a list.
      const late = {
        ...k.jobs.get(`${RESEARCH}/mpg-done`)!,
        metadata: { ...k.jobs.get(`${RESEARCH}/mpg-done`)!.metadata, name: "mpg-late", uid: "uid-late" },
      };
      k.jobs.set(`${RESEARCH}/mpg-late`, late);
      expect((await json("/api/runs?q=mpg-late")).page.total).toBe(1);
      expect(k.calls.slice(before)).toEqual([]);
    } finally {
      await d.close();
    }
    expect(made.every((i) => i.stopped)).toBe(true);
  });

  test("no Kueue and no JobSet CRD (404): runs without queues, as with lists", async () => {
    const k = sampleCluster();
    const missing = apiError(404, "the server could not find the requested resource");
    const { d, json } = await serveCached(k, {
      workloads: missing,
      localQueues: missing,
      clusterQueues: missing,
      jobSets: missing,
    });
    try {
      const runs = await json("/api/runs");
      expect(runs.page.total).toBe(6);
      expect(
        runs.page.items.every((r: { clusterQueue: string | null; position: number | null }) => r.position === null),
      ).toBe(true);
      expect(await json("/api/queues")).toEqual([]);
    } finally {
      await d.close();
    }
  });

  test("runs that may not be listed in all namespaces (403) fail the start with the existing advice", async () => {
    const k = sampleCluster();
    const forbidden = apiError(403, 'jobs.batch is forbidden: User "dev" cannot list resource "jobs"', "Forbidden");
    const { sources: s, made } = sources(k, { jobs: forbidden });
    const data = new DashboardData({ api: k, sources: s, accounting: null, artifacts: null, now: () => FIXED_NOW });
    await expect(data.start()).rejects.toThrow(
      'listing runs in all namespaces: forbidden (403): jobs.batch is forbidden: User "dev" cannot list resource "jobs"; show one team\'s namespace instead: kubectl kiln dashboard -n <namespace>',
    );
    await data.close();
    expect(made.every((i) => i.stopped)).toBe(true);
  });
});
