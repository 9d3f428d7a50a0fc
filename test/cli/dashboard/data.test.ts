/** The dashboard's pure pieces: wait reasons and queue order from Kueue objects, quantities, curves, outputs in a store. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runOutputs, StoreArtifacts } from "../../../cli/src/dashboard/artifacts";
import { curveOf } from "../../../cli/src/dashboard/epochs";
import { formatQuantity, parseQuantity } from "../../../cli/src/dashboard/quantity";
import { podOf } from "./fake-cluster";
import { podWait, poolOf, queuePositions, runRows, waitReason } from "../../../cli/src/dashboard/runs";
import { runPhase } from "../../../cli/src/rows";
import { apiError } from "../support";
import { clusterQueue, FakeCluster, localQueue, trainerLog, trainingJob, workloadFor } from "./fake-cluster";

const NS = "kiln-vision";
const queued = (name: string, created: string) =>
  trainingJob({ ns: NS, name, phase: "Queued", created, queue: "training" });

describe("why a run waits", () => {
  const job = queued("q", "2026-11-28T10:00:00Z");
  const lq = localQueue(NS, "training", "kiln-vision");
  const cq = clusterQueue("kiln-vision", { pool: "a10g", nominal: 4, used: 4 });

  test("the Workload's QuotaReserved=False message", () => {
    const w = workloadFor(job, {
      clusterQueue: "kiln-vision",
      waiting: "insufficient unused quota for nvidia.com/gpu in flavor a10g, 2 more needed",
    });
    expect(waitReason(job, "Queued", w, lq, cq)).toBe(
      "insufficient unused quota for nvidia.com/gpu in flavor a10g, 2 more needed",
    );
  });

  test("a held ClusterQueue (a spent budget) wins over the quota message", () => {
    const held = clusterQueue("kiln-vision", { pool: "a10g", nominal: 4, used: 0, stopPolicy: "Hold" });
    expect(waitReason(job, "Queued", workloadFor(job, { clusterQueue: "kiln-vision" }), lq, held)).toBe(
      "ClusterQueue kiln-vision is held (stopPolicy Hold)",
    );
    // The accountant says why on the ClusterQueue it holds.
    held.metadata.annotations = { "kiln.dev/budget-hold": "team vision spent 41.5 of its 40 GPU-hours for 2026-12" };
    expect(waitReason(job, "Queued", workloadFor(job, { clusterQueue: "kiln-vision" }), lq, held)).toBe(
      "team budget: team vision spent 41.5 of its 40 GPU-hours for 2026-12",
    );
  });

  test("a missing LocalQueue, a missing Workload, an eviction, pending admission checks", () => {
    expect(waitReason(job, "Queued", undefined, undefined, undefined)).toBe(
      "LocalQueue training does not exist in namespace kiln-vision",
    );
    expect(waitReason(job, "Queued", undefined, lq, cq)).toBe("no Kueue Workload yet (is Kueue running?)");
    const evicted = workloadFor(job, { clusterQueue: "kiln-vision" });
    evicted.status!.conditions!.push({
      type: "Evicted",
      status: "True",
      reason: "Preempted",
      message: "Preempted to accommodate a higher priority Workload",
    });
    expect(waitReason(job, "Queued", evicted, lq, cq)).toBe(
      "evicted: Preempted to accommodate a higher priority Workload",
    );
    const checks = workloadFor(job, { clusterQueue: "kiln-vision", admitted: true });
    checks.status!.conditions = [{ type: "QuotaReserved", status: "True" }];
    expect(waitReason(job, "Queued", checks, lq, cq)).toBe("quota reserved, waiting for admission checks");
  });

  test("running and finished runs do not wait; a suspended Job without a queue says why it never starts", () => {
    expect(waitReason(job, "Running", undefined, lq, cq)).toBeNull();
    expect(waitReason(job, "Succeeded", undefined, lq, cq)).toBeNull();
    const bare = trainingJob({ ns: NS, name: "bare", phase: "Queued", created: "2026-11-28T10:00:00Z" });
    expect(runPhase(bare)).toBe("Suspended");
    expect(waitReason(bare, "Suspended", undefined, undefined, undefined)).toBe(
      "suspended, and no Kueue queue label to start it",
    );
  });
});

describe("why an admitted run's pod has not started", () => {
  const job = trainingJob({ ns: NS, name: "p", phase: "Running", created: "2026-11-28T10:00:00Z" });
  test("the scheduler's message, else the container's waiting reason; nothing once it runs", () => {
    const pod = podOf(job, { phase: "Pending" });
    pod.status!.conditions = [
      {
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
      },
    ];
    expect(podWait([pod])).toBe("pod p-0-xaa not scheduled: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.");
    pod.status!.conditions = [{ type: "PodScheduled", status: "True" }];
    pod.status!.containerStatuses = [
      {
        name: "trainer",
        image: "x",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } },
      },
    ];
    expect(podWait([pod])).toBe("pod p-0-xaa: ImagePullBackOff: Back-off pulling image");
    expect(podWait([podOf(job, { phase: "Running" })])).toBeNull();
    expect(podWait([])).toBeNull();
  });
});

describe("queue position", () => {
  test("per ClusterQueue: higher priority first, then older; admitted workloads have no place", () => {
    const jobs = [
      queued("a", "2026-11-28T10:00:00Z"),
      queued("b", "2026-11-28T10:01:00Z"),
      queued("c", "2026-11-28T10:02:00Z"),
      queued("d", "2026-11-28T09:00:00Z"),
    ];
    const ws = [
      workloadFor(jobs[0], { clusterQueue: "kiln-vision" }),
      workloadFor(jobs[1], { clusterQueue: "kiln-vision" }),
      workloadFor(jobs[2], { clusterQueue: "kiln-vision", priority: 10 }),
      workloadFor(jobs[3], { clusterQueue: "kiln-vision", admitted: true }),
    ];
    const pos = queuePositions(ws, () => "kiln-vision");
    expect([...pos.entries()]).toEqual([
      [`${NS}/job-c-abcde`, 1],
      [`${NS}/job-a-abcde`, 2],
      [`${NS}/job-b-abcde`, 3],
    ]);
    const rows = runRows(jobs, {
      workloads: ws,
      localQueues: [localQueue(NS, "training", "kiln-vision")],
      clusterQueues: [],
    });
    expect(rows.map((r) => [r.name, r.position, r.clusterQueue])).toEqual([
      ["c", 1, "kiln-vision"],
      ["b", 3, "kiln-vision"],
      ["a", 2, "kiln-vision"],
      ["d", null, "kiln-vision"],
    ]);
  });

  test("a Workload is matched to its Job by owner uid, so a re-created Job of the same name does not inherit it", () => {
    const old = queued("same", "2026-11-28T10:00:00Z");
    const fresh = queued("same", "2026-11-28T11:00:00Z");
    const w = workloadFor(old, { clusterQueue: "kiln-vision", admitted: true, flavor: "h100" });
    expect(poolOf(fresh, undefined)).toBeNull();
    expect(runRows([fresh], { workloads: [w], localQueues: [], clusterQueues: [] })[0].pool).toBeNull();
    expect(runRows([old], { workloads: [w], localQueues: [], clusterQueues: [] })[0].pool).toBe("h100");
  });
});

describe("quantities", () => {
  test.each<[string | number | undefined, number]>([
    ["16", 16],
    [8, 8],
    ["500m", 0.5],
    ["64Gi", 64 * 2 ** 30],
    ["1.5k", 1500],
    ["1e3", 1000],
    [undefined, 0],
  ])("%j = %d", (q, n) => expect(parseQuantity(q)).toBe(n));
  test("text that is no quantity is NaN, shown as ?", () => {
    expect(parseQuantity("lots")).toBeNaN();
    expect(formatQuantity("cpu", NaN)).toBe("?");
    expect(formatQuantity("memory", 12 * 2 ** 30)).toBe("12Gi");
  });
});

describe("curves from trainer logs", () => {
  test("epoch lines in order, metric names, done, a restarted container's repeated epoch counted once", () => {
    const log =
      trainerLog(3) +
      JSON.stringify({ epoch: 3, loss: 0.5 }) +
      "\nplain text\n" +
      JSON.stringify({ event: "done" }) +
      "\n";
    const c = curveOf(log);
    expect(c.epochs.map((e) => [e.epoch, e.loss])).toEqual([
      [1, 9],
      [2, 8.1],
      [3, 0.5],
    ]);
    expect(c.metrics).toEqual(["mae"]);
    expect(c.done).toBe(true);
    expect(c.error).toBeNull();
  });
  test("the trainer's failure line", () => {
    expect(curveOf(`${trainerLog(1)}kiln-trainer: diverged: training diverged at epoch 2: loss is NaN\n`).error).toBe(
      "diverged: training diverged at epoch 2: loss is NaN",
    );
  });
});

describe("a run's outputs in the store", () => {
  test("found from the pod's env and run spec as the trainer finds them (output.uri + run id, sweep suffix), read with the trainer's store", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-dash-store-"));
    const job = trainingJob({
      ns: NS,
      name: "lr",
      phase: "Succeeded",
      created: "2026-11-28T10:00:00Z",
      completions: 2,
    });
    const c = job.spec!.template.spec!.containers[0];
    c.env = [
      { name: "KILN_RUN_SPEC", valueFrom: { configMapKeyRef: { name: "kiln-run-spec", key: "spec.yaml" } } },
      {
        name: "KILN_RUN_ID",
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
      },
      {
        name: "KILN_SWEEP_OVERRIDES",
        value: JSON.stringify([{ "training.batchSize": 16 }, { "training.batchSize": 32 }]),
      },
      { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: "store", key: "AWS_SECRET_ACCESS_KEY" } } },
    ];
    const k = new FakeCluster();
    k.configMaps.set(`${NS}/kiln-run-spec`, {
      data: { "spec.yaml": `dataset: {uri: s3://d/x.csv, target: y}\ntask: regression\noutput: {uri: ${root}}\n` },
    });
    k.secrets.set(`${NS}/store`, { data: { AWS_SECRET_ACCESS_KEY: Buffer.from("s3cr3t").toString("base64") } });
    const out = await runOutputs(k, job, 1);
    expect(out.uri).toBe(`${root}/lr-1`);
    expect(out.env.AWS_SECRET_ACCESS_KEY).toBe("s3cr3t");
    fs.mkdirSync(path.join(root, "lr-1"));
    fs.writeFileSync(path.join(root, "lr-1", "run.json"), JSON.stringify({ status: "succeeded" }));
    const store = await new StoreArtifacts(k).open(job, 1);
    expect(JSON.parse((await store.get("run.json"))!.toString())).toEqual({ status: "succeeded" });
    expect(await store.get("metrics.json")).toBeUndefined();
  });

  test("a Secret the user may not read is named in the reason the outputs cannot be shown", async () => {
    const job = trainingJob({ ns: NS, name: "lr", phase: "Succeeded", created: "2026-11-28T10:00:00Z" });
    job.spec!.template.spec!.containers[0].env!.push({
      name: "AWS_ACCESS_KEY_ID",
      valueFrom: { secretKeyRef: { name: "store", key: "AWS_ACCESS_KEY_ID" } },
    });
    const k = new FakeCluster();
    k.failNext = apiError(403, 'secrets "store" is forbidden: User "dev" cannot get resource "secrets"', "Forbidden");
    await expect(runOutputs(k, job, undefined)).rejects.toThrow(
      'reading Secret store for the run\'s store settings: forbidden (403): secrets "store" is forbidden',
    );
  });
});
