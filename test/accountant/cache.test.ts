/**
 * The accountant's reads through watches (client-node informers over a fake API server): what happens
 * between two passes is recorded, and a dropped watch neither loses nor double-counts a pod.
 */
import type { V1ConfigMap, V1Job } from "@kubernetes/client-node";
import { USAGE_RECORD_LABEL } from "../../contract/accounting/keys";
import { recordOf, type UsageRecord } from "../../contract/accounting/record";
import { reconcile } from "../../accountant/src/reconcile";
import { settle } from "./fake-server";
import { job, pod, settingsFor } from "./fixtures";
import { NS, SimCluster } from "./sim-cluster";

const settings = settingsFor();

function records(c: SimCluster): UsageRecord[] {
  return c.cache.view("kiln-research").records.map((cm) => {
    const r = recordOf(cm);
    if (r instanceof Error) throw r;
    return r;
  });
}

const child = (uid: string, attempt: number): V1Job => {
  const j = job("llm-7-node-0", uid);
  j.metadata!.labels = {
    ...j.metadata!.labels,
    "kiln.dev/run": "llm-7",
    "jobset.sigs.k8s.io/jobset-uid": "js-1",
    "jobset.sigs.k8s.io/restart-attempt": String(attempt),
  };
  return j;
};

describe("the watch cache", () => {
  test("an attempt that starts and ends between two passes is recorded, final, with its GPU time", async () => {
    const c = new SimCluster();
    await c.start();
    await reconcile(c, settings, new Date("2026-12-01T10:00:00Z"));
    c.at("2026-12-01T10:00:01Z", c.jobs, job("run-a", "job-a"));
    c.at(
      "2026-12-01T10:00:02Z",
      c.pods,
      pod({ name: "run-a-x", jobUid: "job-a", node: "g5", gpus: 2, scheduled: "2026-12-01T10:00:02Z" }),
    );
    c.at(
      "2026-12-01T10:00:20Z",
      c.pods,
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 2,
        scheduled: "2026-12-01T10:00:02Z",
        finished: "2026-12-01T10:00:20Z",
      }),
    );
    c.removeAt("2026-12-01T10:00:21Z", c.pods, "run-a-x");
    c.removeAt("2026-12-01T10:00:22Z", c.jobs, "run-a");
    await reconcile(c, settings, new Date("2026-12-01T10:00:30Z"));
    const [r] = records(c);
    expect(r).toMatchObject({ job: "run-a", uid: "job-a", final: true, updated: "2026-12-01T10:00:22.000Z" });
    expect(r.usage.gpuHours).toBeCloseTo((2 * 18) / 3600, 6);
    // Recorded, the gone Job and pod are let go.
    expect(c.view("kiln-research")).toMatchObject({ goneJobs: [], gonePods: [] });
  });

  test("a JobSet restart between two passes (child Job deleted and recreated under its name) keeps both attempts", async () => {
    const c = new SimCluster();
    await c.start();
    c.at("2026-12-01T10:00:00Z", c.jobs, child("job-0", 0));
    c.at(
      "2026-12-01T10:00:00Z",
      c.pods,
      pod({ name: "llm-7-node-0-0-a", jobUid: "job-0", node: "g5", gpus: 1, scheduled: "2026-12-01T10:00:00Z" }),
    );
    await reconcile(c, settings, new Date("2026-12-01T10:00:05Z"));
    // The pod fails after 10 s; the group restarts: the child Job is deleted and recreated with a new UID.
    c.at(
      "2026-12-01T10:00:10Z",
      c.pods,
      pod({
        name: "llm-7-node-0-0-a",
        jobUid: "job-0",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T10:00:10Z",
        phase: "Failed",
      }),
    );
    c.removeAt("2026-12-01T10:00:11Z", c.pods, "llm-7-node-0-0-a");
    c.removeAt("2026-12-01T10:00:11Z", c.jobs, "llm-7-node-0");
    c.at("2026-12-01T10:00:12Z", c.jobs, child("job-1", 1));
    c.at(
      "2026-12-01T10:00:13Z",
      c.pods,
      pod({ name: "llm-7-node-0-0-b", jobUid: "job-1", node: "g5", gpus: 1, scheduled: "2026-12-01T10:00:13Z" }),
    );
    await reconcile(c, settings, new Date("2026-12-01T10:00:35Z"));
    const byUid = new Map(records(c).map((r) => [r.uid, r]));
    expect(byUid.get("job-0")).toMatchObject({ final: true, runUid: "js-1" });
    expect(byUid.get("job-0")!.usage.gpuHours).toBeCloseTo(10 / 3600, 6);
    expect(byUid.get("job-1")).toMatchObject({ runUid: "js-1" });
    expect(byUid.get("job-1")!.spans).toEqual([
      expect.objectContaining({ start: "2026-12-01T10:00:13.000Z", end: null }),
    ]);
  });

  test("a dropped watch relists: a Job replaced under its name and a pod deleted meanwhile are recorded once, from their last state", async () => {
    const c = new SimCluster();
    await c.start();
    c.at("2026-12-01T10:00:00Z", c.jobs, job("run-a", "job-a"));
    c.at(
      "2026-12-01T10:00:00Z",
      c.pods,
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:00:00Z",
      }),
    );
    await reconcile(c, settings, new Date("2026-12-01T11:00:30Z"));
    c.jobs.drop();
    c.pods.drop();
    // While both watches are down: the pod and the Job go, and a new Job of the same name comes.
    c.removeAt("2026-12-01T11:01:00Z", c.pods, "run-a-x");
    c.removeAt("2026-12-01T11:01:00Z", c.jobs, "run-a");
    c.at("2026-12-01T11:02:00Z", c.jobs, job("run-a", "job-b"));
    c.at(
      "2026-12-01T11:02:00Z",
      c.pods,
      pod({ name: "run-a-y", jobUid: "job-b", node: "g5", gpus: 1, scheduled: "2026-12-01T11:02:10Z" }),
    );
    c.clock = new Date("2026-12-01T11:02:30Z");
    await settle(20);
    expect([c.jobs.connected, c.pods.connected, c.cache.synced]).toEqual([true, true, true]);
    expect(c.jobs.lists).toBe(2);
    await reconcile(c, settings, new Date("2026-12-01T11:03:00Z"));
    await reconcile(c, settings, new Date("2026-12-01T11:03:30Z"));
    const byUid = new Map(records(c).map((r) => [r.uid, r]));
    expect([...byUid.keys()].sort()).toEqual(["job-a", "job-b"]);
    expect(byUid.get("job-a")).toMatchObject({ final: true, updated: "2026-12-01T11:02:30.000Z" });
    expect(byUid.get("job-a")!.usage.gpuHours).toBe(1);
    expect(byUid.get("job-b")!.spans).toEqual([
      expect.objectContaining({ name: "run-a-y", start: "2026-12-01T11:02:10.000Z", end: null }),
    ]);
  });

  test("a failed list is retried and the cache says it is not synced until it succeeds", async () => {
    const c = new SimCluster();
    let fail = true;
    const list = (c.jobs as unknown as { list: () => Promise<unknown> }).list.bind(c.jobs);
    (c.jobs as unknown as { list: () => Promise<unknown> }).list = async () => {
      if (fail) throw new Error("forbidden: jobs is forbidden");
      return list();
    };
    await c.cache.start();
    expect(c.cache.synced).toBe(false);
    expect(c.cache.errors).toEqual(["jobs in kiln-research: forbidden: jobs is forbidden"]);
    fail = false;
    await settle(20);
    expect(c.cache.synced).toBe(true);
    expect(c.cache.errors).toEqual([]);
  });

  test("knows which records exist (the accountant creates a record it has never seen instead of replacing it first)", async () => {
    const c = new SimCluster();
    await c.start();
    const cm = (name: string, resourceVersion: string): V1ConfigMap => ({
      metadata: { name, namespace: NS, resourceVersion, labels: { [USAGE_RECORD_LABEL]: "run" } },
      data: {},
    });
    expect(c.cache.hasRecord(NS, "kiln-usage-a")).toBe(false);
    c.at("2026-12-01T10:00:00Z", c.records, cm("kiln-usage-a", "1"));
    await settle();
    expect(c.cache.hasRecord(NS, "kiln-usage-a")).toBe(true);
    c.cache.recordWritten(NS, cm("kiln-usage-b", "2"));
    expect(c.cache.hasRecord(NS, "kiln-usage-b")).toBe(true);
    c.cache.recordDeleted(NS, "kiln-usage-a");
    expect(c.cache.hasRecord(NS, "kiln-usage-a")).toBe(false);
    expect(c.cache.hasRecord("another-namespace", "kiln-usage-b")).toBe(false);
  });
});
