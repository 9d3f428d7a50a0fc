import fc from "fast-check";
import {
  admissionRate,
  allocationWhileDeep,
  lifecycleLags,
  percentile,
  starvationInversions,
  type WorkloadFacts,
} from "../../../scripts/bench/admissions";

const S = 1000;
const wl = (
  key: string,
  created: number,
  admitted: number | undefined,
  gpus = 1,
  extra: Partial<WorkloadFacts> = {},
): WorkloadFacts => ({
  key,
  clusterQueue: "cq",
  priority: 0,
  createdMs: created * S,
  admittedMs: admitted === undefined ? undefined : admitted * S,
  gpus,
  pods: 1,
  ...extra,
});

/** The definition in scripts/bench/admissions.ts, written out pair by pair. */
function referenceCount(ws: readonly WorkloadFacts[]): number {
  return ws.filter(
    (w) =>
      w.admittedMs !== undefined &&
      ws.some(
        (v) =>
          v.clusterQueue === w.clusterQueue &&
          v.priority === w.priority &&
          v.createdMs < w.createdMs &&
          (v.admittedMs === undefined || v.admittedMs > w.admittedMs!) &&
          v.gpus <= w.gpus &&
          v.pods <= w.pods,
      ),
  ).length;
}

const workloads = fc
  .array(
    fc.record({
      created: fc.integer({ min: 0, max: 30 }),
      wait: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
      gpus: fc.constantFrom(1, 2, 4, 8, 16),
      pods: fc.constantFrom(1, 2, 4),
      cq: fc.constantFrom("a", "b"),
      priority: fc.constantFrom(0, 100),
    }),
    { maxLength: 40 },
  )
  .map((rs) =>
    rs.map((r, i) =>
      wl(`w${i}`, r.created, r.wait === undefined ? undefined : r.created + r.wait, r.gpus, {
        pods: r.pods,
        clusterQueue: r.cq,
        priority: r.priority,
      }),
    ),
  );

describe("starvation inversions", () => {
  it("counts an older run with no larger request admitted after a younger one", () => {
    const r = starvationInversions([wl("old", 0, 10, 1), wl("young", 1, 5, 1)]);
    expect(r.count).toBe(1);
    expect(r.examples).toEqual([{ admitted: "young", skipped: "old" }]);
  });

  it("counts an older run that is never admitted while a younger one is", () => {
    expect(starvationInversions([wl("old", 0, undefined, 2), wl("young", 1, 5, 4)]).count).toBe(1);
  });

  it("does not count skipping an older run that asks for more GPUs or more pods (it might not fit)", () => {
    expect(starvationInversions([wl("big", 0, 10, 8), wl("small", 1, 5, 1)]).count).toBe(0);
    expect(starvationInversions([wl("wide", 0, 10, 1, { pods: 4 }), wl("narrow", 1, 5, 1)]).count).toBe(0);
  });

  it("does not compare across ClusterQueues, priorities, or runs created or admitted in the same second", () => {
    expect(starvationInversions([wl("old", 0, 10), wl("young", 1, 5, 1, { clusterQueue: "other" })]).count).toBe(0);
    expect(starvationInversions([wl("old", 0, 10), wl("young", 1, 5, 1, { priority: 100 })]).count).toBe(0);
    expect(starvationInversions([wl("a", 3, 10), wl("b", 3, 5)]).count).toBe(0);
    expect(starvationInversions([wl("a", 0, 5), wl("b", 1, 5)]).count).toBe(0);
  });

  it("admitting in creation order never counts one", () => {
    fc.assert(
      fc.property(workloads, (ws) => {
        // FIFO: each queue's runs admitted one second apart in creation order.
        const fifo = [...ws]
          .sort((a, b) => a.createdMs - b.createdMs)
          .map((w, i) => ({ ...w, admittedMs: w.createdMs + i * S + 100 * S }));
        expect(starvationInversions(fifo).count).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("counts exactly the admissions the pairwise definition finds", () => {
    fc.assert(
      fc.property(workloads, (ws) => {
        expect(starvationInversions(ws).count).toBe(referenceCount(ws));
      }),
      { numRuns: 300 },
    );
  });
});

describe("admission rate", () => {
  it("measures the burst until the admitted GPUs reach the quota, then the rest separately", () => {
    // 10 one-GPU workloads a second for 10 s; the quota (50 GPUs) is reached in second 4.
    const ws = Array.from({ length: 100 }, (_, i) => wl(`w${i}`, 0, Math.floor(i / 10)));
    const r = admissionRate(ws, 50);
    expect(r.burstAdmitted).toBe(50);
    expect(r.burstSeconds).toBe(5);
    expect(r.whileQuotaAllows).toBe(10);
    expect(r.peak10s).toBe(10);
    expect(r.overall).toBe(10);
    expect(r.admitted).toBe(100);
  });

  it("counts pending workloads out and gives zeros when nothing was admitted", () => {
    expect(admissionRate([wl("p", 0, undefined)], 8)).toMatchObject({ admitted: 0, whileQuotaAllows: 0 });
    expect(admissionRate([wl("a", 0, 2), wl("p", 0, undefined)], 8).admitted).toBe(1);
  });
});

describe("allocation while the queue is deep", () => {
  it("takes only samples where the waiting runs ask for more GPUs than are free", () => {
    const r = allocationWhileDeep(
      [
        { t: 0, held: 0, waiting: 10 }, // 100 free, 10 waiting: not deep
        { t: 1, held: 90, waiting: 20 }, // 10 free, 20 waiting: deep
        { t: 2, held: 100, waiting: 5 }, // deep
      ],
      100,
    );
    expect(r).toEqual({ peakPct: 100, meanPct: 95, deepSamples: 2 });
    expect(allocationWhileDeep([], 100).deepSamples).toBe(0);
  });
});

describe("percentile", () => {
  it("is the nearest-rank value of the input", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1 }),
        fc.integer({ min: 0, max: 100 }),
        (vs, p) => {
          const v = percentile(vs, p);
          expect(vs).toContain(v);
          expect(vs.filter((x) => x <= v).length / vs.length).toBeGreaterThanOrEqual(p / 100);
        },
      ),
    );
  });
});

describe("lifecycle lags", () => {
  it("measures quota reserved -> first pod bound and last pod finished -> Workload Finished, per run", () => {
    const ws = [
      { ...wl("ns/job-a", 0, 10), run: "a", finishedMs: 40 * S },
      { ...wl("ns/job-b", 0, 20), run: "b", finishedMs: undefined },
      { ...wl("ns/job-c", 0, undefined), run: "c" },
    ];
    const pods = new Map([
      ["a", { firstBoundMs: 12 * S, lastFinishedMs: 35 * S }],
      ["b", { firstBoundMs: 21 * S }],
    ]);
    const r = lifecycleLags(ws, pods);
    expect(r.start).toEqual({ runs: 2, p50Seconds: 1, p99Seconds: 2 });
    expect(r.release).toEqual({ runs: 1, p50Seconds: 5, p99Seconds: 5 });
  });
});
