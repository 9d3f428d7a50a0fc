/**
 * Test support for the plugin: an in-memory KubeApi (stands in for the API server until the local
 * cluster harness exists; errors are real client-node ApiExceptions with real Status bodies), and
 * `runCli` that runs the real program in-process with captured output and a fixed clock.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApiException } from "@kubernetes/client-node";
import type { V1ConfigMap, V1CronJob, V1Job, V1Node, V1Pod, V1Secret } from "@kubernetes/client-node";
import type { JobSet, NetworkPolicy } from "../../cli/src/jobset";
import type { Writable } from "node:stream";
import type { Deps, SpawnResult } from "../../cli/src/context";
import type { KubeApi, Topology } from "../../cli/src/kube";
import { run } from "../../cli/src/main";
import { renderTrainer } from "../charts/helm";

export const FIXED_NOW = new Date("2026-11-28T12:00:00Z");

/** An ApiException as client-node throws it for a non-2xx response with a Status body. */
export function apiError(code: number, message: string, reason = "NotFound"): ApiException<string> {
  const status = { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code };
  return new ApiException(code, "Unknown API Status Code!", JSON.stringify(status), {});
}

/** A network failure as node-fetch reports it. */
export function connRefused(): Error {
  return Object.assign(
    new Error(
      "request to https://127.0.0.1:6443/apis/batch/v1/namespaces/x/cronjobs/kiln-trainer failed, reason: connect ECONNREFUSED 127.0.0.1:6443",
    ),
    {
      type: "system",
      code: "ECONNREFUSED",
      errno: "ECONNREFUSED",
    },
  );
}

/** Equality (`k=v`), existence (`k`) and absence (`!k`) label selectors, comma-separated. */
export function matches(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(",").every((term) => {
    if (term.startsWith("!")) return labels?.[term.slice(1)] === undefined;
    const [k, v] = term.split("=");
    return v === undefined ? labels?.[k] !== undefined : labels?.[k] === v;
  });
}

/** In-memory API: namespaces, CronJobs, Jobs, Pods (+ logs), ConfigMaps, Secrets. */
export class FakeKube implements KubeApi {
  readonly server = "https://127.0.0.1:6443";
  readonly namespaces = new Set<string>();
  readonly cronJobs = new Map<string, V1CronJob>();
  readonly jobs = new Map<string, V1Job>();
  readonly pods: V1Pod[] = [];
  readonly logs = new Map<string, string>();
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly secrets = new Map<string, V1Secret>();
  readonly jobSets = new Map<string, JobSet>();
  readonly networkPolicies = new Map<string, NetworkPolicy>();
  /** Kueue Topology objects by name. */
  readonly topologies = new Map<string, Topology>();
  readonly nodes: V1Node[] = [];
  /** A JobSet API that is not installed (list/get answer 404). */
  noJobSetApi = false;
  readonly calls: string[] = [];
  /** Thrown by the next call, once. */
  failNext?: unknown;
  /** Namespaces whose existence reads are forbidden. */
  forbidNamespaceRead = false;

  private check(call: string) {
    this.calls.push(call);
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
  }

  private requireNs(ns: string) {
    if (!this.namespaces.has(ns)) throw apiError(404, `namespaces "${ns}" not found`);
  }

  async getCronJob(ns: string, name: string) {
    this.check(`getCronJob ${ns}/${name}`);
    const c = this.cronJobs.get(`${ns}/${name}`);
    if (!c) throw apiError(404, `cronjobs.batch "${name}" not found`);
    return structuredClone(c);
  }

  async createJob(ns: string, job: V1Job, dryRun: boolean) {
    this.check(`createJob ${ns}/${job.metadata?.name}${dryRun ? " dryRun" : ""}`);
    this.requireNs(ns);
    const key = `${ns}/${job.metadata?.name}`;
    if (this.jobs.has(key)) throw apiError(409, `jobs.batch "${job.metadata?.name}" already exists`, "AlreadyExists");
    const stored: V1Job = {
      ...structuredClone(job),
      metadata: { ...job.metadata, uid: "uid-1", creationTimestamp: FIXED_NOW },
    };
    if (!dryRun) this.jobs.set(key, stored);
    return structuredClone(stored);
  }

