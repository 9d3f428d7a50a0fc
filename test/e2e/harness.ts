/**
 * Shared pieces of the e2e suites: bring the local cluster (scripts/cluster/up.sh, with its real node),
 * the trainer image on that node, MinIO and the local stack up when they are not, run kubectl / pulumi / the kubectl-kiln plugin against
 * them, and poll the API server. Every suite calls `ensureStack()` in beforeAll, so suites run in any
 * order (jest --runInBand) and each one can also run alone.
 */
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import YAML from "yaml";
import { SIMULATED_TOLERATION } from "../../scripts/cluster/nodes";
import { gpusOf, setGpus } from "../../cli/src/job";

export const ROOT = path.resolve(__dirname, "../..");
export const KILN_DIR = path.join(ROOT, ".kiln");
export const KUBECONFIG = path.join(KILN_DIR, "kubeconfig");
export const STACK_CONFIG = path.join(KILN_DIR, "project", "Pulumi.local.yaml");
/** Seconds a simulated Job pod runs before KWOK marks it Succeeded (scripts/cluster/env.sh default). */
export const POD_RUN_SECONDS = Number(process.env.KILN_POD_RUN_SECONDS ?? 10);
/** Annotation of KWOK's pod-complete stage: per-pod run time override (scripts/cluster/kwok/pod-complete.yaml). */
export const RUN_TIME_ANNOTATION = "pod-complete.stage.kwok.x-k8s.io/delay";

const run = promisify(execFile);

export interface Result {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs a command; never throws on a non-zero exit (the caller asserts on `code`). */
export async function sh(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  const env = { ...process.env, KUBECONFIG, ...opts.env };
  if (opts.input !== undefined) {
    // execFile has no stdin option; execFileSync does (input is small: a manifest).
    try {
      const stdout = execFileSync(cmd, args, {
        cwd: ROOT,
        env,
        input: opts.input,
        encoding: "utf8",
        timeout: opts.timeoutMs ?? 120_000,
        stdio: ["pipe", "pipe", "pipe"],
        maxBuffer: 64 << 20,
      });
      return { stdout, stderr: "", code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; status?: number };
      return { stdout: err.stdout ?? "", stderr: err.stderr ?? String(e), code: err.status ?? 1 };
    }
  }
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd: ROOT,
      env,
      timeout: opts.timeoutMs ?? 120_000,
      maxBuffer: 64 << 20,
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    return {
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? String(e),
      code: typeof err.code === "number" ? err.code : 1,
    };
  }
}

/** Like `sh` but throws with the command's output when it fails. */
export async function must(cmd: string, args: string[], opts: Parameters<typeof sh>[2] = {}): Promise<string> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0)
    throw new Error(
      `${path.basename(cmd)} ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`.slice(0, 8000),
    );
  return r.stdout;
}

let kubectlPath: string | undefined;
export function kubectlBin(): string {
  kubectlPath ??= path.join(
    execFileSync(path.join(ROOT, "scripts/kube-tools.sh"), { encoding: "utf8" }).trim(),
    "kubectl",
  );
  return kubectlPath;
}

export const kubectl = (args: string[], opts: Parameters<typeof sh>[2] = {}) => sh(kubectlBin(), args, opts);
export const kubectlJson = async <T = any>(args: string[]): Promise<T> =>
  JSON.parse(await must(kubectlBin(), [...args, "-o", "json"])) as T;
/** kubectl kiln ... : the plugin found on PATH (cli/bin/kubectl-kiln) the way users run it. */
export const kiln = (args: string[], opts: Parameters<typeof sh>[2] = {}) =>
  sh(kubectlBin(), ["kiln", ...args], {
    ...opts,
    env: { PATH: `${path.join(ROOT, "cli/bin")}:${process.env.PATH}`, ...opts.env },
  });
/** scripts/local/pulumi.sh: the cached Pulumi CLI with the offline settings, stack `local`, harness config copy. */
export const pulumi = (args: string[], opts: Parameters<typeof sh>[2] = {}) =>
  sh(path.join(ROOT, "scripts/local/pulumi.sh"), args, { timeoutMs: 900_000, ...opts });

