/** Runs with your own image (JobSets) in ls, status, logs --rank, cancel, usage and the dashboard (fixed clock). */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { recordConfigMap, type UsageRecord } from "../../contract/accounting/record";
import { describeJobSet } from "../../cli/src/commands/status";
import { DashboardData } from "../../cli/src/dashboard/service";
import { imageRunFromTemplate, type JobSet } from "../../cli/src/jobset";
import { logSelector } from "../../cli/src/commands/logs";
import { lsRow, runPhase, runStatus } from "../../cli/src/rows";
import { usageOfRuns } from "../../cli/src/usage";
import type { V1CronJob } from "@kubernetes/client-node";
import { renderTrainer } from "../charts/helm";
import { FakeCluster, trainingJob } from "./dashboard/fake-cluster";
import { FakeKube, FIXED_NOW, runCli } from "./support";

const NS = "kiln-ml";
let cached: V1CronJob | undefined;
/** The real chart's template (helm template), rendered once. */
const tpl = () =>
  (cached ??= renderTrainer({ queue: "training", gpus: 2 }).find("CronJob", "kiln-trainer") as unknown as V1CronJob);

/** A JobSet run as `submit --image` makes it, as the API server returns it, with `status`. */
function jobSet(
  name: string,
  status: JobSet["status"] = {},
  opts: { nodes?: number; suspend?: boolean; created?: string } = {},
): JobSet {
  const { jobSet: js } = imageRunFromTemplate(tpl(), {
    name,
    namespace: NS,
    image: "registry.example.com/ml/train:1.4.2",
    command: ["python", "train.py"],
    nodes: opts.nodes ?? 4,
    artifactsBucket: "artifacts",
  });
  js.metadata = {
    ...js.metadata,
    uid: `uid-${name}`,
    creationTimestamp: new Date(opts.created ?? "2026-11-28T11:00:00Z"),
  };
  if (opts.suspend !== undefined) js.spec.suspend = opts.suspend;
  return { ...js, status };
}
const cond = (type: string, at = "2026-11-28T11:45:00Z") => ({ type, status: "True" as const, lastTransitionTime: at });
const running = (restarts = 0) => ({
  restarts,
  replicatedJobsStatus: [{ name: "node", ready: 4, active: 4, succeeded: 0, failed: 0, suspended: 0 }],
});

/** A pod of rank `rank` in restart attempt `attempt` of JobSet run `run`. */
function rankPod(
  run: string,
  rank: number,
  attempt: number,
  opts: { phase?: string; jobUid?: string; gpus?: number; start?: string; end?: string; message?: string } = {},
): V1Pod {
  const phase = opts.phase ?? "Running";
  return {
    metadata: {
      name: `${run}-node-0-${rank}-a${attempt}`,
      namespace: NS,
      uid: `pod-${run}-${rank}-${attempt}`,
      creationTimestamp: new Date(opts.start ?? "2026-11-28T11:01:00Z"),
      labels: {
        "jobset.sigs.k8s.io/jobset-name": run,
        "jobset.sigs.k8s.io/jobset-uid": `uid-${run}`,
        "jobset.sigs.k8s.io/restart-attempt": String(attempt),
        "batch.kubernetes.io/job-completion-index": String(rank),
        "batch.kubernetes.io/job-name": `${run}-node-0`,
        "batch.kubernetes.io/controller-uid": opts.jobUid ?? `job-${run}-${attempt}`,
        "kiln.dev/run": run,
        // The template's run labels, as on every run pod.
        "app.kubernetes.io/part-of": "kiln",
        "app.kubernetes.io/component": "training-run",
      },
      annotations: { "batch.kubernetes.io/job-completion-index": String(rank) },
    },
    spec: {
      nodeName: "gpu-1",
      containers: [
        { name: "trainer", image: "x", resources: { limits: { "nvidia.com/gpu": String(opts.gpus ?? 2) } } },
      ],
    },
    status: {
      phase,
      startTime: new Date(opts.start ?? "2026-11-28T11:01:00Z"),
      conditions: [
        { type: "PodScheduled", status: "True", lastTransitionTime: new Date(opts.start ?? "2026-11-28T11:01:00Z") },
      ],
      containerStatuses: opts.end
        ? [
            {
              name: "trainer",
              image: "x",
              imageID: "",
              ready: false,
              restartCount: 0,
              state: {
                terminated: {
                  exitCode: phase === "Failed" ? 143 : 0,
                  finishedAt: new Date(opts.end),
                  ...(opts.message ? { message: opts.message } : {}),
                },
              },
            },
          ]
        : [],
    },
  };
}

