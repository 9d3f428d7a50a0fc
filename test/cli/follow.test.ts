/**
 * Following a run's log (cli/src/follow.ts) against a scripted API: each look at the pods returns the
 * next scripted state, and each log stream writes the log as far as it has grown, then ends (a finished
 * container) or breaks (a running one). Sleeps are instant and counted.
 */
import type { V1ContainerState, V1Job, V1Pod } from "@kubernetes/client-node";
import type { Writable } from "node:stream";
import {
  containerState,
  followRunLog,
  type FollowApi,
  type FollowOptions,
  jobEnd,
  lineCounter,
} from "../../cli/src/follow";

const NS = "kiln-ml";
const JOB = "mpg-001";

function pod(
  name: string,
  state: V1ContainerState | undefined,
  opts: { phase?: string; created?: number; nodeName?: string; restarts?: number } = {},
): V1Pod {
  return {
    metadata: { name, namespace: NS, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, opts.created ?? 0)) },
    spec: { containers: [{ name: "trainer" }], nodeName: opts.nodeName ?? "kiln-node-0" },
    status: {
      phase: opts.phase ?? "Pending",
      containerStatuses: state
        ? [{ name: "trainer", image: "t", imageID: "", ready: false, restartCount: opts.restarts ?? 0, state }]
        : undefined,
    },
  };
}
const creating = { waiting: { reason: "ContainerCreating" } };
const running = { running: { startedAt: new Date() } };
const ended = { terminated: { exitCode: 0 } };

/** A scripted cluster: `looks` are the pods each listPods returns (the last one repeats). */
class Scripted implements FollowApi {
  calls: string[] = [];
  private look = 0;
  /** What each stream of a pod writes, in order; the last repeats. */
  streams = new Map<string, string[]>();
  logs = new Map<string, string>();
  job: V1Job = { status: {} };
  constructor(private readonly looks: V1Pod[][]) {}

  async listPods() {
    this.calls.push("listPods");
    return this.looks[Math.min(this.look++, this.looks.length - 1)];
  }
  async getJob() {
    return this.job;
  }
  async readLog(_ns: string, name: string) {
    this.calls.push(`readLog ${name}`);
    return this.logs.get(name) ?? "";
  }
  async followLog(_ns: string, name: string, _c: string, out: Writable) {
    this.calls.push(`followLog ${name}`);
    const list = this.streams.get(name) ?? [""];
    const n = this.calls.filter((c) => c === `followLog ${name}`).length;
    const text = list[Math.min(n - 1, list.length - 1)];
    const done = new Promise<void>((resolve) => out.write(text, () => resolve()));
    return { abort: () => undefined, done };
  }
}

async function follow(api: Scripted, extra: Partial<FollowOptions> = {}) {
  const lines: string[] = [];
  const notes: string[] = [];
  let sleeps = 0;
  const end = await followRunLog({
    api,
    namespace: NS,
    job: JOB,
    selector: `batch.kubernetes.io/job-name=${JOB}`,
    container: "trainer",
    onLine: (l) => lines.push(l),
    onNote: (n) => notes.push(n),
    followRetries: true,
    interrupted: () => false,
    sleep: async () => void sleeps++,
    ...extra,
  });
  return { end, lines, notes, sleeps };
}

describe("containerState", () => {
  test("a pod being created is waiting with the kubelet's reason; an unscheduled one with the scheduler's", () => {
    expect(containerState(pod("a", creating), "trainer")).toEqual({ kind: "waiting", reason: "ContainerCreating" });
    const unscheduled: V1Pod = {
      metadata: { name: "a" },
      status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable" }] },
    };
    expect(containerState(unscheduled, "trainer")).toEqual({ kind: "waiting", reason: "Unschedulable" });
  });

  test("running and terminated containers have a log; a pod that failed before its container ran has none", () => {
    expect(containerState(pod("a", running, { phase: "Running" }), "trainer")).toEqual({
      kind: "running",
      restarts: 0,
    });
    expect(containerState(pod("a", ended, { phase: "Succeeded" }), "trainer")).toEqual({
      kind: "ended",
      restarts: 0,
      hasLog: true,
    });
    expect(containerState(pod("a", creating, { phase: "Failed" }), "trainer")).toEqual({
      kind: "ended",
      restarts: 0,
      hasLog: false,
    });
  });

  test("jobEnd reads the Complete or Failed condition, else undefined", () => {
    expect(jobEnd({ status: { conditions: [{ type: "Complete", status: "True" }] } })).toBe("Complete");
    expect(jobEnd({ status: { conditions: [{ type: "Failed", status: "True" }] } })).toBe("Failed");
    expect(jobEnd({ status: { conditions: [{ type: "Suspended", status: "True" }] } })).toBeUndefined();
  });
});

