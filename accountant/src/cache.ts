/**
 * What a pass reads, kept in memory by watches (client-node informers) instead of listed on every pass:
 * the Jobs, pods and usage records of each team namespace, and the nodes.
 *
 * Jobs and pods are kept by UID. One that goes away (a DELETED event, a relist after a reconnect that no
 * longer has it, or a new object of the same name seen in its place) is kept as gone, with its last state
 * and the time it went, until a pass has recorded it: an attempt that starts and ends between two passes
 * still counts. Spans are keyed by pod UID, so an object seen twice (a resync) is never counted twice.
 */
import type {
  Informer,
  KubernetesObject,
  ObjectCache,
  V1ConfigMap,
  V1Job,
  V1Node,
  V1Pod,
} from "@kubernetes/client-node";

/** A Job or pod that went away, as last seen, and when its going was seen. */
export interface Gone<T> {
  readonly obj: T;
  readonly goneAt: string;
}

/** Jobs, pods and records of one namespace as a pass reads them. */
export interface NamespaceView {
  readonly jobs: readonly V1Job[];
  readonly pods: readonly V1Pod[];
  readonly records: readonly V1ConfigMap[];
  readonly goneJobs: readonly Gone<V1Job>[];
  readonly gonePods: readonly Gone<V1Pod>[];
}

export type Source<T extends KubernetesObject> = Informer<T> & Partial<ObjectCache<T>>;

/** The informers of one namespace, and of the nodes; made by informers.ts (or a test). */
export interface Sources {
  jobs(namespace: string): Source<V1Job>;
  pods(namespace: string): Source<V1Pod>;
  records(namespace: string): Source<V1ConfigMap>;
  nodes(): Source<V1Node>;
}

const uidOf = (o: KubernetesObject) => o.metadata?.uid ?? "";
const nameOf = (o: KubernetesObject) => o.metadata?.name ?? "";

/**
 * Drops what no pass reads (managed fields, annotations, the pod template, volumes, env) from an object
 * the informer keeps, in place: at 10,000 Jobs and pods the full objects would not fit the pod's memory.
 */
export function slim<T extends KubernetesObject>(kind: "job" | "pod" | "node" | "configmap", obj: T): T {
  const m = obj.metadata;
  if (m) {
    delete m.managedFields;
    if (kind !== "node" && kind !== "configmap") delete m.annotations;
  }
  if (kind === "job") delete (obj as V1Job).spec;
  if (kind === "pod") {
    const p = obj as V1Pod;
    if (p.spec)
      p.spec = {
        nodeName: p.spec.nodeName,
        nodeSelector: p.spec.nodeSelector,
        containers: p.spec.containers.map((c) => ({ name: c.name, resources: c.resources })),
      };
  }
  if (kind === "node") {
    const n = obj as V1Node;
    n.status = undefined;
    n.spec = undefined;
  }
  return obj;
}

/** Live objects of one kind by UID, and the gone ones not yet recorded. */
class Kept<T extends KubernetesObject> {
  readonly live = new Map<string, T>();
  private readonly byName = new Map<string, string>();
  readonly gone = new Map<string, Gone<T>>();

  constructor(private readonly now: () => Date) {}

  upsert(obj: T): void {
    const uid = uidOf(obj);
    const before = this.byName.get(nameOf(obj));
    // A new object under the same name (a Job recreated while the watch was down): the old one went.
    if (before !== undefined && before !== uid) this.remove(this.live.get(before)!);
    this.live.set(uid, obj);
    this.byName.set(nameOf(obj), uid);
    this.gone.delete(uid);
  }

  remove(obj: T): void {
    const uid = uidOf(obj);
    if (!this.live.has(uid)) return;
    this.live.delete(uid);
    if (this.byName.get(nameOf(obj)) === uid) this.byName.delete(nameOf(obj));
    // The DELETED event carries the final state; a relist's delete only the last state seen.
    this.gone.set(uid, { obj, goneAt: this.now().toISOString() });
  }
}

