/** ls/status/logs rendering: pure functions with a fixed clock. */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { describeRun, podOutcome } from "../../cli/src/commands/status";
import { formatAge, renderTable } from "../../cli/src/output";
import { bestMetric, ProgressRenderer } from "../../cli/src/progress";
import { lsRow, runPhase, runStatus, sortJobs } from "../../cli/src/rows";

const NOW = new Date("2026-11-28T12:00:00Z");

function job(
  name: string,
  opts: {
    created?: string;
    gpus?: number;
    queue?: string;
    status?: V1Job["status"];
    suspend?: boolean;
    completions?: number;
    ns?: string;
  } = {},
): V1Job {
  return {
    metadata: {
      name,
      namespace: opts.ns ?? "kiln-ml",
      creationTimestamp: new Date(opts.created ?? "2026-11-28T11:55:00Z"),
      labels: opts.queue ? { "kueue.x-k8s.io/queue-name": opts.queue } : {},
    },
    spec: {
      suspend: opts.suspend,
      ...(opts.completions ? { completionMode: "Indexed", completions: opts.completions, parallelism: 2 } : {}),
      template: {
        spec: {
          containers: [
            {
              name: "trainer",
              image: "kiln/trainer:0.1.0",
              resources: opts.gpus ? { limits: { "nvidia.com/gpu": String(opts.gpus) } } : {},
            },
          ],
        },
      },
    },
    status: opts.status,
  };
}
const cond = (type: string) => ({ conditions: [{ type, status: "True", lastTransitionTime: NOW }] });

describe("formatAge", () => {
  test.each([
    ["2026-11-28T11:59:55Z", "5s"],
    ["2026-11-28T11:58:01Z", "119s"],
    ["2026-11-28T11:55:30Z", "4m30s"],
    ["2026-11-28T11:45:00Z", "15m"],
    ["2026-11-28T09:30:00Z", "150m"],
    ["2026-11-28T06:30:00Z", "5h30m"],
    ["2026-11-27T12:00:00Z", "24h"],
    ["2026-11-25T06:00:00Z", "3d6h"],
    ["2026-10-01T12:00:00Z", "58d"],
    ["2023-11-28T12:00:00Z", "3y"],
    ["2026-11-28T12:00:10Z", "0s"],
  ])("%s -> %s", (from, age) => {
    expect(formatAge(from, NOW)).toBe(age);
  });
});

describe("run status", () => {
  test.each<[string, V1Job, string]>([
    ["Complete -> Succeeded", job("a", { status: cond("Complete") }), "Succeeded"],
    ["Failed -> Failed", job("a", { status: cond("Failed") }), "Failed"],
    ["suspended with a queue -> Queued", job("a", { suspend: true, queue: "training" }), "Queued"],
    ["suspended without a queue -> Suspended", job("a", { suspend: true }), "Suspended"],
    ["active pods -> Running", job("a", { status: { active: 1 } }), "Running"],
    ["nothing yet -> Pending", job("a"), "Pending"],
  ])("%s", (_n, j, phase) => {
    expect(runPhase(j)).toBe(phase);
  });

  test("sweeps show succeeded/completions", () => {
    expect(runStatus(job("s", { completions: 6, status: { active: 2, succeeded: 3 } }))).toBe("Running 3/6");
  });
});

describe("ls rows", () => {
  test("NAME STATUS AGE GPUS QUEUE GPU-HOURS COST BEST-METRIC; NAMESPACE first only with -A", () => {
    const j = job("run-1", { gpus: 1, queue: "training", status: cond("Complete") });
    const usage = {
      gpuHours: 0.0222,
      usd: 1.2345,
      kWh: 0,
      co2eKg: 0,
      pool: null,
      instanceType: null,
      capacityType: null,
      basis: [],
    };
    expect(lsRow(j, NOW, "val_loss=7.1234@40", false, usage)).toEqual([
      "run-1",
      "Succeeded",
      "5m",
      "1",
      "training",
      "0.022",
      "$1.23",
      "val_loss=7.1234@40",
    ]);
    expect(lsRow(j, NOW, undefined, true)).toEqual([
      "kiln-ml",
      "run-1",
      "Succeeded",
      "5m",
      "1",
      "training",
      "-",
      "-",
      "-",
    ]);
    expect(lsRow(job("cpu"), NOW, undefined, false, { ...usage, gpuHours: 0, usd: 0 })).toEqual([
      "cpu",
      "Pending",
      "5m",
      "0",
      "-",
      "0",
      "$0",
      "-",
    ]);
    expect(lsRow(job("q", { queue: "training", suspend: true }), NOW, undefined, false, undefined, true)[1]).toBe(
      "Queued (budget)",
    );
    expect(lsRow(job("sw", { gpus: 2, completions: 4 }), NOW, undefined, false)[3]).toBe("2x4");
  });

  test("newest first, then by name", () => {
    const jobs = [
      job("b", { created: "2026-11-28T10:00:00Z" }),
      job("c", { created: "2026-11-28T11:00:00Z" }),
      job("a", { created: "2026-11-28T10:00:00Z" }),
    ];
    expect(sortJobs(jobs).map((j) => j.metadata!.name)).toEqual(["c", "a", "b"]);
  });

  test("the table aligns columns with three spaces and no trailing blanks", () => {
    expect(
      renderTable(
        ["NAME", "STATUS"],
        [
          ["run-1", "Running"],
          ["r", "-"],
        ],
      ),
    ).toBe("NAME    STATUS\nrun-1   Running\nr       -\n");
  });
});

