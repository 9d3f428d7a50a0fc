import { controllerFigures, samples } from "../../../scripts/bench/kueue-metrics";

const TEXT = `# HELP controller_runtime_reconcile_time_seconds Length of time per reconciliation per controller
controller_runtime_reconcile_time_seconds_sum{controller="job"} 954.5
controller_runtime_reconcile_time_seconds_count{controller="job"} 2386
controller_runtime_reconcile_time_seconds_sum{controller="workload_controller"} 30
controller_runtime_reconcile_time_seconds_count{controller="workload_controller"} 300
controller_runtime_reconcile_time_seconds_count{controller="idle"} 0
controller_runtime_max_concurrent_reconciles{controller="job"} 5
controller_runtime_max_concurrent_reconciles{controller="workload_controller"} 5
kueue_pending_workloads{cluster_queue="bench-cq-0",status="active"} 12
`;

describe("Kueue's metrics, read for the bench", () => {
  it("reads one family's samples by label set", () => {
    expect(samples(TEXT, "kueue_pending_workloads")).toEqual(
      new Map([['{cluster_queue="bench-cq-0",status="active"}', 12]]),
    );
    expect(samples("up 1\n", "up")).toEqual(new Map([["", 1]]));
  });

  it("gives each controller's mean reconcile time, workers and the throughput they allow, busiest first", () => {
    const [job, workload, ...rest] = controllerFigures(TEXT);
    expect(job).toEqual({
      controller: "job",
      reconciles: 2386,
      meanSeconds: 954.5 / 2386,
      workers: 5,
      capacityPerSecond: 5 / (954.5 / 2386),
    });
    expect(workload.controller).toBe("workload_controller");
    expect(workload.capacityPerSecond).toBeCloseTo(50);
    expect(rest).toEqual([]);
  });
});
