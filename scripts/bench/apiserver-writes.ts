/**
 * Which writes load the API server: its apiserver_request_total counters (by resource, subresource and
 * verb) read before and after the bench, the mutating verbs summed per resource. The API server's CPU
 * goes mostly to writes (GuaranteedUpdate, managedFields, encoding), so this says whose writes a run costs:
 * pods/status is the (simulated) kubelet, pods/binding the scheduler, jobs/status the Job controller,
 * workloads/status Kueue, events everyone, leases the nodes' heartbeats.
 */
import type * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { httpsText } from "./https-text";
import { samples } from "./kueue-metrics";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE", "APPLY"]);

/** Mutating requests per `resource[/subresource]` (core resources bare, others `group:resource`). */
export function writesByResource(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [labels, value] of samples(metricsText, "apiserver_request_total")) {
    const label = (k: string) => new RegExp(`[{,]${k}="([^"]*)"`).exec(labels)?.[1] ?? "";
    if (!MUTATING.has(label("verb"))) continue;
    const group = label("group");
    const sub = label("subresource");
    const key = `${group ? `${group}:` : ""}${label("resource")}${sub ? `/${sub}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

export interface WriteFigures {
  readonly total: number;
  /** Resources by writes during the window, most first. */
  readonly byResource: readonly { readonly resource: string; readonly writes: number }[];
}

/** The writes between two readings of the counters (an API server restart in between reads as fewer). */
export function writesBetween(before: Map<string, number>, after: Map<string, number>): WriteFigures {
  const byResource = [...after]
    .map(([resource, n]) => ({ resource, writes: Math.max(0, n - (before.get(resource) ?? 0)) }))
    .filter((r) => r.writes > 0)
    .sort((a, b) => b.writes - a.writes || a.resource.localeCompare(b.resource));
  return { total: byResource.reduce((a, r) => a + r.writes, 0), byResource };
}

/** The API server's /metrics with the kubeconfig's credentials, or undefined (reason on stderr). */
export async function fetchApiserverMetrics(kc: KubeConfig): Promise<string | undefined> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) return undefined;
  const opts: https.RequestOptions = { timeout: 60_000 };
  await kc.applyToHTTPSOptions(opts);
  return httpsText(new URL("/metrics", server), opts, "API server /metrics");
}
