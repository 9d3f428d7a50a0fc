/**
 * `ls` at scale: the requests it makes do not grow with the number of runs (issue 24: one pod list and one
 * log read per finished run took minutes at 10,000 runs), and the best metric comes from the pods'
 * termination messages.
 */
import { BUDGET_STATUS_KEY, BUDGET_STATUS_NAME } from "../../contract/accounting/keys";
import { budgetStatus, periodOf } from "../../contract/accounting/budget";
import { newestPodOfRuns } from "../../cli/src/runs";
import { FIXED_NOW, runCli } from "./support";
import { FakeCluster, podOf, trainerMessage, trainingJob, type FakePhase } from "./dashboard/fake-cluster";

const NAMESPACES = ["kiln-research", "kiln-vision", "kiln-nlp"];
const PHASES: FakePhase[] = ["Succeeded", "Succeeded", "Failed", "Running", "Queued"];

/** `n` runs over three namespaces; every started run has a pod, a finished one its termination message. */
function cluster(n: number): FakeCluster {
  const k = new FakeCluster();
  for (const ns of NAMESPACES) k.namespaces.add(ns);
  for (let i = 0; i < n; i++) {
    const ns = NAMESPACES[i % NAMESPACES.length];
    const phase = PHASES[i % PHASES.length];
    const created = new Date(Date.parse("2026-11-01T00:00:00Z") + i * 60_000).toISOString();
    const job = trainingJob({ ns, name: `run-${String(i).padStart(5, "0")}`, phase, created, queue: "training" });
    k.jobs.set(`${ns}/${job.metadata!.name}`, job);
    if (phase === "Queued") continue;
    const ended = phase === "Succeeded" || phase === "Failed";
    k.pods.push(podOf(job, { phase, ...(ended ? { message: trainerMessage(3 + (i % 5)) } : {}) }));
  }
  const held = budgetStatus("research", { unit: "gpuHours", limit: 1 }, periodOf(FIXED_NOW), {
    gpuHours: 2,
    usd: 1,
    kWh: 1,
    co2eKg: 1,
  });
  k.configMaps.set(`kiln-research/${BUDGET_STATUS_NAME}`, {
    metadata: { name: BUDGET_STATUS_NAME, namespace: "kiln-research" },
    data: { [BUDGET_STATUS_KEY]: JSON.stringify(held) },
  });
  return k;
}

async function requests(n: number, args: string[]): Promise<string[]> {
  const k = cluster(n);
  const r = await runCli(["ls", ...args], { api: k });
  expect(r.code).toBe(0);
  return k.calls;
}

describe("ls makes a fixed number of requests, however many runs", () => {
  test("ls -A: Jobs, JobSets, one pod list, usage records and budgets, each listed once for every namespace", async () => {
    const calls = await requests(1000, ["-A"]);
    expect(calls).toEqual([
      "listJobs * app.kubernetes.io/part-of=kiln,app.kubernetes.io/component=training-run,!jobset.sigs.k8s.io/jobset-name",
      "listJobSets * app.kubernetes.io/part-of=kiln,app.kubernetes.io/component=training-run",
      "listPods * app.kubernetes.io/part-of=kiln,app.kubernetes.io/component=training-run",
      "listConfigMaps * kiln.dev/usage=run",
      `listConfigMaps *  metadata.name=${BUDGET_STATUS_NAME}`,
    ]);
    expect(await requests(10, ["-A"])).toEqual(calls);
  });

  test("ls -n: the same lists in one namespace, and one read of its budget", async () => {
    const calls = await requests(1000, ["-n", "kiln-vision"]);
    expect(calls).toHaveLength(5);
    expect(calls.every((c) => c.includes(" kiln-vision"))).toBe(true);
    expect(calls[4]).toBe(`getConfigMap kiln-vision/${BUDGET_STATUS_NAME}`);
    expect(await requests(10, ["-n", "kiln-vision"])).toEqual(calls);
  });

  test("the budgets of every namespace come from that one list: a held team's note and Queued (budget)", async () => {
    const r = await runCli(["ls", "-A"], { api: cluster(10) });
    expect(r.stderr).toMatch(/^note: .*research/);
    expect(r.stdout).toMatch(/\nkiln-research +run-\d+ +Queued \(budget\)/);
  });

  test("--no-metrics lists no pods when every run has a usage record", async () => {
    const k = cluster(0);
    const job = trainingJob({ ns: "kiln-nlp", name: "done", phase: "Succeeded", created: "2026-11-28T10:00:00Z" });
    k.jobs.set("kiln-nlp/done", job);
    k.configMaps.set("kiln-nlp/kiln-usage-done", {
      metadata: { labels: { "kiln.dev/usage": "run", "kiln.dev/job-uid": job.metadata!.uid! } },
      data: {},
    });
    const r = await runCli(["ls", "-A", "--no-metrics"], { api: k });
    expect(r.code).toBe(0);
    expect(k.calls.filter((c) => c.startsWith("listPods"))).toEqual([]);
  });
});

/** The best metric of trainerLog(epochs): its last epoch's val_loss. */
const bestOf = (epochs: number) => `val_loss=${(+(10 * 0.9 ** epochs * 1.1).toFixed(4)).toFixed(4)}@${epochs}`;

describe("the best metric of ls", () => {
  test("is each succeeded run's newest pod's termination message; running, failed and message-less runs show -", async () => {
    const k = cluster(10);
    // run-00001 (Succeeded): its pod is gone.
    k.pods.splice(
      k.pods.findIndex((p) => p.metadata!.name!.startsWith("run-00001-")),
      1,
    );
    const r = await runCli(["ls", "-A", "-o", "json"], { api: k });
    const best = Object.fromEntries(
      (JSON.parse(r.stdout).runs as { name: string; bestMetric: string | null }[]).map((x) => [x.name, x.bestMetric]),
    );
    expect(best).toMatchObject({
      "run-00000": bestOf(3),
      "run-00001": null,
      "run-00002": null, // Failed
      "run-00003": null, // Running
      "run-00004": null, // Queued
      "run-00006": bestOf(4),
    });
    expect(k.calls.filter((c) => c.startsWith("readLog"))).toEqual([]);
  });

  test("a run's newest pod is picked by creation time, in the run's own namespace", () => {
    const job = trainingJob({ ns: "a", name: "r", phase: "Succeeded", created: "2026-11-28T10:00:00Z" });
    const older = podOf(job, { created: "2026-11-28T10:01:00Z", message: "old" });
    const newer = podOf(job, { created: "2026-11-28T10:05:00Z", message: "new" });
    const other = podOf(trainingJob({ ns: "b", name: "r", phase: "Succeeded", created: "2026-11-28T10:00:00Z" }), {
      created: "2026-11-28T10:09:00Z",
    });
    expect(newestPodOfRuns([job], [older, newer, other]).get("a/r")).toBe(newer);
  });
});