describe("logs progress table", () => {
  const lines = [
    '{"event":"start","runId":"run-1","backend":"cpu"}',
    '{"epoch":1,"loss":512.5,"val_loss":400.25,"metrics":{"mae":18.2},"samplesPerSecond":900,"msPerStep":2.25,"etaSeconds":125}',
    "plain text from tfjs",
    '{"epoch":2,"loss":80.125,"val_loss":70,"metrics":{"mae":7.5},"samplesPerSecond":950,"msPerStep":2.1,"etaSeconds":3700}',
    '{"epoch":3,"loss":60,"val_loss":71,"metrics":{"mae":7},"msPerStep":2,"etaSeconds":0}',
  ];

  test("epoch lines become rows under one header; events and text pass through", () => {
    const r = new ProgressRenderer();
    expect(lines.map((l) => r.render(l)).join("")).toBe(
      [
        "[start] runId=run-1 backend=cpu",
        "EPOCH      LOSS       VAL-LOSS   MAE        MS/STEP    ETA",
        "1          512.5000   400.2500   18.2000    2.3        2m05s",
        "plain text from tfjs",
        "2          80.1250    70.0000    7.5000     2.1        1h01m",
        "3          60.0000    71.0000    7.0000     2.0        0s",
        "",
      ].join("\n"),
    );
  });

  test("best metric: lowest val_loss and its epoch; loss when there is no validation split; none without epochs", () => {
    expect(bestMetric(lines.join("\n"))).toBe("val_loss=70.0000@2");
    expect(bestMetric('{"epoch":1,"loss":3}\n{"epoch":2,"loss":2.5}\n{"epoch":3,"loss":2.75}')).toBe("loss=2.5000@2");
    expect(bestMetric("hello\n{}")).toBeUndefined();
  });
});

describe("status", () => {
  test("describes the run, its timing, GPUs, queue, spec source, conditions and pods", () => {
    const j = job("run-1", {
      gpus: 2,
      queue: "training",
      status: {
        ...cond("Complete"),
        startTime: new Date("2026-11-28T11:56:00Z"),
        completionTime: new Date("2026-11-28T11:59:30Z"),
      },
    });
    j.spec!.template.spec!.nodeSelector = { "kiln.dev/gpu-pool": "a100" };
    j.spec!.template.spec!.containers[0].env = [{ name: "KILN_RUN_SPEC", value: "{}" }];
    const pods: V1Pod[] = [
      {
        metadata: { name: "run-1-abcde", creationTimestamp: new Date("2026-11-28T11:56:00Z") },
        spec: { containers: [], nodeName: "gpu-a100-0" },
        status: { phase: "Succeeded" },
      },
    ];
    const text = describeRun(j, pods, NOW);
    expect(text).toContain("Status:    Succeeded\n");
    expect(text).toContain("Created:   2026-11-28T11:55:00.000Z (5m ago)\n");
    expect(text).toContain("Duration:  3m30s\n");
    expect(text).toContain("GPUs:      2 per pod (pool a100)\n");
    expect(text).toContain("Queue:     training\n");
    expect(text).toContain("Run spec:  inline (KILN_RUN_SPEC)\n");
    expect(text).toMatch(/Conditions:\nTYPE +STATUS +REASON +MESSAGE\nComplete +True/);
    expect(text).toMatch(/Pods:\nNAME +PHASE +NODE +AGE +TRAINER\nrun-1-abcde +Succeeded +gpu-a100-0 +4m +-\n/);
  });

  test("the trainer's end or wait per pod: OOMKilled, a bad spec's exit 2, an image pull, an eviction", () => {
    const pod = (name: string, status: V1Pod["status"]): V1Pod => ({
      metadata: { name },
      spec: { containers: [] },
      status,
    });
    const term = (reason: string, exitCode: number) => [
      {
        name: "trainer",
        image: "x",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { reason, exitCode } },
      },
    ];
    expect(podOutcome(pod("a", { phase: "Failed", containerStatuses: term("OOMKilled", 137) }))).toBe(
      "OOMKilled (exit 137)",
    );
    expect(podOutcome(pod("b", { phase: "Failed", containerStatuses: term("Error", 2) }))).toBe("Error (exit 2)");
    expect(
      podOutcome(
        pod("c", {
          phase: "Pending",
          containerStatuses: [
            {
              name: "trainer",
              image: "x",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: "ImagePullBackOff" } },
            },
          ],
        }),
      ),
    ).toBe("ImagePullBackOff");
    expect(
      podOutcome(
        pod("d", {
          phase: "Failed",
          containerStatuses: term("Error", 143),
          conditions: [{ type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI" }],
        }),
      ),
    ).toBe("Error (exit 143), disrupted: EvictionByEvictionAPI");
    expect(podOutcome(pod("e", {}))).toBe("-");
    const j = job("run-2", { status: cond("Failed") });
    expect(
      describeRun(j, [pod("run-2-x", { phase: "Failed", containerStatuses: term("OOMKilled", 137) })], NOW),
    ).toMatch(/run-2-x +Failed +<none> +\S+ +OOMKilled \(exit 137\)\n/);
  });
});
