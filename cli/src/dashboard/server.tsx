/**
 * The dashboard's HTTP server: GET pages rendered with React on the server, a JSON API for the same data,
 * the run page's bundled script. Loopback only, answers only requests addressed to its own host name
 * (no DNS rebinding), sends no CORS headers and proxies nothing to the API server: every route reads
 * one fixed kind of object through the data layer.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { ReactElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { CliError, UsageError } from "../errors";
import { validateDnsLabel } from "../job";
import type { RunPhase } from "../rows";
import { ARTIFACTS } from "./artifacts";
import { loadAssets, type Assets } from "./assets";
import { ErrorPageView } from "./pages/error";
import { GpusPageView } from "./pages/gpus";
import { QueuesPageView } from "./pages/queues";
import { RunPageView } from "./pages/run";
import { RunsPageView } from "./pages/runs";
import { TeamsPageView } from "./pages/teams";
import { PHASES, type RunFilter } from "./runs";
import { NotFound, type DashboardData } from "./service";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** The trainer's report.html runs no script; sandboxed so nothing in it acts with the dashboard's origin. */
const REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

export interface DashboardServerOptions {
  readonly data: DashboardData;
  readonly server: string;
  readonly now: () => Date;
  readonly address: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly assets?: Assets;
}

export interface RunningDashboard {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Answer = { status: number; type: string; body: string | Buffer; headers?: Record<string, string> };

const html = (el: ReactElement, status = 200): Answer => ({
  status,
  type: "text/html; charset=utf-8",
  body: `<!DOCTYPE html>${renderToStaticMarkup(el)}`,
});
const json = (value: unknown, status = 200): Answer => ({
  status,
  type: "application/json; charset=utf-8",
  body: JSON.stringify(value),
});

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new HttpError(400, `${name}=${v} must be a whole number from ${min} to ${max}`);
  return Number(v);
}