describe("rows of JobSet runs", () => {
  test.each<[string, JobSet, string]>([
    ["Completed -> Succeeded", jobSet("a", { conditions: [cond("Completed")] }), "Succeeded"],
    ["Failed -> Failed", jobSet("a", { conditions: [cond("Failed")] }), "Failed"],
    ["suspended with a queue -> Queued", jobSet("a", { conditions: [cond("Suspended")] }), "Queued"],
    ["active Jobs -> Running", jobSet("a", running(), { suspend: false }), "Running"],
    ["admitted, nothing active yet -> Pending", jobSet("a", {}, { suspend: false }), "Pending"],
  ])("%s", (_what, js, phase) => {
    expect(runPhase(js)).toBe(phase);
  });

  test("ls: total GPUs with nodes x GPUs per node, restarts in the status", () => {
    const js = jobSet("llm-7", running(2), { suspend: false });
    expect(runStatus(js)).toBe("Running (2 restarts)");
    expect(lsRow(js, FIXED_NOW, undefined, false)).toEqual([
      "llm-7",
      "Running (2 restarts)",
      "60m",
      "8 (4 nodes x 2)",
      "training",
      "-",
      "-",
      "-",
    ]);
    expect(lsRow(jobSet("solo", running(1), { nodes: 1, suspend: false }), FIXED_NOW, undefined, true)).toEqual([
      NS,
      "solo",
      "Running (1 restart)",
      "60m",
      "2",
      "training",
      "-",
      "-",
      "-",
    ]);
  });

  test("status: nodes, GPUs per node and total, restarts, topology, image and command, pods by attempt and rank", () => {
    const js = jobSet(
      "llm-7",
      {
        ...running(1),
        restartsCountTowardsMax: 0,
        conditions: [
          {
            type: "StartupPolicyCompleted",
            status: "True",
            reason: "AllReplicatedJobsStarted",
            message: "all replicated jobs have started",
          },
        ],
      },
      { suspend: false },
    );
    const pods = [
      rankPod("llm-7", 1, 1),
      rankPod("llm-7", 0, 0, { phase: "Failed", end: "2026-11-28T11:20:00Z" }),
      rankPod("llm-7", 0, 1),
    ];
    const text = describeJobSet(js, pods, FIXED_NOW);
    expect(text).toMatch(/^Name: +llm-7$/m);
    expect(text).toMatch(/^Kind: +JobSet \(your image\)$/m);
    expect(text).toMatch(/^Status: +Running \(1 restart\)$/m);
    expect(text).toMatch(/^Duration: +60m$/m);
    expect(text).toMatch(/^Nodes: +4$/m);
    expect(text).toMatch(/^GPUs: +2 per node x 4 = 8$/m);
    expect(text).toMatch(/^Restarts: +1 \(0 of at most 3 after failures; disruptions do not count\)$/m);
    expect(text).toMatch(/^Image: +registry.example.com\/ml\/train:1.4.2$/m);
    expect(text).toMatch(/^Command: +python train.py$/m);
    const podLines = text.split("Pods:\n")[1].trim().split("\n");
    expect(podLines[0]).toMatch(/^NAME +RANK +ATTEMPT +PHASE +NODE +AGE +CONTAINER$/);
    expect(podLines.slice(1).map((l) => l.split(/ +/).slice(1, 4))).toEqual([
      ["0", "1", "Running"],
      ["1", "1", "Running"],
      ["0", "0", "Failed"],
    ]);
  });

  test("logs: --rank picks the rank in the current attempt; --index is refused on a JobSet, --rank on a trainer Job", () => {
    const js = jobSet("llm-7", running(3));
    expect(logSelector(js, {})).toBe(
      "jobset.sigs.k8s.io/jobset-name=llm-7,jobset.sigs.k8s.io/restart-attempt=3,batch.kubernetes.io/job-completion-index=0",
    );
    expect(logSelector(js, { rank: 2 })).toMatch(/restart-attempt=3,batch.kubernetes.io\/job-completion-index=2$/);
    expect(() => logSelector(js, { rank: 4 })).toThrow("--rank 4: run llm-7 has ranks 0..3");
    expect(() => logSelector(js, { index: 1 })).toThrow(/--index is for sweeps/);
    const job = trainingJob({ ns: NS, name: "mpg", phase: "Running", created: "2026-11-28T11:00:00Z" });
    expect(() => logSelector(job, { rank: 0 })).toThrow(/--rank is for runs with your own image/);
    expect(logSelector(job, {})).toBe("batch.kubernetes.io/job-name=mpg");
  });
});

