/**
 * The dashboard's data layer: a snapshot of the cluster's runs, queues and run pods, built from a cache kept
 * current by watches (cache.ts; or, without one, from lists every few seconds), and per-page extras for the
 * rows shown only: why a pod waits and the best metric from its termination message (no log is read for
 * the list), and cost from the accounting.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { bestMetricOfPod } from "../best-metric";
import { apiMessage, CliError, explainApiError, statusCode } from "../errors";

import {
  getRun,
  isJobSet,
  listRuns,
  newestPodOfRuns,
  nodesOf,
  podSelector,
  RUN_POD_SELECTOR,
  sortRuns,
  type RunObject,
} from "../runs";
import type { UsageReader } from "../usage";
import { ClusterCache, type CacheSources } from "./cache";
import { cachedReads } from "./cached-reads";
import { bestMetric } from "../progress";
import { isFinished, type RunPhase } from "../rows";
import { monthStart, type Accounting, type RunUsage, type TeamUsage } from "./accounting";
import { listClusterQueues, listLocalQueues, listWorkloads, type DashboardApi } from "./api";
import type { ArtifactSource, RunStore } from "./artifacts";
import { curveOf, curveOfHistory, withStoredHistory, type Curve } from "./epochs";
import type { ClusterQueue, LocalQueue, Workload } from "./kueue";
import { poolAllocations, type PoolAllocation } from "./pools";
import { queueViews, type QueueView } from "./queues";
import { filterRuns, paginate, podWait, runRows, workloadsByJob, type Page, type RunFilter, type RunRow } from "./runs";
import { RUN_SELECTOR, TRAINER_CONTAINER } from "../../../contract/labels";

/** Log lines read for a run page's curve (the trainer logs one per epoch plus a few events). */
export const LOG_TAIL_LINES = 5000;
/** How long a snapshot is reused: rebuilt from the watch cache in memory, else listed again. */
export const SNAPSHOT_TTL_MS = 3000;
const STORED_CURVE_NOTE = "from metrics.json in the store: the run's pods are gone";

/**
 * A run's curve from its newest pod's log and, once it finished, its stored history (null before): the
 * store's alone when its pods are gone, else the log's epoch lines over the stored ones.
 */
function runCurve(log: { text: string | null; note: string | null }, stored: Curve | null) {
  if (log.text === null && stored) return { curve: stored, note: STORED_CURVE_NOTE };
  return { curve: withStoredHistory(curveOf(log.text ?? ""), stored), note: log.note };
}

/** bestMetric() of a curve's epoch lines, null without any. */
const bestOfCurve = (c: Curve | null) =>
  c?.epochs.length ? (bestMetric(c.epochs.map((e) => JSON.stringify(e)).join("\n")) ?? null) : null;
/** A run page shows without its outputs rather than wait longer than this for the store. */
export const STORE_TIMEOUT_MS = 4000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface RunListRow extends RunRow {
  readonly bestMetric: string | null;
  readonly usage: RunUsage | null;
}

export interface RunsPage {
  readonly page: Page<RunListRow>;
  readonly namespaces: string[];
  readonly counts: Partial<Record<RunPhase, number>>;
  /** Why cost or metric columns are empty, when they failed. */
  readonly notes: string[];
}

export interface RunDetail {
  readonly row: RunListRow;
  readonly job: RunObject;
  readonly pods: V1Pod[];
  readonly workload: Workload | null;
  /** Sweep point shown (Indexed Jobs), else null. */
  readonly index: number | null;
  readonly curve: Curve;
  readonly logNote: string | null;
  readonly store: {
    uri: string | null;
    note: string | null;
    run: Record<string, unknown> | null;
    metrics: Record<string, unknown> | null;
  };
}

interface Snapshot {
  readonly at: number;
  readonly jobs: RunObject[];
  readonly byKey: Map<string, RunObject>;
  readonly rows: RunRow[];
  readonly workloads: Workload[];
  readonly localQueues: LocalQueue[];
  readonly clusterQueues: ClusterQueue[];
  /** Run pods (RUN_POD_SELECTOR) of the scope. */
  readonly pods: readonly V1Pod[];
}