  async getJob(ns: string, name: string) {
    this.check(`getJob ${ns}/${name}`);
    const j = this.jobs.get(`${ns}/${name}`);
    if (!j) throw apiError(404, `jobs.batch "${name}" not found`);
    return structuredClone(j);
  }

  async listJobs(ns: string | undefined, selector: string) {
    this.check(`listJobs ${ns ?? "*"} ${selector}`);
    return [...this.jobs.values()].filter(
      (j) => (ns === undefined || j.metadata?.namespace === ns) && matches(selector, j.metadata?.labels),
    );
  }

  async deleteJob(ns: string, name: string, dryRun: boolean) {
    this.check(`deleteJob ${ns}/${name}${dryRun ? " dryRun" : ""}`);
    if (!this.jobs.has(`${ns}/${name}`)) throw apiError(404, `jobs.batch "${name}" not found`);
    if (!dryRun) this.jobs.delete(`${ns}/${name}`);
  }

  async listPods(ns: string | undefined, selector: string) {
    this.check(`listPods ${ns ?? "*"} ${selector}`);
    return this.pods.filter(
      (p) => (ns === undefined || p.metadata?.namespace === ns) && matches(selector, p.metadata?.labels),
    );
  }

  async readLog(ns: string, pod: string) {
    this.check(`readLog ${ns}/${pod}`);
    const l = this.logs.get(`${ns}/${pod}`);
    if (l === undefined) throw apiError(400, `container "trainer" in pod "${pod}" is waiting to start`, "BadRequest");
    return l;
  }

  async followLog(ns: string, pod: string, _container: string, out: Writable) {
    const text = await this.readLog(ns, pod);
    const done = new Promise<void>((resolve) => out.end(text, () => resolve()));
    return { abort: () => undefined, done };
  }

  async getConfigMap(ns: string, name: string) {
    this.check(`getConfigMap ${ns}/${name}`);
    const c = this.configMaps.get(`${ns}/${name}`);
    if (!c) throw apiError(404, `configmaps "${name}" not found`);
    return c;
  }

  /** Field selector: `metadata.name=<name>` only. */
  async listConfigMaps(ns: string | undefined, selector?: string, fieldSelector?: string) {
    this.check(`listConfigMaps ${ns ?? "*"} ${selector ?? ""}${fieldSelector ? ` ${fieldSelector}` : ""}`);
    const name = fieldSelector?.replace(/^metadata\.name=/, "");
    return [...this.configMaps.entries()]
      .filter(
        ([k, c]) =>
          (ns === undefined || k.startsWith(`${ns}/`)) &&
          (!selector || matches(selector, c.metadata?.labels)) &&
          (name === undefined || k.endsWith(`/${name}`)),
      )
      .map(([k, c]) => ({ ...c, metadata: { ...c.metadata, namespace: k.split("/")[0], name: k.split("/")[1] } }));
  }

  async getSecret(ns: string, name: string) {
    this.check(`getSecret ${ns}/${name}`);
    const s = this.secrets.get(`${ns}/${name}`);
    if (!s) throw apiError(404, `secrets "${name}" not found`);
    return s;
  }

  async namespaceExists(ns: string) {
    if (this.forbidNamespaceRead) return undefined;
    return this.namespaces.has(ns);
  }

  async createJobSet(ns: string, js: JobSet, dryRun: boolean) {
    this.check(`createJobSet ${ns}/${js.metadata.name}${dryRun ? " dryRun" : ""}`);
    this.requireNs(ns);
    const key = `${ns}/${js.metadata.name}`;
    if (this.jobSets.has(key))
      throw apiError(409, `jobsets.jobset.x-k8s.io "${js.metadata.name}" already exists`, "AlreadyExists");
    const stored: JobSet = {
      ...structuredClone(js),
      metadata: { ...structuredClone(js.metadata), uid: "js-uid-1", creationTimestamp: FIXED_NOW },
    };
    if (!dryRun) this.jobSets.set(key, stored);
    return structuredClone(stored);
  }