/** Polls `check` every `everyMs` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Starts the cluster when it is not up (idempotent; the toolchain must be built: npm run tools:build). */
export async function ensureCluster(): Promise<void> {
  const status = await sh("bash", [path.join(ROOT, "scripts/cluster/status.sh")], { timeoutMs: 60_000 });
  if (status.code === 0) return;
  await must("bash", [path.join(ROOT, "scripts/cluster/up.sh")], { timeoutMs: 600_000 });
}

export interface ObjectStoreEnv {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An S3 client for the harness MinIO (destroy() it when done). */
export function storeClient(store: ObjectStoreEnv): S3Client {
  return new S3Client({
    endpoint: store.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

/** Starts the harness MinIO (idempotent; on the real node's address when it is up) and returns its endpoint and credentials. */
export async function ensureObjectStore(): Promise<ObjectStoreEnv> {
  const script = path.join(ROOT, "scripts/local/minio.sh");
  await must(script, ["start"], { timeoutMs: 180_000 });
  const vars = Object.fromEntries(
    (await must(script, ["env"]))
      .split("\n")
      .filter(Boolean)
      .map(
        (l) =>
          l
            .replace(/^export /, "")
            .split(/=(.*)/s)
            .slice(0, 2) as [string, string],
      ),
  );
  return {
    endpoint: vars.KILN_S3_ENDPOINT,
    accessKeyId: vars.AWS_ACCESS_KEY_ID,
    secretAccessKey: vars.AWS_SECRET_ACCESS_KEY,
  };
}

/** The trainer image reference scripts/image/build.sh produces (without building it). */
export async function trainerImageRef(): Promise<string> {
  return (await must("bash", [path.join(ROOT, "scripts/image/build.sh"), "--print-ref"])).trim();
}

/** The kiln-accountant image reference scripts/image/build.sh produces. */
export async function accountantImageRef(): Promise<string> {
  return (await must("bash", [path.join(ROOT, "scripts/image/build.sh"), "--print-accountant-ref"])).trim();
}

/** Builds the trainer and accountant images when their inputs changed (a no-op otherwise) and imports both into the real node. */
export async function ensureImageOnNode(): Promise<string> {
  const ref = (await must("bash", [path.join(ROOT, "scripts/image/build.sh")], { timeoutMs: 1_800_000 }))
    .trim()
    .split("\n")
    .pop()!;
  await must("bash", [path.join(ROOT, "scripts/image/load.sh"), ref, await accountantImageRef()], {
    timeoutMs: 600_000,
  });
  return ref;
}

/** `host:port` pods on the real node reach the API server at (scripts/cluster/node.sh's apiserver-proxy). */
export function apiServerForPods(): string {
  const ip = fs.readFileSync(path.join(KILN_DIR, "run", "node-ip"), "utf8").trim();
  return `${ip}:${process.env.APISERVER_PORT ?? 6443}`;
}

/** Writes the harness stack config copy, selects (creates) stack `local` and sets the store secret. */
export async function prepareStack(store: ObjectStoreEnv, image?: string): Promise<void> {
  const trainerImage = image ?? (await trainerImageRef());
  await must("npx", [
    "--no-install",
    "ts-node",
    "--transpile-only",
    "scripts/local/stack-config.ts",
    "--endpoint",
    store.endpoint,
    "--access-key-id",
    store.accessKeyId,
    "--trainer-image",
    trainerImage,
    "--accountant-image",
    await accountantImageRef(),
    "--api-server",
    apiServerForPods(),
  ]);
  await must(path.join(ROOT, "scripts/local/pulumi.sh"), ["stack", "select", "--create", "local"]);
  await must(
    path.join(ROOT, "scripts/local/pulumi.sh"),
    ["config", "set", "--secret", "--path", "kiln:objectStore.secretAccessKey"],
    { input: store.secretAccessKey },
  );
}

/** Number of resources in the local stack's state (0 when never deployed or destroyed). */
export async function deployedResourceCount(): Promise<number> {
  const r = await pulumi(["stack", "export"], { timeoutMs: 120_000 });
  if (r.code !== 0) return 0;
  const state = JSON.parse(r.stdout) as { deployment?: { resources?: unknown[] } };
  return state.deployment?.resources?.length ?? 0;
}

/** What the deployed stack was made from, besides the committed code: `pulumi up` again when it changes. */
const STACK_INPUTS = path.join(KILN_DIR, "run", "stack-inputs");
/** The kube-system UID of the cluster the stack was last deployed to (scripts/local/run.sh writes it too). */
const STACK_CLUSTER = path.join(KILN_DIR, "run", "stack-cluster");

/**
 * Cluster + trainer image on the real node + object store + stack config; `pulumi up` unless the stack
 * is deployed from the same store and image already.
 */
export async function ensureStack(): Promise<ObjectStoreEnv> {
  await ensureCluster();
  const image = await ensureImageOnNode();
  const store = await ensureObjectStore();
  await prepareStack(store, image);
  // The kube-system namespace's UID names this cluster: a cluster started anew (etcd wiped) needs an up.
  const cluster = (
    await must(kubectlBin(), ["get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"])
  ).trim();
  const inputs = JSON.stringify({
    ...store,
    image,
    cluster,
    committed: fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8"),
  });
  const previous = fs.existsSync(STACK_INPUTS) ? fs.readFileSync(STACK_INPUTS, "utf8") : "";
  if ((await deployedResourceCount()) <= 2 || previous !== inputs) {
    // A new cluster (etcd wiped by cluster:down) under an old state: refresh, so what is gone is created again.
    // Not on the same cluster: a refresh there reads back Kueue's defaults and the next apply conflicts.
    const sameCluster = fs.existsSync(STACK_CLUSTER) && fs.readFileSync(STACK_CLUSTER, "utf8").trim() === cluster;
    await must(
      path.join(ROOT, "scripts/local/pulumi.sh"),
      ["up", "--yes", "--skip-preview", ...(sameCluster ? [] : ["--refresh"]), "--non-interactive"],
      { timeoutMs: 900_000 },
    );
    fs.writeFileSync(STACK_INPUTS, inputs, { mode: 0o600 });
    fs.writeFileSync(STACK_CLUSTER, `${cluster}\n`);
  }
  // The default run spec's data set, as `npm run local` uploads it (idempotent).
  const { datasets, artifacts } = harnessConfig().buckets;
  await must(
    "npx",
    [
      "--no-install",
      "ts-node",
      "--transpile-only",
      "scripts/local/seed.ts",
      "--endpoint",
      store.endpoint,
      "--datasets",
      datasets,
      "--artifacts",
      artifacts,
    ],
    {
      env: {
        AWS_ACCESS_KEY_ID: store.accessKeyId,
        AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
        AWS_REGION: "us-east-1",
      },
    },
  );
  return store;
}

export interface HarnessConfig {
  readonly teams: { name: string; namespace: string; gpuQuota: number; pools?: string[] }[];
  readonly gpuPools: { name: string; maxGpus: number; gpusPerNode?: number }[];
  /** kiln:objectStore buckets (infra/config.ts defaults). */
  readonly buckets: { datasets: string; artifacts: string };
}

/** Teams and pools of the harness stack config (namespaces defaulted as infra/config does). */
export function harnessConfig(): HarnessConfig {
  const doc = YAML.parse(
    fs.readFileSync(fs.existsSync(STACK_CONFIG) ? STACK_CONFIG : path.join(ROOT, "Pulumi.local.yaml"), "utf8"),
  ) as { config: Record<string, any> };
  const teams = ((doc.config["kiln:teams"] ?? []) as HarnessConfig["teams"]).map((t) => ({
    ...t,
    namespace: t.namespace ?? `kiln-${t.name}`,
  }));
  const store = (doc.config["kiln:objectStore"] ?? {}) as { datasetsBucket?: string; artifactsBucket?: string };
  return {
    teams,
    gpuPools: doc.config["kiln:gpuPools"] ?? [],
    buckets: { datasets: store.datasetsBucket ?? "datasets", artifacts: store.artifactsBucket ?? "artifacts" },
  };
}

/** A unique, valid Job name for one test. */
export function runName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 52);
}

export interface PodInfo {
  name: string;
  node?: string;
  phase?: string;
  nodeSelector?: Record<string, string>;
}

export async function jobPods(ns: string, job: string): Promise<PodInfo[]> {
  const list = await kubectlJson<{ items: any[] }>([
    "get",
    "pods",
    "-n",
    ns,
    "-l",
    `batch.kubernetes.io/job-name=${job}`,
  ]);
  return list.items.map((p) => ({
    name: p.metadata.name,
    node: p.spec.nodeName,
    phase: p.status?.phase,
    nodeSelector: p.spec.nodeSelector,
  }));
}

export async function nodeLabels(node: string): Promise<Record<string, string>> {
  return (await kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "node", node])).metadata.labels;
}