export interface DashboardOptions {
  readonly api: DashboardApi;
  readonly accounting: Accounting | null;
  readonly artifacts: ArtifactSource | null;
  /** Only this namespace (-n); undefined = every namespace. */
  readonly namespace?: string;
  readonly now: () => Date;
  readonly ttlMs?: number;
  readonly storeTimeoutMs?: number;
  /** Watches to serve pages from (informers.ts); without them every snapshot is listed. */
  readonly sources?: CacheSources;
}

/**
 * Per run: why its newest pod has not started, and a finished run's best metric from that pod's termination
 * message (pure: from the snapshot's pods, no request). A run whose pods are gone, or whose image writes no
 * message, has none in the list; its own page reads the log, else the store.
 */
export function podExtras(
  jobs: readonly RunObject[],
  pods: readonly V1Pod[],
): { best: string | null; podWait: string | null }[] {
  const newest = newestPodOfRuns(jobs, pods);
  return jobs.map((job) => {
    const pod = newest.get(keyOf(job.metadata?.namespace ?? "", job.metadata?.name ?? ""));
    // A suspended Job has no pods to look at.
    if (job.spec?.suspend || !pod) return { best: null, podWait: null };
    if (isFinished(job)) return { best: bestMetricOfPod(pod) ?? null, podWait: null };
    return { best: null, podWait: podWait([pod]) };
  });
}

/** A page or API answer that is not there (404) or not allowed. */
export class NotFound extends Error {}

