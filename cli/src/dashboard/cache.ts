/**
 * The dashboard's objects kept current by watches (client-node informers), so a page never waits on a
 * list after the first: run Jobs and JobSets, Kueue's Workloads and queues, run pods and the accountant's
 * usage ConfigMaps. A kind the user may not read, or that the cluster lacks (403/404: no Kueue, no JobSet
 * CRD), reads as empty with its error kept; any other failure of a list or watch restarts it after a pause.
 */
import type { Informer, KubernetesObject, ObjectCache, V1ConfigMap, V1Job, V1Pod } from "@kubernetes/client-node";
import { statusCode } from "../errors";
import type { JobSet } from "../jobset";
import type { ClusterQueue, LocalQueue, Workload } from "./kueue";

/** An informer (client-node's ListWatch) or a test's stand-in. */
export type Source<T extends KubernetesObject> = Informer<T> & Pick<ObjectCache<T>, "list">;

/** What the dashboard watches; each source lists and watches with the selector of its kind. */
export interface CacheSources {
  jobs(): Source<V1Job>;
  jobSets(): Source<JobSet & KubernetesObject>;
  workloads(): Source<Workload & KubernetesObject>;
  localQueues(): Source<LocalQueue & KubernetesObject>;
  clusterQueues(): Source<ClusterQueue & KubernetesObject>;
  pods(): Source<V1Pod>;
  usageConfigMaps(): Source<V1ConfigMap>;
}

export type Kind = keyof CacheSources;

/** A 403 or 404 from the first list: the kind is not there for this user, and no retry will change that. */
const isTerminal = (err: unknown) => [403, 404].includes(statusCode(err) ?? 0);

class Watched<T extends KubernetesObject> {
  /** The error that made the kind unavailable (403/404), or the last transient one. */
  error?: unknown;
  unavailable = false;
  /** A first list has come in: the objects are there even while a watch restarts. */
  synced = false;
  private restart?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    readonly source: Source<T>,
    private readonly restartMs: number,
  ) {
    source.on("error", (err?: unknown) => {
      if (this.stopped) return;
      this.error = err;
      if (isTerminal(err)) {
        this.unavailable = true;
        return;
      }
      this.restart ??= setTimeout(() => {
        this.restart = undefined;
        void this.start();
      }, this.restartMs);
    });
  }

  /** Lists (then watches); resolves once the first list is in, or failed. */
  async start(): Promise<void> {
    if (this.stopped) return;
    this.error = undefined;
    this.unavailable = false;
    await this.source.start();
    // The informer reports a failed list through "error", not by rejecting start().
    if (this.error === undefined) this.synced = true;
  }

  items(): readonly T[] {
    return this.unavailable ? [] : this.source.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restart);
    await this.source.stop();
  }
}

export class ClusterCache {
  private readonly kinds: { [K in Kind]: Watched<ReturnType<CacheSources[K]> extends Source<infer T> ? T : never> };

  constructor(sources: CacheSources, restartMs = 5000) {
    const w = <T extends KubernetesObject>(s: Source<T>) => new Watched(s, restartMs);
    this.kinds = {
      jobs: w(sources.jobs()),
      jobSets: w(sources.jobSets()),
      workloads: w(sources.workloads()),
      localQueues: w(sources.localQueues()),
      clusterQueues: w(sources.clusterQueues()),
      pods: w(sources.pods()),
      usageConfigMaps: w(sources.usageConfigMaps()),
    };
  }

  /** Starts every watch and waits for their first lists. */
  async start(): Promise<void> {
    await Promise.all(Object.values(this.kinds).map((k) => k.start()));
  }

  /** The kind's objects now (empty while unavailable). */
  items<K extends Kind>(kind: K) {
    return this.kinds[kind].items();
  }

  /** Why a kind's list failed (403/404 or a transient failure), undefined when it is current. */
  error(kind: Kind): unknown {
    return this.kinds[kind].error;
  }

  /** Whether the kind's objects have been listed at least once. */
  synced(kind: Kind): boolean {
    return this.kinds[kind].synced;
  }

  /** Whether the kind is unavailable for good (403/404). */
  unavailable(kind: Kind): boolean {
    return this.kinds[kind].unavailable;
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.kinds).map((k) => k.stop()));
  }
}