/** Usage records by name, with the accountant's own writes seen at once (their watch events come later). */
class Records {
  private readonly watched = new Map<string, V1ConfigMap>();
  /** Written (or deleted: null) by this process, until the watch shows that version. */
  private readonly own = new Map<string, V1ConfigMap | null>();

  fromWatch(cm: V1ConfigMap, deleted: boolean): void {
    const name = nameOf(cm);
    if (deleted) this.watched.delete(name);
    else this.watched.set(name, cm);
    if (!this.own.has(name)) return;
    const mine = this.own.get(name);
    if (deleted ? mine === null : mine !== null && !olderVersion(cm, mine!)) this.own.delete(name);
  }

  written(cm: V1ConfigMap): void {
    const name = nameOf(cm);
    if (
      this.watched.get(name)?.metadata?.resourceVersion === cm.metadata?.resourceVersion &&
      cm.metadata?.resourceVersion
    )
      this.own.delete(name);
    else this.own.set(name, cm);
  }

  deleted(name: string): void {
    if (this.watched.has(name)) this.own.set(name, null);
    else this.own.delete(name);
  }

  has(name: string): boolean {
    const mine = this.own.get(name);
    return mine === undefined ? this.watched.has(name) : mine !== null;
  }

  list(): V1ConfigMap[] {
    const out = new Map(this.watched);
    for (const [name, cm] of this.own) {
      if (cm === null) out.delete(name);
      else out.set(name, cm);
    }
    return [...out.values()];
  }
}

/** resourceVersions are opaque, but etcd's are integers: an event older than our own write must not win. */
function olderVersion(event: V1ConfigMap, mine: V1ConfigMap): boolean {
  const a = Number(event.metadata?.resourceVersion);
  const b = Number(mine.metadata?.resourceVersion);
  return Number.isInteger(a) && Number.isInteger(b) && a < b;
}

interface Watched {
  readonly what: string;
  readonly source: Source<KubernetesObject>;
  synced: boolean;
  /** The last watch error, until a restart succeeds. */
  error?: string;
  restart?: ReturnType<typeof setTimeout>;
}

export interface CacheOptions {
  /** The clock gone objects are stamped with. */
  readonly now?: () => Date;
  /** Milliseconds before a watch that failed is restarted (it resumes from its resourceVersion, else relists). */
  readonly restartMs?: number;
  /** Called on each watch error (a log line). */
  readonly onError?: (what: string, message: string) => void;
}

export class WatchCache {
  private readonly jobs = new Map<string, Kept<V1Job>>();
  private readonly pods = new Map<string, Kept<V1Pod>>();
  private readonly records = new Map<string, Records>();
  private readonly nodeMap = new Map<string, V1Node>();
  private readonly watched: Watched[] = [];
  private stopped = false;
  private readonly now: () => Date;

