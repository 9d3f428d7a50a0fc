import { gpusFromEnv, USAGE_BASIS, withAttempt } from "../../trainer-image/src/usage";
import { renderReport } from "../../trainer-image/src/report";

describe("the trainer's own GPU time (run.json usage)", () => {
  test("GPUs come from KILN_GPUS; anything but a whole number is a CPU run", () => {
    expect(gpusFromEnv({ KILN_GPUS: "8" })).toBe(8);
    expect(gpusFromEnv({ KILN_GPUS: " 2 " })).toBe(2);
    for (const v of [undefined, "", "-1", "1.5", "x", "10000"]) expect(gpusFromEnv({ KILN_GPUS: v })).toBe(0);
  });

  test("attempts add up across a resume, and rewriting the same attempt replaces it", () => {
    const first = withAttempt(undefined, 4, new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:30:00Z"));
    expect(first).toEqual({
      gpus: 4,
      attempts: [{ start: "2026-12-01T10:00:00.000Z", end: "2026-12-01T10:30:00.000Z" }],
      gpuHours: 2,
      basis: USAGE_BASIS,
    });
    // The same attempt at a later checkpoint: one attempt, longer.
    const later = withAttempt(undefined, 4, new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:45:00Z"));
    expect(later.attempts).toHaveLength(1);
    // The pod was lost; the resumed attempt runs 15 minutes more.
    const resumed = withAttempt(later, 4, new Date("2026-12-01T11:00:00Z"), new Date("2026-12-01T11:15:00Z"));
    expect(resumed.attempts).toHaveLength(2);
    expect(resumed.gpuHours).toBe(4);
  });

  test("the report shows the GPU time and how it was measured", () => {
    const usage = withAttempt(undefined, 1, new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:06:00Z"));
    const html = renderReport({
      runId: "r",
      task: "regression",
      backend: "wasm",
      history: [],
      test: null,
      spec: {},
      trainSeconds: 1,
      samplesPerSecond: 1,
      usage,
    });
    expect(html).toContain("GPU time: <b>0.1000 GPU-hours</b> (1 GPU, 1 attempt)");
    expect(html).toContain("by the trainer's clock");
  });
});
