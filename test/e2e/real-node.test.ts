/**
 * Training Jobs on the local cluster's real node (kubelet + containerd, scripts/cluster/node.sh): the pod
 * runs the trainer image built from trainer-image/Dockerfile, reads Auto MPG from MinIO and writes the run
 * back. Pod loss (deletion, eviction) resumes from the checkpoint without counting against backoffLimit and
 * ends with the weights of an uninterrupted run; a bad spec fails the Job at once; a run over its memory
 * limit is OOMKilled; the pod runs as uid 10001 with a read-only root filesystem.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { REAL_NODE_LABEL } from "../../scripts/cluster/real-node";
import {
  ensureStack,
  harnessConfig,
  jobPods,
  kiln,
  kubectl,
  kubectlBin,
  kubectlJson,
  must,
  nodeLabels,
  type ObjectStoreEnv,
  runName,
  storeClient,
  waitFor,
} from "./harness";

jest.setTimeout(20 * 60_000);

const DATASET = {
  uri: "s3://datasets/auto-mpg/auto-mpg.csv",
  target: "Miles_per_Gallon",
  drop: ["Name"],
  categorical: ["Origin"],
};
/** Small and quick: the default run's data and net with fewer epochs. */
const QUICK = {
  dataset: DATASET,
  task: "regression",
  training: { epochs: 20, checkpointEvery: 5, seed: 3 },
  output: { uri: "s3://artifacts/runs" },
};
/** Slow enough (a few seconds an epoch on 2 cores) to lose its pod mid-training; checkpoints every epoch. */
const SLOW = {
  dataset: DATASET,
  task: "regression",
  model: {
    layers: [
      { units: 1024, activation: "relu" },
      { units: 1024, activation: "relu" },
    ],
  },
  training: { epochs: 12, batchSize: 2, checkpointEvery: 1, seed: 7 },
  output: { uri: "s3://artifacts/runs" },
};
/** Inside the trainer container: who it runs as, whether the root filesystem takes a write, its capabilities. */
const PROBE = `const fs=require("fs");let write="ok";try{fs.writeFileSync("/app/probe","")}catch(e){write=e.code}
const st=fs.readFileSync("/proc/self/status","utf8");console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),write,capEff:/CapEff:\\s*(\\S+)/.exec(st)[1]}))`;

