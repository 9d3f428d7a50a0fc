/**
 * One resource of a fake API server, watched through client-node's own ListWatch (the informer the
 * accountant runs): list, watch events, a dropped connection, and a resourceVersion too old to resume
 * from (410 Gone: the informer relists). Objects are JSON-copied on the way out, like a real response.
 */
import { ListWatch, type KubernetesObject, type Watch } from "@kubernetes/client-node";

type Callback = (phase: string, obj: unknown) => void;
type Done = (err: unknown) => void;

export class FakeResource<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private rv = 0;
  private listener?: { cb: Callback; done: Done };
  /** Events were lost while no watch was open: the next watch gets 410 Gone. */
  private missed = false;
  lists = 0;
  watches = 0;
  readonly informer: ListWatch<T>;

  constructor() {
    const watch = {
      watch: (_path: string, params: Record<string, string>, cb: Callback, done: Done) => this.watch(params, cb, done),
    } as unknown as Watch;
    this.informer = new ListWatch<T>("/fake", watch, async () => this.list(), false);
  }

  get connected(): boolean {
    return this.listener !== undefined;
  }

  /** Creates or replaces an object (by name) and tells the watch. */
  apply(obj: T): void {
    const name = obj.metadata!.name!;
    const phase = this.objects.has(name) ? "MODIFIED" : "ADDED";
    this.rv++;
    const stored = { ...copy(obj), metadata: { ...copy(obj).metadata, resourceVersion: String(this.rv) } } as T;
    this.objects.set(name, stored);
    this.send(phase, stored);
  }

  remove(name: string): void {
    const obj = this.objects.get(name);
    if (!obj) return;
    this.objects.delete(name);
    this.rv++;
    this.send("DELETED", { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } });
  }

  /** The connection breaks: the informer reports an error and waits to be restarted. */
  drop(): void {
    const l = this.listener;
    this.listener = undefined;
    l?.done(new Error("connection reset by peer"));
  }

  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  private send(phase: string, obj: T): void {
    if (this.listener) this.listener.cb(phase, copy(obj));
    else this.missed = true;
  }

  private async list() {
    this.lists++;
    return { items: [...this.objects.values()].map(copy), metadata: { resourceVersion: String(this.rv) } };
  }

  private async watch(params: Record<string, string>, cb: Callback, done: Done) {
    this.watches++;
    const controller = new AbortController();
    if (this.missed && params.resourceVersion) {
      this.missed = false;
      setImmediate(() => done(Object.assign(new Error("Gone"), { statusCode: 410 })));
      return controller;
    }
    this.missed = false;
    this.listener = { cb, done };
    controller.signal.addEventListener("abort", () => {
      if (this.listener?.cb === cb) this.listener = undefined;
    });
    return controller;
  }
}

const copy = <T>(o: T): T => JSON.parse(JSON.stringify(o)) as T;

/** Lets timers and promises run (the informers' restarts and relists). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setTimeout(r, 0));
}