  constructor(
    private readonly namespaces: readonly string[],
    private readonly sources: Sources,
    private readonly opts: CacheOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Starts every watch; resolves when each has listed once (or failed: see `synced`, `errors`). */
  async start(): Promise<void> {
    for (const ns of this.namespaces) {
      const jobs = new Kept<V1Job>(this.now);
      const pods = new Kept<V1Pod>(this.now);
      const records = new Records();
      this.jobs.set(ns, jobs);
      this.pods.set(ns, pods);
      this.records.set(ns, records);
      this.wire(
        `jobs in ${ns}`,
        this.sources.jobs(ns),
        (o) => jobs.upsert(slim("job", o)),
        (o) => jobs.remove(slim("job", o)),
      );
      this.wire(
        `pods in ${ns}`,
        this.sources.pods(ns),
        (o) => pods.upsert(slim("pod", o)),
        (o) => pods.remove(slim("pod", o)),
      );
      this.wire(
        `usage records in ${ns}`,
        this.sources.records(ns),
        (o) => records.fromWatch(slim("configmap", o), false),
        (o) => records.fromWatch(o, true),
      );
    }
    this.wire(
      "nodes",
      this.sources.nodes(),
      (o) => this.nodeMap.set(nameOf(o), slim("node", o)),
      (o) => this.nodeMap.delete(nameOf(o)),
    );
    await Promise.all(this.watched.map((w) => this.startOne(w)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watched) clearTimeout(w.restart);
    await Promise.all(this.watched.map((w) => w.source.stop()));
  }

  /** Every watch has listed once: a pass sees the whole cluster. */
  get synced(): boolean {
    return this.watched.length > 0 && this.watched.every((w) => w.synced);
  }

  /** Watches down right now (restarting), one line each. */
  get errors(): string[] {
    return this.watched.filter((w) => w.error !== undefined).map((w) => `${w.what}: ${w.error}`);
  }

  nodes(): ReadonlyMap<string, V1Node> {
    return this.nodeMap;
  }

  view(namespace: string): NamespaceView {
    const jobs = this.kept(this.jobs, namespace);
    const pods = this.kept(this.pods, namespace);
    return {
      jobs: [...jobs.live.values()],
      pods: [...pods.live.values()],
      records: this.records.get(namespace)!.list(),
      goneJobs: [...jobs.gone.values()],
      gonePods: [...pods.gone.values()],
    };
  }

  /** The gone Jobs and pods of `view` are in the records now: keep them no longer. */
  forget(namespace: string, view: Pick<NamespaceView, "goneJobs" | "gonePods">): void {
    const jobs = this.kept(this.jobs, namespace);
    const pods = this.kept(this.pods, namespace);
    for (const g of view.goneJobs) if (jobs.gone.get(uidOf(g.obj)) === g) jobs.gone.delete(uidOf(g.obj));
    for (const g of view.gonePods) if (pods.gone.get(uidOf(g.obj)) === g) pods.gone.delete(uidOf(g.obj));
  }

  /** The accountant wrote this record (the API's answer, with its resourceVersion). */
  recordWritten(namespace: string, cm: V1ConfigMap): void {
    this.records.get(namespace)?.written(cm);
  }

  /** Whether the record exists, as far as the watch and this process's own writes know. */
  hasRecord(namespace: string, name: string): boolean {
    return this.records.get(namespace)?.has(name) === true;
  }

  recordDeleted(namespace: string, name: string): void {
    this.records.get(namespace)?.deleted(name);
  }

  private kept<T extends KubernetesObject>(map: Map<string, Kept<T>>, namespace: string): Kept<T> {
    const k = map.get(namespace);
    if (!k) throw new Error(`namespace ${namespace} is not watched (watched: ${this.namespaces.join(", ")})`);
    return k;
  }

  private wire<T extends KubernetesObject>(
    what: string,
    source: Source<T>,
    upsert: (o: T) => void,
    remove: (o: T) => void,
  ): void {
    const w: Watched = { what, source: source as unknown as Source<KubernetesObject>, synced: false };
    source.on("add", upsert);
    source.on("update", upsert);
    source.on("delete", remove);
    source.on("error", (err?: unknown) => {
      // stop() aborts every watch: not an error.
      if (this.stopped) return;
      w.error = err instanceof Error ? err.message : String(err);
      this.opts.onError?.(what, w.error);
      if (w.restart) return;
      w.restart = setTimeout(() => {
        w.restart = undefined;
        void this.startOne(w);
      }, this.opts.restartMs ?? 5000);
    });
    this.watched.push(w);
  }

  private async startOne(w: Watched): Promise<void> {
    if (this.stopped) return;
    w.error = undefined;
    await w.source.start();
    // The informer reports a failed list or watch through "error", not by rejecting start().
    if (w.error === undefined) w.synced = true;
  }
}
