/**
 * Retention: finished months roll up into one record per team, old per-Job records are pruned, and
 * `kubectl kiln usage` (cli/src/usage.ts) reports the same totals for past months before and after.
 */
import fc from "fast-check";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { USAGE_RECORD_LABEL } from "../../contract/accounting/keys";
import { periodOf } from "../../contract/accounting/budget";
import { recordConfigMap, recordOf, rollupOf, type UsageRecord } from "../../contract/accounting/record";
import { reconcile } from "../../accountant/src/reconcile";
import { monthsOf } from "../../accountant/src/retention";
import { usageOf, type PodSpan } from "../../contract/accounting/usage";
import { usageOfTeams, type UsageReader } from "../../cli/src/usage";
import { FakeCluster } from "./fake-cluster";
import { settingsFor } from "./fixtures";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 100);
const H = 3_600_000;

function span(name: string, gpus: number, start: number, end: number | null): PodSpan {
  return {
    uid: `uid-${name}`,
    name,
    node: "g5",
    pool: "a10g",
    instanceType: "g5.xlarge",
    capacityType: "on-demand",
    gpus,
    start: new Date(start).toISOString(),
    end: end === null ? null : new Date(end).toISOString(),
    simulated: false,
  };
}

function record(n: number, spans: PodSpan[], updated: number, final: boolean): UsageRecord {
  return {
    version: 1,
    job: `run-${n}`,
    uid: `job-${n}-0000`,
    run: `run-${n}`,
    runUid: `job-${n}-0000`,
    namespace: "kiln-research",
    team: "research",
    region: "us-east-1",
    created: spans[0]?.start ?? new Date(updated).toISOString(),
    spans,
    updated: new Date(updated).toISOString(),
    usage: usageOf(spans, new Date(updated), { region: "us-east-1" }),
    ...(final ? { final: true } : {}),
  };
}

/** What the plugin reads, over the fake cluster's ConfigMaps. */
function reader(c: FakeCluster): UsageReader {
  return {
    listConfigMaps: async (_ns: string | undefined, selector: string) => {
      const [key, value] = selector.split("=");
      return [...c.configMaps.values()].filter((cm: V1ConfigMap) => cm.metadata?.labels?.[key] === value);
    },
    listPods: async () => [],
    getConfigMap: async () => ({}),
  };
}

const totals = async (c: FakeCluster, since: Date, now: Date) => {
  const [t] = await usageOfTeams(reader(c), { since, now });
  return t ? { gpuHours: t.gpuHours, usd: t.usd, kWh: t.kWh, runs: t.runs } : { gpuHours: 0, usd: 0, kWh: 0, runs: 0 };
};

describe("usage record retention", () => {
  test("a finished month rolls up; records older than recordRetentionDays go; past months' totals stay", async () => {
    const c = new FakeCluster();
    const put = (r: UsageRecord) => c.configMaps.set(recordConfigMap(r).metadata!.name!, recordConfigMap(r));
    const t = (s: string) => Date.parse(s);
    // November: two finished runs (one across the month's end); December: one; January (now): one.
    put(
      record(1, [span("a", 2, t("2026-11-03T10:00:00Z"), t("2026-11-03T14:00:00Z"))], t("2026-11-03T14:00:30Z"), true),
    );
    put(
      record(2, [span("b", 1, t("2026-11-30T22:00:00Z"), t("2026-12-01T02:00:00Z"))], t("2026-12-01T02:00:30Z"), true),
    );
    put(
      record(3, [span("c", 8, t("2026-12-20T00:00:00Z"), t("2026-12-20T01:00:00Z"))], t("2026-12-20T01:00:30Z"), true),
    );
    put(
      record(4, [span("d", 1, t("2027-01-05T00:00:00Z"), t("2027-01-08T00:00:00Z"))], t("2027-01-08T00:00:30Z"), true),
    );
    const now = new Date("2027-01-10T00:00:00Z");
    const windows = [
      new Date("2026-11-01T00:00:00Z"),
      new Date("2026-12-01T00:00:00Z"),
      new Date("2026-11-15T00:00:00Z"),
    ];
    const before = await Promise.all(windows.map((w) => totals(c, w, now)));
    const [o] = await reconcile(c, settingsFor({ recordRetentionDays: 35 }), now);
    expect(o.rolledUp).toEqual(["2026-11", "2026-12"]);
    // Record 1 and 2 ended before 2026-12-06 (35 days ago); 3 is too recent, 4 is in this month.
    expect(o.pruned).toBe(2);
    expect((await c.listRecords()).map((cm) => (recordOf(cm) as UsageRecord).job).sort()).toEqual(["run-3", "run-4"]);
    const nov = rollupOf(c.configMaps.get("kiln-usage-month-research-2026-11")!);
    if (nov instanceof Error) throw nov;
    expect(nov).toMatchObject({ month: "2026-11", runs: 2, records: 2, figures: { gpuHours: 10 } });
    expect(nov.days).toHaveLength(30);
    expect(nov.days[2].gpuHours).toBe(8);
    const after = await Promise.all(windows.map((w) => totals(c, w, now)));
    for (const [i, a] of after.entries()) {
      expect(a.gpuHours).toBeCloseTo(before[i].gpuHours, 6);
      expect(a.usd!).toBeCloseTo(before[i].usd!, 6);
    }
    // Run 2 has time in both rolled-up months: counted in each.
    expect(after[0].runs).toBe(before[0].runs + 1);
    // A second pass changes nothing.
    const writes = c.writes;
    const [again] = await reconcile(c, settingsFor({ recordRetentionDays: 35 }), new Date("2027-01-10T00:00:30Z"));
    expect([again.rolledUp, again.pruned, c.writes]).toEqual([[], 0, writes]);
  });

  test("a record of a run that still has a Job is kept (a JobSet's older attempts)", async () => {
    const c = new FakeCluster();
    const old = record(
      1,
      [span("a", 1, Date.parse("2026-10-01T00:00:00Z"), Date.parse("2026-10-01T01:00:00Z"))],
      Date.parse("2026-10-01T01:00:30Z"),
      true,
    );
    c.configMaps.set(
      recordConfigMap({ ...old, runUid: "js-1" }).metadata!.name!,
      recordConfigMap({ ...old, runUid: "js-1" }),
    );
    const j = {
      metadata: {
        name: "llm-node-0",
        uid: "job-9",
        namespace: "kiln-research",
        labels: { "jobset.sigs.k8s.io/jobset-uid": "js-1" },
      },
    };
    c.jobs = [j];
    const [o] = await reconcile(c, settingsFor({ recordRetentionDays: 35 }), new Date("2027-01-10T00:00:00Z"));
    expect([o.rolledUp, o.pruned]).toEqual([["2026-10"], 0]);
  });

  test("bad retention settings are refused naming the field", () => {
    expect(() => settingsFor({ recordRetentionDays: 0 })).toThrow(/recordRetentionDays/);
  });
});