const keyOf = (ns: string, name: string) => `${ns}/${name}`;
const newestFirst = (pods: V1Pod[]) =>
  [...pods].sort(
    (a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
  );

export class DashboardData {
  private snapshot?: Snapshot;
  private loading?: Promise<Snapshot>;
  private readonly cache?: ClusterCache;
  private started?: Promise<void>;

  constructor(private readonly o: DashboardOptions) {
    if (o.sources) this.cache = new ClusterCache(o.sources);
  }

  /** Starts the watches and waits for their first lists (or takes the first snapshot); fails when runs cannot be read. */
  async start(): Promise<void> {
    this.started ??= (async () => {
      await this.cache?.start();
      await this.cluster();
    })();
    await this.started;
  }

  /** Stops the watches. */
  async close(): Promise<void> {
    await this.cache?.stop();
  }

  /** Where the accounting reads records and pods: the watch cache, else the API. */
  private get reads(): UsageReader {
    return this.cache ? cachedReads(this.cache, this.o.api) : this.o.api;
  }

  get scope(): string {
    return this.o.namespace ? `namespace ${this.o.namespace}` : "all namespaces";
  }

  private wrap(err: unknown, attempting: string, namespace = this.o.namespace ?? "default"): CliError {
    if (err instanceof CliError) return err;
    return explainApiError(err, { attempting, server: this.o.api.server, namespace });
  }

  /** Jobs, Workloads and queues, refreshed at most every ttlMs; concurrent callers share one load. */
  async cluster(): Promise<Snapshot> {
    const ttl = this.o.ttlMs ?? SNAPSHOT_TTL_MS;
    if (this.snapshot && Date.now() - this.snapshot.at < ttl) return this.snapshot;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    this.snapshot = await this.loading;
    return this.snapshot;
  }

  private runsError(err: unknown): CliError {
    if (!this.o.namespace && statusCode(err) === 403)
      return new CliError(
        `listing runs in all namespaces: forbidden (403): ${apiMessage(err)}; show one team's namespace instead: kubectl kiln dashboard -n <namespace>`,
      );
    return this.wrap(err, `listing runs in ${this.scope}`);
  }

  /** The snapshot from the watch cache: no request. */
  private fromCache(cache: ClusterCache): Snapshot {
    // Runs never listed (forbidden, unreachable): there is nothing to show; the watch retries unless forbidden.
    if (!cache.synced("jobs")) throw this.runsError(cache.error("jobs") ?? new Error("runs not listed yet"));
    const jobs = sortRuns<RunObject>([...cache.items("jobs"), ...cache.items("jobSets")]);
    return this.assemble(jobs, {
      workloads: [...cache.items("workloads")],
      localQueues: [...cache.items("localQueues")],
      clusterQueues: [...cache.items("clusterQueues")],
      pods: cache.items("pods"),
    });
  }

  private assemble(jobs: RunObject[], o: Omit<Snapshot, "at" | "jobs" | "byKey" | "rows">): Snapshot {
    const rows = runRows(jobs, o);
    const byKey = new Map(jobs.map((j) => [keyOf(j.metadata?.namespace ?? "", j.metadata?.name ?? ""), j]));
    return { at: Date.now(), jobs, byKey, rows, ...o };
  }

  private async load(): Promise<Snapshot> {
    if (this.cache) return this.fromCache(this.cache);
    const api = this.o.api;
    const ns = this.o.namespace;
    let jobs: RunObject[];
    try {
      jobs = await listRuns(api, ns);
    } catch (err) {
      throw this.runsError(err);
    }
    // Queues are optional: a cluster without Kueue, or a user who may not read them, still sees runs.
    const optional = async <T>(what: string, f: () => Promise<T[]>): Promise<T[]> => {
      try {
        return await f();
      } catch (err) {
        const code = statusCode(err);
        if (code === 404 || code === 403) return [];
        throw this.wrap(err, what);
      }
    };
    const [workloads, localQueues, clusterQueues, pods] = await Promise.all([
      optional("listing Kueue Workloads", () => listWorkloads(api, ns)),
      optional("listing Kueue LocalQueues", () => listLocalQueues(api, ns)),
      optional("listing Kueue ClusterQueues", () => listClusterQueues(api)),
      optional("listing the runs' pods", () => api.listPods(ns, RUN_POD_SELECTOR)),
    ]);
    return this.assemble(jobs, { workloads, localQueues, clusterQueues, pods });
  }

  async runs(filter: RunFilter, page: number, size: number): Promise<RunsPage> {
    const snap = await this.cluster();
    const matching = filterRuns(snap.rows, filter);
    const p = paginate(matching, page, size);
    const counts: Partial<Record<RunPhase, number>> = {};
    for (const r of filterRuns(snap.rows, { ...filter, phase: undefined }))
      counts[r.phase] = (counts[r.phase] ?? 0) + 1;
    const jobs = p.items.map((r) => snap.byKey.get(keyOf(r.namespace, r.name))!);
    const notes: string[] = [];
    const extras = podExtras(jobs, snap.pods);
    const usage = await this.usageOf(jobs, notes);
    return {
      page: {
        ...p,
        items: p.items.map((r, i) => ({
          ...r,
          waitReason: r.waitReason ?? extras[i].podWait,
          bestMetric: extras[i].best,
          usage: usage.get(keyOf(r.namespace, r.name)) ?? null,
        })),
      },
      namespaces: [...new Set(snap.rows.map((r) => r.namespace))].sort(),
      counts,
      notes,
    };
  }

  private async usageOf(jobs: RunObject[], notes: string[]): Promise<Map<string, RunUsage>> {
    if (!this.o.accounting || jobs.length === 0) return new Map();
    try {
      return await this.o.accounting.usageOfRuns(this.reads, jobs, this.o.now());
    } catch (err) {
      notes.push(`cost unavailable: ${this.wrap(err, "computing GPU-hours and cost").message}`);
      return new Map();
    }
  }

  /** The newest pod of a run (of sweep point `index`) and its trainer log; text null when there is no started pod. */
  private async newestLog(
    job: RunObject,
    index: number | undefined,
  ): Promise<{ pods: V1Pod[]; text: string | null; note: string | null }> {
    const ns = job.metadata!.namespace!;
    // A JobSet's: rank `index` (default 0) of its current restart attempt.
    const selector = podSelector(job, index);
    const pods = newestFirst(await this.o.api.listPods(ns, selector));
    const started = pods.find((p) => p.status?.phase && p.status.phase !== "Pending");
    if (!started)
      return { pods, text: null, note: pods.length ? `pod ${pods[0].metadata?.name} has not started` : "no pods yet" };
    try {
      return {
        pods,
        text: await this.o.api.readLog(ns, started.metadata!.name!, TRAINER_CONTAINER, LOG_TAIL_LINES),
        note: null,
      };
    } catch (err) {
      return { pods, text: null, note: this.wrap(err, `reading the log of pod ${started.metadata?.name}`, ns).message };
    }
  }

  private async job(ns: string, name: string): Promise<RunObject> {
    if (this.o.namespace && ns !== this.o.namespace)
      throw new NotFound(`the dashboard shows namespace ${this.o.namespace} only`);
    const cached = (await this.cluster()).byKey.get(keyOf(ns, name));
    if (cached) return cached;
    try {
      const job = await getRun(this.o.api, ns, name, {
        attempting: `reading run ${name} in namespace ${ns}`,
        server: this.o.api.server,
        namespace: ns,
        notFound: `no run ${name} in namespace ${ns}`,
      }).catch((err: Error) => {
        if (/no run |is one attempt of run /.test(err.message))
          throw new NotFound(err.message.replace(/^reading run \S+ in namespace \S+: /, ""));
        throw err;
      });
      if (!RUN_SELECTOR.split(",").every((kv) => job.metadata?.labels?.[kv.split("=")[0]] === kv.split("=")[1]))
        throw new NotFound(`Job ${ns}/${name} is not a Kiln training run`);
      return job;
    } catch (err) {
      if (err instanceof NotFound) throw err;
      if (statusCode(err) === 404) throw new NotFound(`no run ${name} in namespace ${ns}`);
      throw this.wrap(err, `reading run ${name} in namespace ${ns}`, ns);
    }
  }

  /** Sweep point (or a JobSet's rank) to show: the one asked for, else 0 for Indexed Jobs and JobSets; refused outside the sweep. */
  private indexOf(job: RunObject, asked: number | undefined): number | undefined {
    if (isJobSet(job)) {
      if (asked !== undefined && asked >= nodesOf(job))
        throw new NotFound(`run ${job.metadata?.name} has ranks 0..${nodesOf(job) - 1}`);
      return asked ?? 0;
    }
    if (job.spec?.completionMode !== "Indexed") return undefined;
    const n = job.spec.completions ?? 1;
    if (asked !== undefined && asked >= n) throw new NotFound(`run ${job.metadata?.name} has sweep points 0..${n - 1}`);
    return asked ?? 0;
  }

  async curve(
    ns: string,
    name: string,
    asked?: number,
  ): Promise<{ curve: Curve; note: string | null; finished: boolean }> {
    const job = await this.job(ns, name);
    const index = this.indexOf(job, asked);
    const finished = isFinished(job);
    const [log, stored] = await Promise.all([
      this.newestLog(job, index).catch((err) => Promise.reject(this.wrap(err, `listing pods of run ${name}`, ns))),
      finished ? this.storedCurve(job, index) : null,
    ]);
    return { ...runCurve(log, stored), finished };
  }

  /** A finished run's curve from metrics.json in the store (its pods may be gone), null when not there. */
  private async storedCurve(job: RunObject, index: number | undefined): Promise<Curve | null> {
    if (!this.o.artifacts) return null;
    try {
      const store = await this.o.artifacts.open(job, index);
      const body = await withTimeout(
        store.get("metrics.json"),
        this.o.storeTimeoutMs ?? STORE_TIMEOUT_MS,
        "store timeout",
      );
      return body ? curveOfHistory((JSON.parse(body.toString("utf8")) as { history?: unknown }).history) : null;
    } catch {
      return null;
    }
  }

  async run(ns: string, name: string, asked?: number): Promise<RunDetail> {
    const job = await this.job(ns, name);
    const index = this.indexOf(job, asked);
    const snap = await this.cluster();
    const row = snap.rows.find((r) => r.namespace === ns && r.name === name) ?? runRows([job], snap)[0];
    const [log, usage, store] = await Promise.all([
      this.newestLog(job, index).catch((err) => Promise.reject(this.wrap(err, `listing pods of run ${name}`, ns))),
      this.usageOf([job], []),
      this.storeSummary(job, index),
    ]);
    const { curve, note } = runCurve(log, isFinished(job) ? curveOfHistory(store.metrics?.history) : null);
    const workload = workloadsByJob([job], snap.workloads).get(keyOf(ns, name)) ?? null;
    return {
      row: {
        ...row,
        waitReason: row.waitReason ?? (isFinished(job) ? null : podWait(log.pods)),
        bestMetric: bestOfCurve(curve),
        usage: usage.get(keyOf(ns, name)) ?? null,
      },
      job,
      pods: log.pods,
      workload,
      index: index ?? null,
      curve,
      logNote: note,
      store,
    };
  }

  private async storeSummary(job: RunObject, index: number | undefined): Promise<RunDetail["store"]> {
    if (!this.o.artifacts)
      return { uri: null, note: "the object store is not reachable from this dashboard", run: null, metrics: null };
    let store: RunStore;
    try {
      store = await this.o.artifacts.open(job, index);
    } catch (err) {
      return {
        uri: null,
        note: `cannot work out the run's output location: ${(err as Error).message.split("\n")[0]}`,
        run: null,
        metrics: null,
      };
    }
    const json = async (key: string) => {
      const b = await store.get(key);
      return b ? (JSON.parse(b.toString("utf8")) as Record<string, unknown>) : null;
    };
    try {
      const [run, metrics] = await withTimeout(
        Promise.all([json("run.json"), json("metrics.json")]),
        this.o.storeTimeoutMs ?? STORE_TIMEOUT_MS,
        `the store did not answer within ${(this.o.storeTimeoutMs ?? STORE_TIMEOUT_MS) / 1000} s`,
      );
      return {
        uri: store.uri,
        note: run ? null : "no run.json yet: the run has not written its outputs",
        run,
        metrics,
      };
    } catch (err) {
      return {
        uri: store.uri,
        note: `cannot read the store at ${store.uri}: ${(err as Error).message.split("\n")[0]}`,
        run: null,
        metrics: null,
      };
    }
  }

  /** One artifact of a run from the store, undefined when absent. */
  async artifact(ns: string, name: string, asked: number | undefined, key: string): Promise<Buffer | undefined> {
    const job = await this.job(ns, name);
    if (!this.o.artifacts) throw new NotFound("the object store is not reachable from this dashboard");
    const store = await this.o.artifacts.open(job, this.indexOf(job, asked));
    return store.get(key);
  }

  async queues(): Promise<QueueView[]> {
    const snap = await this.cluster();
    return queueViews(snap.clusterQueues, snap.localQueues);
  }

  async pools(): Promise<PoolAllocation[]> {
    const api = this.o.api;
    try {
      const [nodes, pods] = await Promise.all([
        api.listNodes(),
        api.listPodsAllNamespaces("status.phase!=Succeeded,status.phase!=Failed"),
      ]);
      return poolAllocations(nodes, pods);
    } catch (err) {
      // The kubeconfig's own role decides; a team role (kiln-submitter) reads neither nodes nor other namespaces.
      if (statusCode(err) === 403)
        throw new CliError(
          `listing nodes and pods for GPU allocation: forbidden (403): ${apiMessage(err)}; this page needs cluster-wide read access to nodes and pods`,
        );
      throw this.wrap(err, "listing nodes and pods for GPU allocation");
    }
  }

  async teams(): Promise<{ teams: TeamUsage[]; since: Date } | null> {
    if (!this.o.accounting) return null;
    const now = this.o.now();
    const since = monthStart(now);
    try {
      return {
        teams: await this.o.accounting.usageOfTeams(this.reads, {
          namespaces: this.o.namespace ? [this.o.namespace] : undefined,
          since,
          now,
        }),
        since,
      };
    } catch (err) {
      if (statusCode(err) === 403 && !this.o.namespace)
        throw new CliError(
          `summing team usage in all namespaces: forbidden (403): ${apiMessage(err)}; show one team's namespace instead: kubectl kiln dashboard -n <namespace>`,
        );
      throw this.wrap(err, "summing team usage");
    }
  }
}