describe("lineCounter", () => {
  test("skips the lines an earlier stream printed and holds back a cut last line", async () => {
    const got: string[] = [];
    const w = lineCounter(2, (l) => got.push(l));
    await new Promise<void>((r) => w.write("1\n2\n3\n4 cut", () => r()));
    expect(got).toEqual(["3"]);
    expect(w.count()).toBe(3);
  });
});

describe("followRunLog", () => {
  test("waits while the container is created and asks for its log only once it runs", async () => {
    const api = new Scripted([
      [pod("p1", creating)],
      [pod("p1", creating)],
      [pod("p1", running, { phase: "Running" })],
      [pod("p1", ended, { phase: "Succeeded" })],
    ]);
    api.streams.set("p1", ["epoch 1\nepoch 2\n"]);
    api.logs.set("p1", "epoch 1\nepoch 2\n");
    api.job = { status: { conditions: [{ type: "Complete", status: "True" }] } };
    const r = await follow(api);
    expect(r.lines).toEqual(["epoch 1", "epoch 2"]);
    expect(r.end).toEqual({ kind: "run-ended", state: "Complete" });
    // No log request before the container ran (the old 'is waiting to start: ContainerCreating' error).
    expect(api.calls.slice(0, 4)).toEqual(["listPods", "listPods", "listPods", "followLog p1"]);
    expect(r.notes).toEqual(["waiting for container trainer in pod p1 to start (ContainerCreating)..."]);
    expect(r.sleeps).toBe(2);
  });

  test("a stream that breaks while the container runs is resumed: every line once, the cut one and the last (no newline) included", async () => {
    const api = new Scripted([
      [pod("p1", running, { phase: "Running" })],
      [pod("p1", running, { phase: "Running" })],
      [pod("p1", ended, { phase: "Succeeded" })],
    ]);
    api.streams.set("p1", ["epoch 1\nepoch 2\nepo", "epoch 1\nepoch 2\nepoch 3\nepoch 4\n"]);
    api.logs.set("p1", "epoch 1\nepoch 2\nepoch 3\nepoch 4\nepoch 5\ntest mae 2.08");
    api.job = { status: { conditions: [{ type: "Complete", status: "True" }] } };
    const r = await follow(api);
    expect(r.lines).toEqual(["epoch 1", "epoch 2", "epoch 3", "epoch 4", "epoch 5", "test mae 2.08"]);
    // Two streams (the second resumed after line 2), then one read for what came after the last break.
    expect(api.calls.filter((c) => !c.startsWith("listPods"))).toEqual(["followLog p1", "followLog p1", "readLog p1"]);
    expect(r.notes.some((n) => n.includes("resuming after line 2"))).toBe(true);
  });

  test("after a pod lost mid-run, the retried pod is followed until the run ends", async () => {
    const lost = pod("p1", ended, { phase: "Failed", created: 0 });
    const retry = pod("p2", running, { phase: "Running", created: 60 });
    const api = new Scripted([
      [pod("p1", running, { phase: "Running" })],
      [lost],
      [lost],
      [retry, lost],
      [pod("p2", ended, { phase: "Succeeded", created: 60 }), lost],
    ]);
    api.streams.set("p1", ["epoch 1\n"]);
    api.logs.set("p1", "epoch 1\n");
    api.streams.set("p2", ["resumed at epoch 1\nepoch 2\n"]);
    api.logs.set("p2", "resumed at epoch 1\nepoch 2\n");
    let jobLooks = 0;
    api.getJob = async () =>
      ++jobLooks >= 3 ? { status: { conditions: [{ type: "Complete", status: "True" }] } } : { status: {} };
    const r = await follow(api);
    expect(r.lines).toEqual(["epoch 1", "resumed at epoch 1", "epoch 2"]);
    expect(r.end).toEqual({ kind: "run-ended", state: "Complete" });
    expect(r.notes).toContain("following pod p2 (a retry of the run)");
  });

  test("without followRetries (a sweep's index) it ends with the pod", async () => {
    const api = new Scripted([[pod("p1", ended, { phase: "Succeeded" })]]);
    api.streams.set("p1", ["done\n"]);
    api.logs.set("p1", "done\n");
    const r = await follow(api, { followRetries: false });
    expect(r).toMatchObject({ end: { kind: "pod-ended", pod: "p1" }, lines: ["done"] });
  });

  test("a stream that keeps breaking without a new line gives up, naming the pod", async () => {
    const api = new Scripted([[pod("p1", running, { phase: "Running" })]]);
    api.streams.set("p1", ["epoch 1\n"]);
    await expect(follow(api, { maxBrokenStreams: 3 })).rejects.toThrow(
      "the log stream of pod p1 broke 4 times in a row without a new line",
    );
  });

  test("Ctrl-C while waiting ends it at once", async () => {
    const api = new Scripted([[pod("p1", creating)]]);
    let looks = 0;
    const r = await follow(api, { interrupted: () => looks++ > 1 });
    expect(r.end).toEqual({ kind: "interrupted" });
  });
});