/** A usage record of one child Job (one restart attempt) of a JobSet run. */
function record(
  job: string,
  uid: string,
  gpus: number,
  start: string,
  end: string | null,
  runUid = "uid-llm-7",
): UsageRecord {
  return {
    version: 1,
    job,
    uid,
    run: "llm-7",
    runUid,
    namespace: NS,
    team: "ml",
    region: "us-east-1",
    created: start,
    spans: [0, 1].map((rank) => ({
      uid: `${uid}-${rank}`,
      name: `${job}-${rank}`,
      node: `n${rank}`,
      pool: "a10g",
      instanceType: "g5.12xlarge",
      capacityType: "on-demand",
      gpus,
      start,
      end,
      simulated: false,
    })),
    updated: end ?? FIXED_NOW.toISOString(),
    usage: { gpuHours: 0, usd: 0, kWh: 0, co2eKg: 0, pool: null, instanceType: null, capacityType: null, basis: [] },
  };
}

describe("usage of a JobSet run", () => {
  test("sums every pod over both restart attempts' records (by the JobSet's UID), plus live pods not recorded yet", async () => {
    const api = new FakeKube();
    api.namespaces.add(NS);
    const put = (r: UsageRecord) => api.configMaps.set(`${NS}/${r.job}-${r.uid}`, recordConfigMap(r));
    // Attempt 0: 2 nodes x 2 GPUs x 1 h = 4; attempt 1: 2 x 2 x 0.5 h = 2. A same-named earlier run does not count.
    put(record("llm-7-node-0", "job-a0", 2, "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z"));
    put(record("llm-7-node-0", "job-a1", 2, "2026-11-28T11:00:00Z", "2026-11-28T11:30:00Z"));
    put(record("llm-7-node-0", "job-old", 2, "2026-11-20T10:00:00Z", "2026-11-20T20:00:00Z", "uid-an-older-llm-7"));
    const js = jobSet("llm-7", running(2), { nodes: 2 });
    // Attempt 2 started 15 minutes ago and has no record yet: its 2 pods x 2 GPUs count from the live pods.
    api.pods.push(
      ...[0, 1].map((rank) => rankPod("llm-7", rank, 2, { jobUid: "job-a2", start: "2026-11-28T11:45:00Z" })),
    );
    const u = (await usageOfRuns(api, [js], FIXED_NOW)).get(`${NS}/llm-7`)!;
    expect(u.gpuHours).toBeCloseTo(4 + 2 + 1, 6);
    expect(u.basis).toContain("2 pod(s) of an attempt not recorded yet: counted from live pods, not priced");
  });

  test("no record at all: the live pods, not priced", async () => {
    const api = new FakeKube();
    api.pods.push(rankPod("llm-7", 0, 0, { start: "2026-11-28T11:00:00Z" }));
    const u = (await usageOfRuns(api, [jobSet("llm-7", running(), { nodes: 1 })], FIXED_NOW)).get(`${NS}/llm-7`)!;
    expect(u.gpuHours).toBeCloseTo(2, 6);
    expect(u.usd).toBeNull();
    expect(u.basis[0]).toMatch(/no usage record/);
  });

  test("`usage` counts a JobSet run once, however many attempts it had", async () => {
    const api = new FakeKube();
    api.namespaces.add(NS);
    for (const r of [
      record("llm-7-node-0", "job-a0", 2, "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z"),
      record("llm-7-node-0", "job-a1", 2, "2026-11-28T11:00:00Z", "2026-11-28T11:30:00Z"),
    ])
      api.configMaps.set(`${NS}/${r.uid}`, recordConfigMap({ ...r, final: true }));
    const r = await runCli(["usage", "-n", NS, "-o", "json"], { api });
    expect(r.code).toBe(0);
    const teams = JSON.parse(r.stdout).teams;
    expect(teams).toEqual([expect.objectContaining({ team: "ml", runs: 1, gpuHours: 6 })]);
  });
});

