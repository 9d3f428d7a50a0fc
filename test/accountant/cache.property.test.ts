/**
 * Whatever the order of watch events and passes, and wherever a watch drops and relists, every pod's GPU
 * time is recorded exactly once: the records' GPU-hours per Job equal the pods' GPUs x (end - scheduled).
 */
import fc from "fast-check";
import { recordOf } from "../../contract/accounting/record";
import { reconcile } from "../../accountant/src/reconcile";
import { settle } from "./fake-server";
import { job, pod, settingsFor } from "./fixtures";
import { SimCluster } from "./sim-cluster";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 200);
const settings = settingsFor();
const T0 = Date.parse("2026-12-01T00:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

type Event =
  | { t: number; kind: "job"; job: number }
  | { t: number; kind: "jobGone"; job: number }
  | {
      t: number;
      kind: "pod" | "podDone" | "podGone";
      job: number;
      pod: number;
      gpus: number;
      start: number;
      end: number;
    };

const podPlan = fc.record({
  gpus: fc.constantFrom(1, 2, 4, 8),
  seconds: fc.integer({ min: 1, max: 7200 }),
  pause: fc.integer({ min: 0, max: 600 }),
  linger: fc.integer({ min: 0, max: 60 }),
});
const jobPlan = fc.record({
  start: fc.integer({ min: 0, max: 3600 }),
  pods: fc.array(podPlan, { minLength: 1, maxLength: 3 }),
});

function timeline(
  jobs: { start: number; pods: { gpus: number; seconds: number; pause: number; linger: number }[] }[],
): Event[] {
  const events: Event[] = [];
  jobs.forEach((j, ji) => {
    events.push({ t: j.start, kind: "job", job: ji });
    let t = j.start;
    j.pods.forEach((p, pi) => {
      const start = t + p.pause;
      const end = start + p.seconds;
      const base = { job: ji, pod: pi, gpus: p.gpus, start, end };
      events.push(
        { ...base, t: start, kind: "pod" },
        { ...base, t: end, kind: "podDone" },
        { ...base, t: end + p.linger, kind: "podGone" },
      );
      t = end + p.linger;
    });
    events.push({ t: t + 1, kind: "jobGone", job: ji });
  });
  return events.sort((a, b) => a.t - b.t);
}

/** Gaps (event index ranges with the watches down) in which no pod both ends and is deleted: its end is never seen. */
function validGaps(events: Event[], gaps: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, len] of gaps) {
    const b = Math.min(events.length, a + len);
    if (out.some(([x, y]) => a < y && x < b)) continue;
    const inside = events.slice(a, b);
    const key = (e: Event) => ("pod" in e ? `${e.job}/${e.pod}` : "");
    const unseenEnd = inside.some(
      (e) =>
        e.kind === "podGone" && inside.some((d) => (d.kind === "podDone" || d.kind === "pod") && key(d) === key(e)),
    );
    if (!unseenEnd) out.push([a, b]);
  }
  return out;
}

describe("the watch cache, property", () => {
  test(`records equal the pods' GPU time for any order of events, passes and dropped watches (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(jobPlan, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })), { maxLength: 3 }),
        async (plans, passSeeds, gapSeeds) => {
          const events = timeline(plans);
          const passes = new Set(passSeeds.map((s) => s % (events.length + 1)));
          const gaps = validGaps(
            events,
            gapSeeds.map(([a, len]) => [a % events.length, len]),
          );
          const c = new SimCluster();
          await c.start();
          const uid = (j: number) => `job-${j}`;
          const podName = (e: { job: number; pod: number }) => `run-${e.job}-${e.pod}`;
          for (let i = 0; i <= events.length; i++) {
            for (const [a, b] of gaps) {
              if (i === a) {
                c.jobs.drop();
                c.pods.drop();
              }
              if (i === b) {
                c.clock = new Date(at(events[i - 1].t));
                await settle(20);
              }
            }
            if (passes.has(i)) await reconcile(c, settings, new Date(at(i ? events[i - 1].t : 0)));
            const e = events[i];
            if (!e) break;
            if (e.kind === "job") c.at(at(e.t), c.jobs, job(`run-${e.job}`, uid(e.job)));
            else if (e.kind === "jobGone") c.removeAt(at(e.t), c.jobs, `run-${e.job}`);
            else if (e.kind === "podGone") c.removeAt(at(e.t), c.pods, podName(e));
            else
              c.at(
                at(e.t),
                c.pods,
                pod({
                  name: podName(e),
                  jobUid: uid(e.job),
                  node: "g5",
                  gpus: e.gpus,
                  scheduled: at(e.start),
                  finished: e.kind === "podDone" ? at(e.end) : undefined,
                }),
              );
          }
          await settle(20);
          const end = new Date(at(events[events.length - 1].t + 60));
          await reconcile(c, settings, end);
          const got = new Map<string, number>();
          for (const cm of c.view("kiln-research").records) {
            const r = recordOf(cm);
            if (r instanceof Error) throw r;
            expect(r.final).toBe(true);
            got.set(r.uid, r.usage.gpuHours);
          }
          plans.forEach((p, j) => {
            const want = p.pods.reduce((a, q) => a + (q.gpus * q.seconds) / 3600, 0);
            expect(got.get(uid(j)) ?? 0).toBeCloseTo(want, 4);
          });
          // Recorded, nothing gone is kept: the journal does not grow.
          expect(c.view("kiln-research")).toMatchObject({ goneJobs: [], gonePods: [] });
          await c.cache.stop();
        },
      ),
      { numRuns: RUNS },
    );
  });
});