export async function jobSucceeded(ns: string, job: string): Promise<number> {
  const j = await kubectlJson<{ status?: { succeeded?: number } }>(["get", "job", job, "-n", ns]);
  return j.status?.succeeded ?? 0;
}

export interface TemplateJobOptions {
  /** GPUs per pod; 0 = CPU run (GPU requests, the GPU toleration and pool selector removed). Default: the template's. */
  readonly gpus?: number;
  /** How long KWOK keeps the simulated pod Running before it succeeds. Default POD_RUN_SECONDS. */
  readonly runSeconds?: number;
  /**
   * Run on a simulated (KWOK) GPU node: tolerate their taint and select them (nodeSelector type=kwok).
   * Default: true when runSeconds is set; otherwise a GPU pod goes to the real node and really trains.
   */
  readonly simulated?: boolean;
}

/** Makes a pod template land on simulated GPU nodes only. */
export function onSimulatedNodes(pod: any): void {
  pod.spec.tolerations = [...(pod.spec.tolerations ?? []), { ...SIMULATED_TOLERATION }];
  pod.spec.nodeSelector = { ...pod.spec.nodeSelector, type: "kwok" };
}

/**
 * `kubectl create job <name> --from=cronjob/kiln-trainer --dry-run=client -o json`, adjusted, then created:
 * the same Job the README's command makes, with a GPU count and simulated run time of the test's choosing.
 */