describe("the verbs on JobSet runs", () => {
  const cluster = () => {
    const api = new FakeCluster();
    api.namespaces.add(NS);
    const js = jobSet("llm-7", { ...running(1), conditions: [cond("Completed")] }, { suspend: false });
    api.jobSets.set(`${NS}/llm-7`, js);
    // JobSet's child Job carries the template's run labels: it must not show as a run of its own.
    const child: V1Job = {
      metadata: {
        name: "llm-7-node-0",
        namespace: NS,
        uid: "job-child",
        creationTimestamp: new Date("2026-11-28T11:00:00Z"),
        labels: { ...js.spec.replicatedJobs[0].template.metadata!.labels!, "jobset.sigs.k8s.io/jobset-name": "llm-7" },
      },
      spec: js.spec.replicatedJobs[0].template.spec,
    };
    api.jobs.set(`${NS}/llm-7-node-0`, child);
    api.jobs.set(
      `${NS}/mpg`,
      trainingJob({ ns: NS, name: "mpg", phase: "Succeeded", created: "2026-11-28T10:00:00Z" }),
    );
    // Rank 0 wrote its best epoch line as its termination message; rank 1 (the image's other ranks) none.
    const best = '{"epoch":2,"loss":0.5,"val_loss":0.6}\n';
    api.pods.push(
      rankPod("llm-7", 0, 1, { phase: "Succeeded", end: "2026-11-28T11:40:00Z", message: best }),
      rankPod("llm-7", 1, 1, { phase: "Succeeded", end: "2026-11-28T11:40:00Z" }),
    );
    api.logs.set(
      `${NS}/${api.pods[0].metadata!.name}`,
      '{"epoch":1,"loss":0.9}\n{"epoch":2,"loss":0.5,"val_loss":0.6}\n',
    );
    api.logs.set(`${NS}/${api.pods[1].metadata!.name}`, "rank 1 says hello\n");
    return api;
  };

  test("ls lists the JobSet once (not its child Job), next to trainer runs, with rank 0's best metric", async () => {
    const r = await runCli(["ls", "-n", NS], { api: cluster() });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/ +/)[0])).toEqual(["NAME", "llm-7", "mpg"]);
    expect(lines[1]).toMatch(
      /^llm-7 +Succeeded \(1 restart\) +60m +8 \(4 nodes x 2\) +training +2\.60 +\? +val_loss=0\.6000@2$/,
    );
    const json = JSON.parse((await runCli(["ls", "-n", NS, "-o", "json"], { api: cluster() })).stdout).runs[0];
    expect(json).toMatchObject({
      name: "llm-7",
      kind: "JobSet",
      nodes: 4,
      gpus: 2,
      totalGpus: 8,
      restarts: 1,
      status: "Succeeded (1 restart)",
    });
  });

  test("ls on a cluster without JobSet still lists trainer runs", async () => {
    const api = cluster();
    api.noJobSetApi = true;
    const r = await runCli(["ls", "-n", NS, "--no-metrics"], { api });
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/ +/)[0]),
    ).toEqual(["NAME", "mpg"]);
  });

  test("status RUN finds the JobSet; logs RUN reads rank 0, --rank 1 reads rank 1", async () => {
    const api = cluster();
    let r = await runCli(["status", "llm-7", "-n", NS], { api });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Kind: +JobSet/);
    r = await runCli(["logs", "llm-7", "-n", NS, "--raw"], { api });
    expect([r.code, r.stdout]).toEqual([0, '{"epoch":1,"loss":0.9}\n{"epoch":2,"loss":0.5,"val_loss":0.6}\n']);
    r = await runCli(["logs", "llm-7", "--rank", "1", "-n", NS], { api });
    expect([r.code, r.stdout]).toEqual([0, "rank 1 says hello\n"]);
    r = await runCli(["logs", "llm-7", "--rank", "9", "-n", NS], { api });
    expect([r.code, r.stderr]).toEqual([2, "error: --rank 9: run llm-7 has ranks 0..3\n"]);
  });

  test("cancel deletes the JobSet (a trainer run's Job as before)", async () => {
    const api = cluster();
    let r = await runCli(["cancel", "llm-7", "-n", NS], { api });
    expect([r.code, r.stdout]).toEqual([0, "jobset.jobset.x-k8s.io/llm-7 deleted\n"]);
    expect(api.jobSets.size).toBe(0);
    r = await runCli(["cancel", "mpg", "-n", NS], { api });
    expect([r.code, r.stdout]).toEqual([0, "job.batch/mpg deleted\n"]);
    r = await runCli(["cancel", "nope", "-n", NS], { api });
    expect([r.code, r.stderr]).toEqual([
      1,
      `error: cancelling run nope in namespace ${NS}: no run nope in namespace ${NS} (kubectl kiln ls -n ${NS})\n`,
    ]);
  });

  test("the dashboard lists the JobSet run once with nodes and restarts, joins its Workload, and draws rank 0's curve", async () => {
    const api = cluster();
    api.workloads.push({
      metadata: {
        name: "jobset-llm-7-abcde",
        namespace: NS,
        ownerReferences: [{ kind: "JobSet", name: "llm-7", uid: "uid-llm-7" }],
      },
      spec: { queueName: "training", podSets: [{ name: "node", count: 4 }] },
      status: {
        conditions: [{ type: "Admitted", status: "True" }],
        admission: {
          clusterQueue: "kiln-ml",
          podSetAssignments: [{ name: "node", flavors: { "nvidia.com/gpu": "a10g" }, count: 4 }],
        },
      },
    });
    const data = new DashboardData({ api, accounting: null, artifacts: null, now: () => FIXED_NOW });
    const page = await data.runs({}, 1, 50);
    expect(page.page.items.map((r) => r.name)).toEqual(["llm-7", "mpg"]);
    expect(page.page.items[0]).toMatchObject({
      kind: "JobSet",
      nodes: 4,
      gpus: 2,
      restarts: 1,
      phase: "Succeeded",
      clusterQueue: "kiln-ml",
      pool: "a10g",
      bestMetric: "val_loss=0.6000@2",
    });
    const detail = await data.run(NS, "llm-7");
    expect(detail.workload?.metadata.name).toBe("jobset-llm-7-abcde");
    expect(detail.curve.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect((await data.curve(NS, "llm-7", 1)).curve.epochs).toEqual([]);
    await expect(data.run(NS, "llm-7", 4)).rejects.toThrow("run llm-7 has ranks 0..3");
    await expect(data.run(NS, "llm-7-node-0")).rejects.toThrow(
      "Job llm-7-node-0 is one attempt of run llm-7 (a JobSet), not a run: use llm-7",
    );
  });
});

