/**
 * Scenario 3: the kubectl-kiln plugin against the real API server: submit, sweep, ls, status, cancel;
 * a sweep's Indexed Job runs all its indices (each index's pod scheduled and completed by KWOK).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureStack, harnessConfig, must, kubectlBin, jobPods, jobSucceeded, kiln, kubectl, kubectlJson, nodeLabels, POD_RUN_SECONDS, runName, waitFor, waitScheduled } from "./harness";

jest.setTimeout(10 * 60_000);

describe("kubectl kiln against the local cluster", () => {
  let ns = "";
  const submitted = runName("e2e-submit");
  const sweepName = runName("e2e-sweep").slice(0, 40);
  const cancelled = runName("e2e-cancel");

  let spec = "";

  beforeAll(async () => {
    await ensureStack();
    ns = harnessConfig().teams[0].namespace;
    // The namespace's default run spec (ConfigMap kiln-run-spec from the chart) as the user's spec file.
    const text = await must(kubectlBin(), ["get", "configmap", "kiln-run-spec", "-n", ns, "-o", "jsonpath={.data.spec\\.yaml}"]);
    expect(text).toContain("dataset");
    spec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-e2e-")), "spec.yaml");
    fs.writeFileSync(spec, text);
  });
  afterAll(async () => {
    for (const n of [submitted, sweepName, cancelled]) await kubectl(["delete", "job", n, "-n", ns, "--ignore-not-found", "--wait=false"]);
  });

  it("submit creates a queued Job from the cluster's template that runs on a GPU node and completes", async () => {
    const r = await kiln(["submit", "-n", ns, "--spec", spec, "--name", submitted]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const job = await kubectlJson(["get", "job", submitted, "-n", ns]);
    expect(job.metadata.labels["kueue.x-k8s.io/queue-name"]).toBeDefined();
    const [pod] = await waitScheduled(ns, submitted);
    expect((await nodeLabels(pod.node!))["kiln.dev/gpu-pool"]).toBeDefined();
    await waitFor(`run ${submitted} to succeed`, (POD_RUN_SECONDS + 90) * 1000, async () => (await jobSucceeded(ns, submitted)) >= 1);
  });

  it("sweep creates an Indexed Job whose every index runs and completes", async () => {
    const r = await kiln(["sweep", "-n", ns, "--spec", spec, "--name", sweepName, "--set", "training.optimizer.learningRate=0.01,0.001,0.0001", "--parallelism", "3"]);
    if (r.code !== 0) throw new Error(`kubectl kiln sweep failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const job = await kubectlJson(["get", "job", sweepName, "-n", ns]);
    expect(job.spec.completionMode).toBe("Indexed");
    expect(job.spec.completions).toBe(3);
    const done = await waitFor(`all 3 indices of ${sweepName} to complete`, (POD_RUN_SECONDS * 3 + 120) * 1000, async () => {
      const j = await kubectlJson(["get", "job", sweepName, "-n", ns]);
      return j.status?.succeeded === 3 ? j : undefined;
    });
    expect(done.status.completedIndexes).toBe("0-2");
    const indices = new Set<string>();
    const pods = await kubectlJson<{ items: any[] }>(["get", "pods", "-n", ns, "-l", `batch.kubernetes.io/job-name=${sweepName}`]);
    for (const p of pods.items) indices.add(p.metadata.annotations["batch.kubernetes.io/job-completion-index"]);
    expect([...indices].sort()).toEqual(["0", "1", "2"]);
  });

  it("ls lists the submitted run and the sweep", async () => {
    const r = await kiln(["ls", "-n", ns, "-o", "json", "--no-metrics"]);
    if (r.code !== 0) throw new Error(`kubectl kiln ls failed (${r.code}):\n${r.stderr}${r.stdout}`);
    expect(r.stdout).toContain(submitted);
    expect(r.stdout).toContain(sweepName);
    const table = await kiln(["ls", "-n", ns, "--no-metrics"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n").some((l) => l.startsWith(submitted) || l.includes(` ${submitted} `) || l.includes(submitted))).toBe(true);
  });

  it("status reports the finished run", async () => {
    const r = await kiln(["status", submitted, "-n", ns]);
    if (r.code !== 0) throw new Error(`kubectl kiln status failed (${r.code}):\n${r.stderr}${r.stdout}`);
    expect(r.stdout).toContain(submitted);
    expect(r.stdout).toMatch(/Succeeded|Complete/i);
  });

  it("cancel deletes a run's Job and its pods", async () => {
    const r = await kiln(["submit", "-n", ns, "--spec", spec, "--name", cancelled]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const c = await kiln(["cancel", cancelled, "-n", ns]);
    if (c.code !== 0) throw new Error(`kubectl kiln cancel failed (${c.code}):\n${c.stderr}${c.stdout}`);
    expect(c.stdout).toContain(cancelled);
    await waitFor(`Job ${cancelled} to be gone`, 60_000, async () => (await kubectl(["get", "job", cancelled, "-n", ns])).code !== 0);
    await waitFor(`pods of ${cancelled} to be gone`, 90_000, async () => (await jobPods(ns, cancelled)).length === 0);
    const again = await kiln(["status", cancelled, "-n", ns]);
    expect(again.code).not.toBe(0);
  });
});
