/**
 * Scenario 3: the kubectl-kiln plugin against the real API server: submit, sweep, ls, status, cancel.
 * Runs land on the real node and train: a submitted run completes with its artifacts in the store; a
 * sweep's Indexed Job (parallelism 2) runs every index to completion, each writing <name>-<index>.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import YAML from "yaml";
import { GPU_POOL_LABEL } from "../../contract/gpu";
import { REAL_NODE_LABEL } from "../../scripts/cluster/real-node";
import {
  ensureStack,
  harnessConfig,
  must,
  kubectlBin,
  jobPods,
  jobSucceeded,
  kiln,
  kubectl,
  kubectlJson,
  nodeLabels,
  runName,
  storeClient,
  waitFor,
  waitScheduled,
} from "./harness";

jest.setTimeout(10 * 60_000);

describe("kubectl kiln against the local cluster", () => {
  let ns = "";
  const submitted = runName("e2e-submit");
  const sweepName = runName("e2e-sweep").slice(0, 40);
  const cancelled = runName("e2e-cancel");

  let spec = "";
  let s3: S3Client;
  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: "artifacts", Prefix: prefix }))).Contents ?? []).map(
      (o) => o.Key!,
    );

  beforeAll(async () => {
    const store = await ensureStack();
    s3 = storeClient(store);
    ns = harnessConfig().teams[0].namespace;
    // The namespace's default run spec (ConfigMap kiln-run-spec from the chart) as the user's spec file,
    // with fewer epochs: these runs really train.
    const text = await must(kubectlBin(), [
      "get",
      "configmap",
      "kiln-run-spec",
      "-n",
      ns,
      "-o",
      "jsonpath={.data.spec\\.yaml}",
    ]);
    const doc = YAML.parse(text);
    expect(doc.dataset.uri).toMatch(/^s3:\/\/[^/]+\/auto-mpg\/auto-mpg\.csv$/);
    doc.training = { ...doc.training, epochs: 15 };
    spec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-e2e-")), "spec.yaml");
    fs.writeFileSync(spec, YAML.stringify(doc));
  });
  afterAll(async () => {
    for (const n of [submitted, sweepName, cancelled])
      await kubectl(["delete", "job", n, "-n", ns, "--ignore-not-found", "--wait=false"]);
    s3?.destroy();
  });

  it("submit creates a queued Job from the cluster's template that trains on the real GPU node, completes and writes its artifacts", async () => {
    const r = await kiln(["submit", "-n", ns, "--spec", spec, "--name", submitted]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const job = await kubectlJson(["get", "job", submitted, "-n", ns]);
    expect(job.metadata.labels["kueue.x-k8s.io/queue-name"]).toBeDefined();
    const [pod] = await waitScheduled(ns, submitted);
    const labels = await nodeLabels(pod.node!);
    expect(harnessConfig().gpuPools.map((p) => p.name)).toContain(labels[GPU_POOL_LABEL]);
    expect(labels[REAL_NODE_LABEL]).toBe("real");
    await waitFor(`run ${submitted} to succeed`, 600_000, async () => (await jobSucceeded(ns, submitted)) >= 1, 2000);
    expect(await keysUnder(`runs/${submitted}/`)).toEqual(
      expect.arrayContaining([
        `runs/${submitted}/model/weights.bin`,
        `runs/${submitted}/metrics.json`,
        `runs/${submitted}/report.html`,
      ]),
    );
  });

  it("sweep creates an Indexed Job (parallelism 2) whose every index trains on the real node and completes", async () => {
    const r = await kiln([
      "sweep",
      "-n",
      ns,
      "--spec",
      spec,
      "--name",
      sweepName,
      "--set",
      "training.optimizer.learningRate=0.01,0.001,0.0001",
      "--parallelism",
      "2",
    ]);
    if (r.code !== 0) throw new Error(`kubectl kiln sweep failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const job = await kubectlJson(["get", "job", sweepName, "-n", ns]);
    expect(job.spec.completionMode).toBe("Indexed");
    expect(job.spec.completions).toBe(3);
    expect(job.spec.parallelism).toBe(2);
    const done = await waitFor(`all 3 indices of ${sweepName} to complete`, 900_000, async () => {
      const j = await kubectlJson(["get", "job", sweepName, "-n", ns]);
      return j.status?.succeeded === 3 ? j : undefined;
    });
    expect(done.status.completedIndexes).toBe("0-2");
    const indices = new Set<string>();
    const pods = await kubectlJson<{ items: any[] }>([
      "get",
      "pods",
      "-n",
      ns,
      "-l",
      `batch.kubernetes.io/job-name=${sweepName}`,
    ]);
    for (const p of pods.items) indices.add(p.metadata.annotations["batch.kubernetes.io/job-completion-index"]);
    expect([...indices].sort()).toEqual(["0", "1", "2"]);
    for (const p of pods.items) expect((await nodeLabels(p.spec.nodeName))[REAL_NODE_LABEL]).toBe("real");
    for (const i of [0, 1, 2])
      expect(await keysUnder(`runs/${sweepName}-${i}/`)).toContain(`runs/${sweepName}-${i}/model/weights.bin`);
  });

  it("ls lists the submitted run and the sweep", async () => {
    const r = await kiln(["ls", "-n", ns, "-o", "json", "--no-metrics"]);
    if (r.code !== 0) throw new Error(`kubectl kiln ls failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const runs = JSON.parse(r.stdout).runs as { name: string; status: string; gpus: number; completions: number }[];
    expect(runs.find((x) => x.name === submitted)).toMatchObject({ status: "Succeeded", gpus: 1, completions: 1 });
    expect(runs.find((x) => x.name === sweepName)).toMatchObject({ status: "Succeeded 3/3", completions: 3 });
    // The table: a header, then one row per run, its NAME and STATUS columns matching the JSON.
    const table = await kiln(["ls", "-n", ns, "--no-metrics"]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.trim().split(/\s{2,}/));
    expect(header.slice(0, 2)).toEqual(["NAME", "STATUS"]);
    expect(rows.find((cols) => cols[0] === submitted)?.[1]).toBe("Succeeded");
    expect(rows.find((cols) => cols[0] === sweepName)?.[1]).toBe("Succeeded 3/3");
  });

  it("status reports the finished run", async () => {
    const r = await kiln(["status", submitted, "-n", ns]);
    if (r.code !== 0) throw new Error(`kubectl kiln status failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const field = (name: string) =>
      r.stdout
        .split("\n")
        .find((l) => l.startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    expect(field("Name")).toBe(submitted);
    expect(field("Status")).toBe("Succeeded");
    const json = await kiln(["status", submitted, "-n", ns, "-o", "json"]);
    const job = JSON.parse(json.stdout);
    expect(job.metadata.name).toBe(submitted);
    expect(job.status.succeeded).toBe(1);
    expect((job.status.conditions ?? []).find((c: { type: string }) => c.type === "Complete")?.status).toBe("True");
  });

  it("cancel deletes a run's Job and its pods", async () => {
    const r = await kiln(["submit", "-n", ns, "--spec", spec, "--name", cancelled]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const c = await kiln(["cancel", cancelled, "-n", ns]);
    if (c.code !== 0) throw new Error(`kubectl kiln cancel failed (${c.code}):\n${c.stderr}${c.stdout}`);
    expect(c.stdout).toContain(cancelled);
    await waitFor(
      `Job ${cancelled} to be gone`,
      60_000,
      async () => (await kubectl(["get", "job", cancelled, "-n", ns])).code !== 0,
    );
    await waitFor(`pods of ${cancelled} to be gone`, 90_000, async () => (await jobPods(ns, cancelled)).length === 0);
    const again = await kiln(["status", cancelled, "-n", ns]);
    expect(again.code).not.toBe(0);
  });
});
