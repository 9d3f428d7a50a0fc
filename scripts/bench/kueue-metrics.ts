/**
 * Kueue's own view of where time went, from its /metrics (HTTPS with a bearer token: controller-runtime's
 * authenticated metrics; scripts/bench/cluster.sh makes a ServiceAccount that may read them): per
 * controller, reconciles, their mean time and its workers, so the bench can say whether a controller's
 * throughput (workers / mean reconcile time) bounds the admission pipeline.
 */
import { httpsText } from "./https-text";

export interface ControllerFigure {
  readonly controller: string;
  readonly reconciles: number;
  readonly meanSeconds: number;
  readonly workers: number;
  /** workers / meanSeconds: reconciles per second it can do at that latency. */
  readonly capacityPerSecond: number;
}

/** Samples of one metric family from Prometheus text: label set (as written) -> value. */
export function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "gm");
  for (const m of text.matchAll(re)) out.set(m[1] ?? "", Number(m[2]));
  return out;
}

const controllerOf = (labels: string) => /controller="([^"]+)"/.exec(labels)?.[1];

export function controllerFigures(text: string): ControllerFigure[] {
  const sums = samples(text, "controller_runtime_reconcile_time_seconds_sum");
  const counts = samples(text, "controller_runtime_reconcile_time_seconds_count");
  const workers = new Map(
    [...samples(text, "controller_runtime_max_concurrent_reconciles")].map(([l, v]) => [controllerOf(l), v]),
  );
  const out: ControllerFigure[] = [];
  for (const [labels, count] of counts) {
    const controller = controllerOf(labels);
    if (!controller || count === 0) continue;
    const meanSeconds = (sums.get(labels) ?? NaN) / count;
    const w = workers.get(controller) ?? NaN;
    out.push({ controller, reconciles: count, meanSeconds, workers: w, capacityPerSecond: w / meanSeconds });
  }
  return out.sort((a, b) => b.reconciles * b.meanSeconds - a.reconciles * a.meanSeconds);
}

/** The metrics text, or undefined (with the reason on stderr) when it cannot be read. */
export function fetchKueueMetrics(port: number, token: string): Promise<string | undefined> {
  // Kueue serves its metrics with a self-signed certificate (internal cert management).
  return httpsText(
    new URL(`https://127.0.0.1:${port}/metrics`),
    { headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 30_000 },
    "Kueue metrics",
  );
}