export async function createJobFromTemplate(ns: string, name: string, opts: TemplateJobOptions = {}): Promise<any> {
  const job = JSON.parse(
    await must(kubectlBin(), [
      "create",
      "job",
      name,
      "--from=cronjob/kiln-trainer",
      "-n",
      ns,
      "--dry-run=client",
      "-o",
      "json",
    ]),
  );
  const pod = job.spec.template;
  if (opts.runSeconds !== undefined)
    pod.metadata = {
      ...pod.metadata,
      annotations: { ...pod.metadata?.annotations, [RUN_TIME_ANNOTATION]: `${opts.runSeconds}s` },
    };
  if (opts.simulated ?? opts.runSeconds !== undefined) onSimulatedNodes(pod);
  // The GPU contract as the plugin applies it (contract/gpu.ts): resources, toleration, pool selector.
  if (opts.gpus !== undefined) setGpus(pod.spec, opts.gpus);
  await must(kubectlBin(), ["create", "-f", "-"], { input: JSON.stringify(job) });
  return job;
}

/** GPUs the pod template of a Job requests (limits, else requests). */
export function gpusRequested(job: any): number {
  return gpusOf(job);
}

/** Waits until every pod of the Job is bound to a node; returns the pods. */
export async function waitScheduled(ns: string, job: string, count = 1, timeoutMs = 120_000): Promise<PodInfo[]> {
  return waitFor(`${count} pod(s) of Job ${ns}/${job} to be scheduled`, timeoutMs, async () => {
    const pods = (await jobPods(ns, job)).filter((p) => p.node);
    return pods.length >= count ? pods : undefined;
  });
}

/** Starts `kubectl kiln dashboard --port 0` as users run it and returns its URL once printed. */
export async function startDashboard(
  args: string[],
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; output: () => string }> {
  const child = spawn(kubectlBin(), ["kiln", "dashboard", "--port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG, PATH: `${path.join(ROOT, "cli/bin")}:${process.env.PATH}` },
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const url = await waitFor(
    "the dashboard to print its URL",
    120_000,
    async () => {
      if (child.exitCode !== null) throw new Error(`kubectl kiln dashboard exited ${child.exitCode}:\n${out}`);
      return /Kiln dashboard at (http:\/\/\S+\/)/.exec(out)?.[1];
    },
    250,
  );
  return { child, url, output: () => out };
}
