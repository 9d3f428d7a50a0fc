/**
 * kiln-accountant's probes over HTTP: /healthz (liveness) answers 200 while the loop turns, i.e. a pass began
 * or ended within the bound (3 intervals, at least 2 minutes: a first pass over a big cluster writes many
 * records); /readyz (readiness) answers 200 once every watch has listed and the last pass succeeded.
 * Anything else is 503 with the reason, or 404.
 */
import * as http from "node:http";

export interface HealthOptions {
  readonly intervalSeconds: number;
  /** Every watch has listed once. */
  readonly synced: () => boolean;
  readonly now?: () => number;
}

export interface Verdict {
  readonly ok: boolean;
  readonly reason: string;
}

export class Health {
  private readonly started: number;
  private lastBeat: number;
  private lastPass: { ok: boolean; error?: string } | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: HealthOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.lastBeat = this.started;
  }

  /** Milliseconds without a pass beginning or ending after which the loop counts as stuck. */
  get boundMs(): number {
    return Math.max(3 * this.opts.intervalSeconds * 1000, 120_000);
  }

  passStarted(): void {
    this.lastBeat = this.now();
  }

  passEnded(ok: boolean, error?: string): void {
    this.lastBeat = this.now();
    this.lastPass = { ok, error };
  }

  liveness(): Verdict {
    const quiet = this.now() - this.lastBeat;
    if (quiet > this.boundMs)
      return {
        ok: false,
        reason: `no pass has begun or ended for ${Math.round(quiet / 1000)} s (bound ${this.boundMs / 1000} s)`,
      };
    return { ok: true, reason: this.lastPass ? "passing" : "starting" };
  }

  readiness(): Verdict {
    if (!this.opts.synced()) return { ok: false, reason: "the watches have not listed every Job, pod and record yet" };
    if (!this.lastPass) return { ok: false, reason: "no pass has finished yet" };
    if (!this.lastPass.ok)
      return { ok: false, reason: `the last pass failed: ${this.lastPass.error ?? "unknown error"}` };
    return { ok: true, reason: "ready" };
  }

  /** Serves /healthz and /readyz on `port` (0: any free port); resolves once listening. */
  async listen(port: number, host?: string): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const v = path === "/healthz" ? this.liveness() : path === "/readyz" ? this.readiness() : undefined;
      if (!v) {
        res.writeHead(404, { "Content-Type": "text/plain" }).end("not found: /healthz, /readyz\n");
        return;
      }
      res.writeHead(v.ok ? 200 : 503, { "Content-Type": "text/plain" }).end(`${v.reason}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new Error(`health port ${port}: ${e.code === "EADDRINUSE" ? "in use (settings healthPort)" : e.message}`),
        ),
      );
      server.listen(port, host, resolve);
    });
    return server;
  }
}
