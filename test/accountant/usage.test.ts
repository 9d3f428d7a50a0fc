import { FAMILY_FACTS, INSTANCE_PRICES } from "../../contract/catalog/prices";
import { GRID_G_CO2E_PER_KWH } from "../../contract/catalog/grid-intensity";
import {
  mergeSpans,
  spanOfPod,
  sumFigures,
  usageOf,
  usdPerGpuHour,
  type PodSpan,
} from "../../contract/accounting/usage";
import { node, pod } from "./fixtures";

const nodes = new Map([
  ["g5-od", node("g5-od", "g5.12xlarge", "on-demand", { pool: "a10g" })],
  ["g5-spot", node("g5-spot", "g5.12xlarge", "spot", { pool: "a10g" })],
  ["kwok", node("kwok", "p5.48xlarge", "on-demand", { pool: "h100", simulated: true })],
  ["odd", node("odd", "x9.huge", "on-demand")],
]);
const region = { region: "us-east-1" };

describe("a run's usage from its pods", () => {
  test("GPU-hours are GPUs x the time from scheduling to the container's end", () => {
    const s = spanOfPod(
      pod({
        name: "p",
        jobUid: "j",
        node: "g5-od",
        gpus: 4,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:30:00Z",
      }),
      nodes,
    )!;
    expect(s).toMatchObject({
      gpus: 4,
      start: "2026-12-01T10:00:00.000Z",
      end: "2026-12-01T11:30:00.000Z",
      pool: "a10g",
      instanceType: "g5.12xlarge",
      capacityType: "on-demand",
      simulated: false,
    });
    const u = usageOf([s], new Date("2026-12-02T00:00:00Z"), region);
    expect(u.gpuHours).toBe(6);
    // g5.12xlarge on demand: the plan's table price over its 4 GPUs, per GPU-hour, times 6.
    expect(u.usd).toBeCloseTo((INSTANCE_PRICES["g5.12xlarge"].onDemand / 4) * 6, 6);
    expect(u.kWh).toBeCloseTo((FAMILY_FACTS.g5.gpuWatts * 6) / 1000, 6);
    expect(u.co2eKg).toBeCloseTo((u.kWh * GRID_G_CO2E_PER_KWH["us-east-1"]) / 1000, 6);
    expect(u.basis).toContain("full GPU board power (no utilisation figure)");
  });

  test("spot capacity is priced with the family's spot discount", () => {
    expect(usdPerGpuHour("g5.12xlarge", "spot")).toBeCloseTo(
      (INSTANCE_PRICES["g5.12xlarge"].onDemand / 4) * (1 - FAMILY_FACTS.g5.spotDiscount),
      9,
    );
  });

  test("a pending pod holds nothing; a running pod counts until now", () => {
    expect(spanOfPod(pod({ name: "p", jobUid: "j", gpus: 1 }), nodes)).toBeUndefined();
    const s = spanOfPod(
      pod({ name: "p", jobUid: "j", node: "g5-od", gpus: 2, scheduled: "2026-12-01T10:00:00Z" }),
      nodes,
    )!;
    expect(s.end).toBeNull();
    expect(usageOf([s], new Date("2026-12-01T10:30:00Z"), region).gpuHours).toBe(1);
  });

  test("retries and resumes add up: every pod of the run counts, a vanished one until it was last seen", () => {
    const first = spanOfPod(
      pod({ name: "a", jobUid: "j", node: "g5-od", gpus: 1, scheduled: "2026-12-01T10:00:00Z" }),
      nodes,
    )!;
    // The node was lost: the pod vanished while running; the record last saw it at 10:45.
    const closed = mergeSpans([first], [], "2026-12-01T10:45:00.000Z");
    expect(closed[0]).toMatchObject({ end: "2026-12-01T10:45:00.000Z", endEstimated: true });
    const retry = spanOfPod(
      pod({
        name: "b",
        jobUid: "j",
        node: "g5-od",
        gpus: 1,
        scheduled: "2026-12-01T11:00:00Z",
        finished: "2026-12-01T12:00:00Z",
      }),
      nodes,
    )!;
    const spans = mergeSpans(closed, [retry], "2026-12-01T12:00:00.000Z");
    const u = usageOf(spans, new Date("2026-12-02T00:00:00Z"), region);
    expect(u.gpuHours).toBe(1.75);
    expect(u.basis.join("; ")).toContain("counted until last seen");
  });

  test("simulated times and unpriced types are said, not hidden", () => {
    const sim = spanOfPod(
      pod({
        name: "s",
        jobUid: "j",
        node: "kwok",
        gpus: 8,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T10:00:36Z",
      }),
      nodes,
    )!;
    const odd = spanOfPod(
      pod({
        name: "o",
        jobUid: "j",
        node: "odd",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:00:00Z",
      }),
      nodes,
    )!;
    const u = usageOf([sim, odd], new Date("2026-12-02T00:00:00Z"), region);
    expect(u.gpuHours).toBeCloseTo(1.08, 9);
    expect(u.usd).toBeCloseTo((INSTANCE_PRICES["p5.48xlarge"].onDemand / 8) * 0.08, 6);
    expect(u.basis).toEqual(
      expect.arrayContaining(["simulated pod times (KWOK nodes)", "not priced: x9.huge", "no power figure: x9.huge"]),
    );
    expect(usageOf([odd], new Date("2026-12-02T00:00:00Z"), region).usd).toBeNull();
  });

  test("a window counts only the time inside it (a budget month)", () => {
    const s: PodSpan = {
      uid: "u",
      name: "p",
      node: "g5-od",
      pool: "a10g",
      instanceType: "g5.xlarge",
      capacityType: "on-demand",
      gpus: 1,
      start: "2026-11-30T23:00:00Z",
      end: "2026-12-01T02:00:00Z",
      simulated: false,
    };
    const u = usageOf([s], new Date("2026-12-05T00:00:00Z"), {
      region: "us-east-1",
      from: new Date("2026-12-01T00:00:00Z"),
      to: new Date("2027-01-01T00:00:00Z"),
    });
    expect(u.gpuHours).toBe(2);
  });

  test("a region outside the table gets the table's mean and says so", () => {
    const s: PodSpan = {
      uid: "u",
      name: "p",
      node: null,
      pool: null,
      instanceType: "g5.xlarge",
      capacityType: "on-demand",
      gpus: 1,
      start: "2026-12-01T00:00:00Z",
      end: "2026-12-01T01:00:00Z",
      simulated: false,
    };
    expect(usageOf([s], new Date("2026-12-02T00:00:00Z"), { region: "mars-1" }).basis.join(" ")).toContain(
      "mars-1 (not in the table",
    );
  });

  test("CPU runs use no GPU-hours and cost nothing here", () => {
    const s = spanOfPod(
      pod({
        name: "c",
        jobUid: "j",
        node: "g5-od",
        gpus: 0,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:00:00Z",
      }),
      nodes,
    )!;
    expect(usageOf([s], new Date("2026-12-02T00:00:00Z"), region)).toMatchObject({
      gpuHours: 0,
      usd: 0,
      kWh: 0,
      co2eKg: 0,
    });
  });

  test("sums keep unknown dollars unknown only when nothing was priced", () => {
    expect(
      sumFigures([
        { gpuHours: 1, usd: null, kWh: 0, co2eKg: 0 },
        { gpuHours: 2, usd: 3, kWh: 1, co2eKg: 0.5 },
      ]),
    ).toEqual({ gpuHours: 3, usd: 3, kWh: 1, co2eKg: 0.5 });
    expect(sumFigures([{ gpuHours: 1, usd: null, kWh: 0, co2eKg: 0 }]).usd).toBeNull();
  });
});
