/**
 * What a run used, from Kubernetes facts alone: each pod's GPUs and the time it held them (scheduled ->
 * finished), priced and powered from the same dated tables the offline plan uses (contract/catalog). Pure:
 * the accountant, the plugin and the dashboard all call these with objects they read.
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { FAMILY_FACTS, INSTANCE_PRICES, PRICES_AS_OF } from "../catalog/prices";
import { familyOf } from "../catalog/gpu-families";
import { GRID_INTENSITY_AS_OF, gridIntensity } from "../catalog/grid-intensity";
import { CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL, SIMULATED_NODE_ANNOTATION } from "./keys";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../gpu";

/** One pod's hold on its GPUs. Times are ISO strings (records are JSON). */
export interface PodSpan {
  readonly uid: string;
  readonly name: string;
  readonly node: string | null;
  readonly pool: string | null;
  readonly instanceType: string | null;
  readonly capacityType: string | null;
  readonly gpus: number;
  readonly start: string;
  /** null while the pod still holds its GPUs. */
  readonly end: string | null;
  /** The end was not seen (the pod vanished): counted until it was last seen. */
  readonly endEstimated?: boolean;
  /** Times come from a KWOK (simulated) node. */
  readonly simulated: boolean;
  /** Mean GPU utilisation 0..1 when one is known (DCGM); else board power is assumed. */
  readonly utilisation?: number;
}

export interface Figures {
  readonly gpuHours: number;
  /** null when no span could be priced. */
  readonly usd: number | null;
  readonly kWh: number;
  readonly co2eKg: number;
}

export interface RunUsage extends Figures {
  readonly pool: string | null;
  readonly instanceType: string | null;
  readonly capacityType: string | null;
  /** How the figures were made, one phrase each (simulated times, power assumed, unpriced types, sources). */
  readonly basis: string[];
}

const HOUR_MS = 3_600_000;

/** GPUs a pod holds: the GPU resource of its containers (limits, else requests). */
export function podGpus(pod: V1Pod): number {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const v = c.resources?.limits?.[GPU_RESOURCE] ?? c.resources?.requests?.[GPU_RESOURCE];
    if (v !== undefined && Number.isFinite(Number(v))) sum += Number(v);
  }
  return sum;
}

const time = (v: Date | string | undefined): string | undefined =>
  v === undefined ? undefined : new Date(v).toISOString();

/** When the pod got its node (its GPUs are reserved from binding on), else undefined. */
function heldSince(pod: V1Pod): string | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "True");
  return time(scheduled?.lastTransitionTime) ?? (pod.spec?.nodeName ? time(pod.status?.startTime) : undefined);
}

/** When a finished pod let go of its GPUs: its last container end, else its last condition change. */
function heldUntil(pod: V1Pod): string | undefined {
  const phase = pod.status?.phase;
  if (phase !== "Succeeded" && phase !== "Failed") return undefined;
  const ends = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]
    .map((s) => s.state?.terminated?.finishedAt)
    .filter((t): t is Date => t !== undefined)
    .map((t) => new Date(t).getTime());
  if (ends.length) return new Date(Math.max(...ends)).toISOString();
  const changes = (pod.status?.conditions ?? [])
    .map((c) => c.lastTransitionTime)
    .filter((t): t is Date => t !== undefined)
    .map((t) => new Date(t).getTime());
  return changes.length ? new Date(Math.max(...changes)).toISOString() : undefined;
}

/** The span of a pod that has held a node, or undefined (still pending). `nodes` by name. */
export function spanOfPod(pod: V1Pod, nodes: ReadonlyMap<string, V1Node>): PodSpan | undefined {
  const start = heldSince(pod);
  if (!start) return undefined;
  const nodeName = pod.spec?.nodeName ?? null;
  const node = nodeName ? nodes.get(nodeName) : undefined;
  const labels = node?.metadata?.labels ?? {};
  const finished = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
  const end =
    heldUntil(pod) ??
    (finished || pod.metadata?.deletionTimestamp ? (time(pod.metadata?.deletionTimestamp) ?? start) : null);
  return {
    uid: pod.metadata?.uid ?? pod.metadata?.name ?? "?",
    name: pod.metadata?.name ?? "?",
    node: nodeName,
    pool: labels[GPU_POOL_LABEL] ?? pod.spec?.nodeSelector?.[GPU_POOL_LABEL] ?? null,
    instanceType: labels[INSTANCE_TYPE_LABEL] ?? null,
    capacityType: labels[CAPACITY_TYPE_LABEL] ?? null,
    gpus: podGpus(pod),
    start,
    end,
    simulated: node?.metadata?.annotations?.[SIMULATED_NODE_ANNOTATION] !== undefined,
  };
}

/**
 * Record spans merged with what is observed now: observed pods replace their old span (by UID); a pod
 * that vanished while holding GPUs is closed at `lastSeen` and marked estimated, so retries and
 * resumes across pod loss all count.
 */
export function mergeSpans(recorded: readonly PodSpan[], observed: readonly PodSpan[], lastSeen: string): PodSpan[] {
  const now = new Map(observed.map((s) => [s.uid, s]));
  const out: PodSpan[] = [];
  for (const old of recorded) {
    const seen = now.get(old.uid);
    if (seen) {
      out.push(seen);
      now.delete(old.uid);
    } else out.push(old.end === null ? { ...old, end: lastSeen, endEstimated: true } : old);
  }
  out.push(...now.values());
  return out.sort((a, b) => a.start.localeCompare(b.start) || a.name.localeCompare(b.name));
}