  async getJobSet(ns: string, name: string) {
    this.check(`getJobSet ${ns}/${name}`);
    const j = this.noJobSetApi ? undefined : this.jobSets.get(`${ns}/${name}`);
    if (!j) throw apiError(404, `jobsets.jobset.x-k8s.io "${name}" not found`);
    return structuredClone(j);
  }

  async listJobSets(ns: string | undefined, selector: string) {
    this.check(`listJobSets ${ns ?? "*"} ${selector}`);
    if (this.noJobSetApi) throw apiError(404, "the server could not find the requested resource");
    return [...this.jobSets.values()]
      .filter((j) => (ns === undefined || j.metadata?.namespace === ns) && matches(selector, j.metadata?.labels))
      .map((j) => structuredClone(j));
  }

  async deleteJobSet(ns: string, name: string, dryRun: boolean) {
    this.check(`deleteJobSet ${ns}/${name}${dryRun ? " dryRun" : ""}`);
    if (!this.jobSets.has(`${ns}/${name}`)) throw apiError(404, `jobsets.jobset.x-k8s.io "${name}" not found`);
    if (!dryRun) this.jobSets.delete(`${ns}/${name}`);
  }

  async createNetworkPolicy(ns: string, np: NetworkPolicy, dryRun: boolean) {
    this.check(`createNetworkPolicy ${ns}/${np.metadata.name}${dryRun ? " dryRun" : ""}`);
    if (!dryRun) this.networkPolicies.set(`${ns}/${np.metadata.name}`, structuredClone(np));
    return structuredClone(np);
  }

  async getTopology(name = "kiln-topology") {
    this.check(`getTopology ${name}`);
    const t = this.topologies.get(name);
    if (!t) throw apiError(404, `topologies.kueue.x-k8s.io "${name}" not found`);
    return structuredClone(t);
  }

  async listNodes() {
    this.check("listNodes");
    return structuredClone(this.nodes);
  }

  /** Installs the real chart's objects (helm template) into a namespace. */
  installChart(ns: string, values: Record<string, unknown> = {}) {
    this.namespaces.add(ns);
    for (const o of renderTrainer(values, { namespace: ns }).objects) {
      const obj = { ...o, metadata: { ...o.metadata, namespace: ns } };
      if (o.kind === "CronJob") this.cronJobs.set(`${ns}/${o.metadata.name}`, obj as V1CronJob);
      if (o.kind === "ConfigMap") this.configMaps.set(`${ns}/${o.metadata.name}`, obj as V1ConfigMap);
    }
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  spawned: { command: string; args: readonly string[]; env: NodeJS.ProcessEnv }[];
}

/** Runs the real program in-process against `api` (connect throws when undefined: no cluster). */
export async function runCli(
  argv: string[],
  opts: { api?: KubeApi; defaultNamespace?: string; spawnResult?: SpawnResult; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const spawned: CliRun["spawned"] = [];
  const deps: Deps = {
    io: {
      out: (t) => {
        stdout += t;
      },
      err: (t) => {
        stderr += t;
      },
    },
    now: () => FIXED_NOW,
    random: (() => {
      let i = 0;
      return () => [0.1, 0.5, 0.9, 0.3][i++ % 4];
    })(),
    connect: () => {
      if (!opts.api) throw new Error("test: no cluster configured");
      return { api: opts.api, defaultNamespace: opts.defaultNamespace ?? "default" };
    },
    defaultNamespace: () => opts.defaultNamespace ?? "default",
    spawn: async (command, args, env) => {
      spawned.push({ command, args, env });
      return opts.spawnResult ?? { code: 0, signal: null };
    },
    onInterrupt: () => () => undefined,
    env: opts.env ?? {},
  };
  const code = await run(argv, deps);
  return { code, stdout, stderr, spawned };
}

/** Writes a file in a fresh temp dir and returns its path. */
export function tempFile(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cli-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** A valid run spec (the trainer's schema) as YAML. */
export const RUN_SPEC_YAML = `runId: mpg-001
dataset:
  uri: s3://datasets/auto-mpg/auto-mpg.csv
  target: Miles_per_Gallon
  drop: [Name]
  categorical: [Origin]
task: regression
training:
  epochs: 5
  optimizer: {name: adam, learningRate: 0.01}
output:
  uri: s3://artifacts/runs
`;