describe("training Jobs on the real node", () => {
  let ns = "";
  let store: ObjectStoreEnv;
  let s3: S3Client;
  let dir = "";
  const created: string[] = [];

  const specFile = (name: string, spec: object) => {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify(spec));
    return f;
  };
  /** The Job `kubectl kiln submit` makes, adjusted by `edit`, then created (kubectl create). */
  const submitEdited = async (name: string, spec: object, edit: (job: any) => void) => {
    const r = await kiln([
      "submit",
      "-n",
      ns,
      "--spec",
      specFile(name, spec),
      "--name",
      name,
      "--dry-run=client",
      "-o",
      "json",
    ]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit --dry-run failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const job = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"), r.stdout.lastIndexOf("}") + 1));
    edit(job);
    created.push(name);
    await must(kubectlBin(), ["create", "-f", "-"], { input: JSON.stringify(job) });
    return job;
  };
  const submit = async (name: string, spec: object) => {
    created.push(name);
    const r = await kiln(["submit", "-n", ns, "--spec", specFile(name, spec), "--name", name]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
  };
  const jobState = async (name: string): Promise<"Complete" | "Failed" | undefined> => {
    const j = await kubectlJson(["get", "job", name, "-n", ns]);
    return (j.status?.conditions ?? []).find(
      (c: any) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
    )?.type;
  };
  const finished = (name: string, timeoutMs = 600_000) =>
    waitFor(`Job ${name} to finish`, timeoutMs, () => jobState(name), 2000);
  /** The running pod of a Job once its trainer logged `epoch` >= `epoch`. */
  const runningAtEpoch = (name: string, epoch: number) =>
    waitFor(
      `a pod of ${name} to reach epoch ${epoch}`,
      600_000,
      async () => {
        const pod = (await jobPods(ns, name)).find((p) => p.phase === "Running");
        if (!pod) return undefined;
        const log = await kubectl(["logs", pod.name, "-n", ns, "-c", "trainer"]);
        return logLines(log.stdout).some((l) => typeof l.epoch === "number" && l.epoch >= epoch) ? pod : undefined;
      },
      2000,
    );
  const objectKeys = async (prefix: string) => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: "artifacts", Prefix: prefix }));
    return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
  };
  const weights = async (run: string) => {
    const o = await s3.send(new GetObjectCommand({ Bucket: "artifacts", Key: `runs/${run}/model/weights.bin` }));
    return Buffer.from(await o.Body!.transformToByteArray());
  };
  const podLog = async (pod: string) =>
    logLines((await must(kubectlBin(), ["logs", pod, "-n", ns, "-c", "trainer"])).toString());

  const reference = runName("e2e-ref");

  beforeAll(async () => {
    store = await ensureStack();
    ns = harnessConfig().teams[0].namespace;
    s3 = storeClient(store);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-real-node-"));
    // The uninterrupted run the pod-loss runs are compared with (same spec, its own run id).
    await submit(reference, SLOW);
  });
  afterAll(async () => {
    for (const n of created) await kubectl(["delete", "job", n, "-n", ns, "--ignore-not-found", "--wait=false"]);
    s3?.destroy();
  });

  it("a run submitted with kubectl kiln submit runs the image on the real node as uid 10001 with a read-only root, completes, and its artifacts are in the store", async () => {
    const name = runName("e2e-real");
    await submit(name, { ...SLOW, training: { ...SLOW.training, epochs: 4 } });
    const pod = await runningAtEpoch(name, 1);
    // Followed while it trains: the stream ends when the pod does, with the last epoch in it.
    const following = kiln(["logs", name, "-f", "-n", ns], { timeoutMs: 600_000 });
    expect((await nodeLabels(pod.node!))[REAL_NODE_LABEL]).toBe("real");
    const probe = JSON.parse(
      await must(kubectlBin(), ["exec", pod.name, "-n", ns, "-c", "trainer", "--", "node", "-e", PROBE]),
    );
    expect(probe).toEqual({ uid: 10001, gid: 10001, write: "EROFS", capEff: "0000000000000000" });
    const image = (await kubectlJson(["get", "pod", pod.name, "-n", ns])).status.containerStatuses[0].image;
    expect(image).toMatch(/kiln\/trainer:/);

    expect(await finished(name)).toBe("Complete");
    const keys = await objectKeys(`runs/${name}/`);
    expect(keys).toEqual(
      expect.arrayContaining([
        "model/model.json",
        "model/weights.bin",
        "metrics.json",
        "report.html",
        "run.json",
        "preprocess.json",
      ]),
    );
    expect(keys.some((k) => k.startsWith("checkpoints/"))).toBe(true);
    const lines = await podLog(pod.name);
    expect(lines.find((l) => l.event === "backend")).toMatchObject({
      gpuFound: false,
      device: expect.stringMatching(/^CPU/),
    });
    expect(lines.find((l) => l.event === "done")).toMatchObject({ outcome: "completed", epochs: 4 });
    // The plugin reads the same log through the kubelet, followed and afterwards.
    const followed = await following;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/\n\s*4\s/);
    const logs = await kiln(["logs", name, "-n", ns]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/\n\s*4\s/);
    // The kubelet carries the trainer's best epoch line (its termination message) into the pod's status,
    // where ls reads BEST-METRIC without reading the log.
    const terminated = (await kubectlJson(["get", "pod", pod.name, "-n", ns])).status.containerStatuses[0].state
      .terminated;
    const best = JSON.parse(terminated.message);
    const epochs = lines.filter((l) => typeof l.epoch === "number" && l.event === undefined);
    expect(epochs.map((l) => JSON.stringify(l))).toContain(JSON.stringify(best));
    const ls = await kiln(["ls", "-n", ns, "-o", "json"]);
    const row = JSON.parse(ls.stdout).runs.find((r: { name: string }) => r.name === name);
    expect(row.bestMetric).toMatch(new RegExp(`^(val_)?loss=\\d+\\.\\d{4}@${best.epoch}$`));
  });

  // Pod loss: backoffLimit 0, so a loss that counted would fail the Job at once.
  const lose = async (how: "delete" | "evict") => {
    const name = runName(`e2e-${how}`);
    await submitEdited(name, SLOW, (job) => (job.spec.backoffLimit = 0));
    const pod = await runningAtEpoch(name, 3);
    if (how === "delete") {
      // The kubelet sends SIGTERM; the trainer checkpoints and exits 143.
      await must(kubectlBin(), ["delete", "pod", pod.name, "-n", ns, "--wait=false"]);
    } else {
      const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod.name, namespace: ns } };
      await must(kubectlBin(), ["create", "--raw", `/api/v1/namespaces/${ns}/pods/${pod.name}/eviction`, "-f", "-"], {
        input: JSON.stringify(eviction),
      });
    }
    expect(await finished(name)).toBe("Complete");
    const job = await kubectlJson(["get", "job", name, "-n", ns]);
    expect(job.spec.backoffLimit).toBe(0);
    const pods = await kubectlJson<{ items: any[] }>([
      "get",
      "pods",
      "-n",
      ns,
      "-l",
      `batch.kubernetes.io/job-name=${name}`,
    ]);
    const next = pods.items.find((p) => p.metadata.name !== pod.name && p.status.phase === "Succeeded");
    expect(next).toBeDefined();
    const resumed = (await podLog(next.metadata.name)).find((l) => l.event === "resume");
    expect(resumed).toBeDefined();
    expect(resumed!.epoch).toBeGreaterThanOrEqual(2);
    expect(await finished(reference)).toBe("Complete");
    const [got, want] = [await weights(name), await weights(reference)];
    expect(got.length).toBeGreaterThan(1000);
    expect(got.equals(want)).toBe(true);
    return { job, lost: pods.items.find((p) => p.metadata.name === pod.name) };
  };

  it("pod deleted mid-training (SIGTERM from the kubelet): the next pod resumes from the checkpoint, the loss is not counted, the weights equal an uninterrupted run's", async () => {
    const { lost } = await lose("delete");
    // The deleted pod is gone or ended with the trainer's SIGTERM exit code.
    if (lost) expect(lost.status.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(143);
  });

  it("pod evicted mid-training (Eviction API): resumed, not counted, same weights as an uninterrupted run", async () => {
    await lose("evict");
  });

  it("a bad spec exits 2 and fails the Job at once, with no retry; kubectl kiln status shows why", async () => {
    const name = runName("e2e-badspec");
    // The plugin refuses a bad spec before creating anything, so break the inlined spec afterwards, as a
    // hand-edited Job or ConfigMap would.
    await submitEdited(name, QUICK, (job) => {
      const env = job.spec.template.spec.containers[0].env.find((e: any) => e.name === "KILN_RUN_SPEC");
      env.value = JSON.stringify({ ...QUICK, task: "clustering", training: { epochs: -1 } });
    });
    expect(await finished(name, 300_000)).toBe("Failed");
    const job = await kubectlJson(["get", "job", name, "-n", ns]);
    const failed = job.status.conditions.find((c: any) => c.type === "Failed");
    expect(failed.reason).toBe("PodFailurePolicy");
    expect(await jobPods(ns, name)).toHaveLength(1);
    const status = await kiln(["status", name, "-n", ns]);
    expect(status.stdout).toMatch(/Status:\s+Failed/);
    expect(status.stdout).toContain("PodFailurePolicy");
    expect(status.stdout).toMatch(/Error \(exit 2\)/);
  });

  it("a run over its memory limit is OOMKilled and kubectl kiln status says so", async () => {
    const name = runName("e2e-oom");
    await submitEdited(
      name,
      {
        ...QUICK,
        model: {
          layers: [
            { units: 4096, activation: "relu" },
            { units: 4096, activation: "relu" },
          ],
        },
      },
      (job) => {
        job.spec.backoffLimit = 0;
        job.spec.template.spec.containers[0].resources.requests.memory = "160Mi";
        job.spec.template.spec.containers[0].resources.limits.memory = "160Mi";
      },
    );
    expect(await finished(name, 300_000)).toBe("Failed");
    const [pod] = await jobPods(ns, name);
    const live = await kubectlJson(["get", "pod", pod.name, "-n", ns]);
    expect(live.status.containerStatuses[0].state.terminated.reason).toBe("OOMKilled");
    const status = await kiln(["status", name, "-n", ns]);
    expect(status.stdout).toContain("OOMKilled (exit 137)");
  });
});

function logLines(text: string): Record<string, any>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
}