describe("the store of a JobSet run (dashboard outputs)", () => {
  test("is its KILN_OUTPUT_URI, with the object store env resolved like the pod's", async () => {
    const { runOutputs } = await import("../../cli/src/dashboard/artifacts");
    const api = new FakeKube();
    api.installChart(NS, {
      objectStore: {
        endpoint: "http://minio.kiln-system:9000",
        region: "us-east-1",
        credentialsSecret: "kiln-object-store",
      },
    });
    api.secrets.set(`${NS}/kiln-object-store`, {
      metadata: { name: "kiln-object-store" },
      data: {
        AWS_ACCESS_KEY_ID: Buffer.from("ak").toString("base64"),
        AWS_SECRET_ACCESS_KEY: Buffer.from("sk").toString("base64"),
      },
    });
    const template = (await api.getCronJob(NS, "kiln-trainer")) as V1CronJob;
    const { jobSet: js } = imageRunFromTemplate(template, {
      name: "llm-7",
      namespace: NS,
      image: "ml/train:1.0",
      command: ["train"],
      nodes: 2,
      artifactsBucket: "artifacts",
    });
    const out = await runOutputs(api, { ...js, status: { restarts: 2 } }, 1);
    expect(out.uri).toBe("s3://artifacts/runs/llm-7");
    expect(out.env).toMatchObject({
      AWS_ENDPOINT_URL_S3: "http://minio.kiln-system:9000",
      AWS_ACCESS_KEY_ID: "ak",
      KILN_RESTART_ATTEMPT: "2",
      KILN_RUN_ID: "llm-7",
    });
  });
});