/** Hours of a span inside [from, to), with an open span ending at `now`. */
function hoursIn(span: PodSpan, now: Date, from?: Date, to?: Date): number {
  const start = Math.max(new Date(span.start).getTime(), from?.getTime() ?? -Infinity);
  const end = Math.min(
    span.end ? new Date(span.end).getTime() : now.getTime(),
    to?.getTime() ?? Infinity,
    now.getTime(),
  );
  return end > start ? (end - start) / HOUR_MS : 0;
}

/** USD per GPU-hour of an instance type and capacity type, from the plan's table; undefined when unpriced. */
export function usdPerGpuHour(instanceType: string | null, capacityType: string | null): number | undefined {
  if (!instanceType) return undefined;
  const price = INSTANCE_PRICES[instanceType];
  if (!price || price.gpus === 0) return undefined;
  const spot = capacityType === "spot" ? (FAMILY_FACTS[familyOf(instanceType)]?.spotDiscount ?? 0) : 0;
  return (price.onDemand / price.gpus) * (1 - spot);
}

/** Board watts per GPU of an instance type; undefined when its family is not in the table. */
export function gpuWatts(instanceType: string | null): number | undefined {
  return instanceType ? FAMILY_FACTS[familyOf(instanceType)]?.gpuWatts : undefined;
}

export interface UsageOptions {
  /** AWS region of the cluster, for the grid intensity. */
  readonly region: string;
  /** Only time inside [from, to) counts (a budget period); default all of it. */
  readonly from?: Date;
  readonly to?: Date;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The figures and basis of a run's spans at `now`. */
export function usageOf(spans: readonly PodSpan[], now: Date, opts: UsageOptions): RunUsage {
  let gpuHours = 0;
  let usd = 0;
  let priced = false;
  let kWh = 0;
  const unpriced = new Set<string>();
  const unpowered = new Set<string>();
  let simulated = false;
  let estimatedEnd = false;
  let assumedPower = false;
  for (const s of spans) {
    if (s.gpus === 0) continue;
    const h = hoursIn(s, now, opts.from, opts.to) * s.gpus;
    if (h === 0) continue;
    gpuHours += h;
    simulated ||= s.simulated;
    estimatedEnd ||= s.endEstimated === true;
    const rate = usdPerGpuHour(s.instanceType, s.capacityType);
    if (rate === undefined) unpriced.add(s.instanceType ?? "unknown instance type");
    else {
      usd += rate * h;
      priced = true;
    }
    const watts = gpuWatts(s.instanceType);
    if (watts === undefined) unpowered.add(s.instanceType ?? "unknown instance type");
    else {
      if (s.utilisation === undefined) assumedPower = true;
      kWh += (watts * (s.utilisation ?? 1) * h) / 1000;
    }
  }
  const grid = gridIntensity(opts.region);
  const basis: string[] = [];
  if (simulated) basis.push("simulated pod times (KWOK nodes)");
  if (estimatedEnd) basis.push("a pod vanished before its end was seen: counted until last seen");
  if (assumedPower) basis.push("full GPU board power (no utilisation figure)");
  if (unpriced.size) basis.push(`not priced: ${[...unpriced].join(", ")}`);
  if (unpowered.size) basis.push(`no power figure: ${[...unpowered].join(", ")}`);
  if (gpuHours > 0) {
    basis.push(`prices as of ${PRICES_AS_OF} (contract/catalog/prices.ts)`);
    basis.push(
      `grid ${round(grid.gPerKwh, 1)} gCO2e/kWh for ${grid.known ? opts.region : `${opts.region} (not in the table: mean of its regions)`}, as of ${GRID_INTENSITY_AS_OF}`,
    );
  }
  const last = spans[spans.length - 1];
  const gpuSpan = [...spans].reverse().find((s) => s.gpus > 0) ?? last;
  return {
    gpuHours: round(gpuHours, 6),
    usd: gpuHours === 0 ? 0 : priced ? round(usd, 6) : null,
    kWh: round(kWh, 6),
    co2eKg: round((kWh * grid.gPerKwh) / 1000, 6),
    pool: gpuSpan?.pool ?? null,
    instanceType: gpuSpan?.instanceType ?? null,
    capacityType: gpuSpan?.capacityType ?? null,
    basis,
  };
}

/** Sum of figures (a team's runs); usd stays null only when every part is null. */
export function sumFigures(parts: readonly Figures[]): Figures {
  let usd: number | null = null;
  for (const p of parts) if (p.usd !== null) usd = (usd ?? 0) + p.usd;
  return {
    gpuHours: round(
      parts.reduce((a, p) => a + p.gpuHours, 0),
      6,
    ),
    usd: usd === null ? (parts.length === 0 ? 0 : null) : round(usd, 6),
    kWh: round(
      parts.reduce((a, p) => a + p.kWh, 0),
      6,
    ),
    co2eKg: round(
      parts.reduce((a, p) => a + p.co2eKg, 0),
      6,
    ),
  };
}