/** status, namespace, q (name substring), page, size from the query string. */
export function runQuery(q: URLSearchParams): { filter: RunFilter; page: number; size: number } {
  const status = q.get("status") || undefined;
  if (status && !PHASES.includes(status as RunPhase))
    throw new HttpError(400, `status=${status} is not one of ${PHASES.join(", ")}`);
  const namespace = q.get("namespace") || undefined;
  if (namespace) segment("namespace", namespace);
  const name = (q.get("q") ?? "").trim().slice(0, 63) || undefined;
  return {
    filter: { phase: status as RunPhase | undefined, namespace, name },
    page: intParam(q, "page", 1, 1_000_000) ?? 1,
    size: intParam(q, "size", 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE,
  };
}

function segment(what: string, v: string): string {
  try {
    validateDnsLabel(what, v);
  } catch (err) {
    if (err instanceof UsageError) throw new HttpError(400, err.message);
    throw err;
  }
  return v;
}

/** Host names this server answers to on `port`. */
const allowedHosts = (port: number, address: string) =>
  new Set([
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `[::1]:${port}`,
    `${address.includes(":") ? `[${address}]` : address}:${port}`,
  ]);

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

export async function startDashboard(o: DashboardServerOptions): Promise<RunningDashboard> {
  if (!isLoopback(o.address))
    throw new UsageError(
      `--address ${o.address} is not a loopback address: the dashboard serves your cluster credentials' view only to this machine (use 127.0.0.1, ::1 or localhost; for another machine, use ssh -L)`,
    );
  const assets = o.assets ?? loadAssets();
  const { data } = o;
  const frame = () => ({ scope: data.scope, server: o.server });
  let hosts = new Set<string>();

  async function route(url: URL): Promise<Answer> {
    const q = url.searchParams;
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const now = o.now();
    const api = parts[0] === "api";
    const p = api ? parts.slice(1) : parts;
    if (!api && p[0] === "assets" && p.length === 2) {
      if (p[1] === "dashboard.js") return { status: 200, type: "text/javascript; charset=utf-8", body: assets.js };
      if (p[1] === "dashboard.css") return { status: 200, type: "text/css; charset=utf-8", body: assets.css };
    }
    // Browsers ask for it on every page; there is none.
    if (!api && p.length === 1 && p[0] === "favicon.ico") return { status: 204, type: "image/x-icon", body: "" };
    if (p.length === 0 || (p.length === 1 && p[0] === "runs")) {
      const { filter, page, size } = runQuery(q);
      const runs = await data.runs(filter, page, size);
      return api ? json(runs) : html(<RunsPageView data={runs} filter={filter} now={now} {...frame()} />);
    }
    if (p[0] === "runs" && p.length >= 3) {
      const ns = segment("namespace", p[1]);
      const name = segment("run name", p[2]);
      const index = intParam(q, "index", 0, 100_000);
      if (p.length === 3 && !api)
        return html(<RunPageView detail={await data.run(ns, name, index)} now={now} {...frame()} />);
      if (p.length === 3 && api) {
        const d = await data.run(ns, name, index);
        return json({ ...d.row, index: d.index, curve: d.curve, store: d.store });
      }
      if (p.length === 4 && p[3] === "curve" && api) return json(await data.curve(ns, name, index));
      const key = p.slice(4).join("/");
      if (!api && p[3] === "artifacts" && ARTIFACTS[key]) {
        const body = await data.artifact(ns, name, index, key);
        if (!body) throw new HttpError(404, `${key} is not in the store (yet) for run ${name}`);
        const headers: Record<string, string> = key === "report.html" ? { "content-security-policy": REPORT_CSP } : {};
        if (key === "model/weights.bin") headers["content-disposition"] = `attachment; filename="${name}-weights.bin"`;
        return { status: 200, type: ARTIFACTS[key], body, headers };
      }
    }
    if (p.length === 1 && p[0] === "queues") {
      const queues = await data.queues();
      return api ? json(queues) : html(<QueuesPageView queues={queues} {...frame()} />);
    }
    if (p.length === 1 && p[0] === "gpus") {
      const pools = await data.pools();
      return api ? json(pools) : html(<GpusPageView pools={pools} {...frame()} />);
    }
    if (p.length === 1 && p[0] === "teams") {
      const usage = await data.teams();
      return api ? json(usage) : html(<TeamsPageView usage={usage} {...frame()} />);
    }
    throw new HttpError(404, `no page ${url.pathname}`);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (a: Answer) => {
      res.writeHead(a.status, {
        "content-type": a.type,
        "content-length": Buffer.byteLength(a.body),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "content-security-policy": PAGE_CSP,
        ...a.headers,
      });
      res.end(req.method === "HEAD" ? undefined : a.body);
    };
    const apiPath = (req.url ?? "").startsWith("/api/");
    const fail = (status: number, message: string) =>
      send(
        apiPath
          ? json({ error: message }, status)
          : html(<ErrorPageView status={status} message={message} {...frame()} />, status),
      );
    if (!hosts.has(req.headers.host ?? "")) return fail(421, `this server answers only to ${[...hosts].join(", ")}`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return fail(405, `${req.method} is not allowed: the dashboard is read-only`);
    }
    try {
      send(await route(new URL(req.url ?? "/", `http://${req.headers.host}`)));
    } catch (err) {
      if (err instanceof HttpError) return fail(err.status, err.message);
      if (err instanceof NotFound) return fail(404, err.message);
      if (err instanceof URIError) return fail(400, "malformed URL");
      return fail(502, err instanceof CliError ? err.message : `unexpected error: ${(err as Error).message}`);
    }
  }

  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "EADDRINUSE"
          ? new CliError(`port ${o.port} on ${o.address} is in use; pick another with --port`)
          : new CliError(`starting the dashboard on ${o.address}:${o.port}: ${err.message}`),
      ),
    );
    server.listen(o.port, o.address, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(port, o.address);
  return {
    url: `http://${o.address.includes(":") ? `[${o.address}]` : o.address}:${port}/`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // The watches end with the server.
      await data.close();
    },
  };
}