const DAY = 24 * H;
const T0 = Date.parse("2026-10-01T00:00:00Z");
const spanPlan = fc.record({
  startHour: fc.integer({ min: 0, max: 110 * 24 }),
  hours: fc.integer({ min: 1, max: 80 }),
  gpus: fc.constantFrom(1, 2, 4, 8),
});

describe("usage record retention, property", () => {
  test(`roll-ups equal the sum of the records they replace, and usage of past months is unchanged by pruning (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(spanPlan, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 40 }),
        async (runs, retentionDays, nowDay) => {
          const now = new Date(Date.parse("2027-01-01T00:00:00Z") + nowDay * DAY);
          const c = new FakeCluster();
          const recs = runs.map((plans, n) => {
            const spans = plans.map((p, i) => {
              const start = T0 + p.startHour * H;
              const end = Math.min(start + p.hours * H, now.getTime() - H);
              return span(`${n}-${i}`, p.gpus, Math.min(start, end - H), end);
            });
            // Finished runs whose Jobs are gone (a record with a Job left is never pruned).
            return record(n, spans, Math.max(...spans.map((s) => Date.parse(s.end!))), true);
          });
          for (const r of recs) c.configMaps.set(recordConfigMap(r).metadata!.name!, recordConfigMap(r));
          const past = ["2026-10-01", "2026-11-01", "2026-12-01", "2026-11-17", "2026-12-29"].map(
            (d) => new Date(`${d}T00:00:00Z`),
          );
          const before = await Promise.all(past.map((w) => totals(c, w, now)));
          const [o] = await reconcile(c, settingsFor({ recordRetentionDays: retentionDays }), now);
          expect(o.problems).toEqual([]);
          // Each roll-up is the sum of every record's time in its month.
          for (const month of o.rolledUp ?? []) {
            const m = rollupOf(c.configMaps.get(`kiln-usage-month-research-${month}`)!);
            if (m instanceof Error) throw m;
            const p = periodOf(new Date(m.from));
            const want = recs.reduce(
              (a, r) =>
                a +
                usageOf(r.spans, r.final ? new Date(r.updated) : now, { region: "us-east-1", from: p.from, to: p.to })
                  .gpuHours,
              0,
            );
            expect(m.figures.gpuHours).toBeCloseTo(want, 4);
            expect(m.days.reduce((a, d) => a + d.gpuHours, 0)).toBeCloseTo(want, 4);
          }
          // Nothing with time in the current month, or newer than the retention, is pruned.
          const kept = new Set((await c.listRecords()).map((cm) => (recordOf(cm) as UsageRecord).uid));
          for (const r of recs.filter((x) => !kept.has(x.uid))) {
            expect(r.final).toBe(true);
            expect(Date.parse(r.updated)).toBeLessThan(now.getTime() - retentionDays * DAY);
            expect(monthsOf(r, now).every((m) => m < periodOf(now).name)).toBe(true);
          }
          const after = await Promise.all(past.map((w) => totals(c, w, now)));
          for (const [i, a] of after.entries()) expect(a.gpuHours).toBeCloseTo(before[i].gpuHours, 4);
          expect(
            Object.keys(
              Object.fromEntries(
                [...c.configMaps].filter(([, cm]) => cm.metadata?.labels?.[USAGE_RECORD_LABEL] === "month"),
              ),
            ).length,
          ).toBe(new Set(recs.flatMap((r) => monthsOf(r, now)).filter((m) => m < periodOf(now).name)).size);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
