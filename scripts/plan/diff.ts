/** Differences between two plans: resources added, removed, changed (and which inputs), GPU, $/h and kW deltas. */
import type { Plan } from "./plan";
import type { Range } from "./summary";

export interface ResourceRef {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
}

export interface Delta {
  readonly base: number | null;
  readonly head: number | null;
  readonly delta: number | null;
}

export interface PlanDiff {
  readonly added: readonly ResourceRef[];
  readonly removed: readonly ResourceRef[];
  readonly changed: readonly (ResourceRef & { readonly keys: readonly string[] })[];
  readonly maxGpus: Delta;
  readonly idlePerHour: Delta;
  /** Upper ends of the full-load ranges (the budget question: how bad can it get). */
  readonly fullLoadSpotPerHour: Delta;
  readonly fullLoadOnDemandPerHour: Delta;
  readonly fullLoadKw: Delta;
}

const round = (x: number) => Math.round(x * 100) / 100;

function delta(base: number | null | undefined, head: number | null | undefined): Delta {
  const b = base ?? null;
  const h = head ?? null;
  return { base: b, head: h, delta: b === null && h === null ? null : round((h ?? 0) - (b ?? 0)) };
}

const high = (r: Range | null | undefined) => r?.high ?? null;

/** Dotted paths (at most `depth` segments) under which two input objects differ. */
export function changedKeys(a: unknown, b: unknown, depth = 3, prefix = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (depth === 0 || !isObj(a) || !isObj(b)) return [prefix || "(inputs)"];
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
  return keys.flatMap((k) => changedKeys(ao[k], bo[k], depth - 1, prefix ? `${prefix}.${k}` : k));
}

const ref = (r: ResourceRef): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });

export function diffPlans(base: Plan, head: Plan): PlanDiff {
  const all = (p: Plan) => [...p.resources, ...(p.rendered ?? [])].filter((r) => r.custom);
  const b = new Map(all(base).map((r) => [r.urn, r]));
  const h = new Map(all(head).map((r) => [r.urn, r]));
  const added = [...h.values()].filter((r) => !b.has(r.urn)).map(ref);
  const removed = [...b.values()].filter((r) => !h.has(r.urn)).map(ref);
  const changed = [...h.values()]
    .filter((r) => b.has(r.urn))
    .map((r) => ({ ...ref(r), keys: changedKeys(b.get(r.urn)!.inputs, r.inputs) }))
    .filter((c) => c.keys.length > 0);
  const bs = base.summary;
  const hs = head.summary;
  return {
    added,
    removed,
    changed,
    maxGpus: delta(bs.maxGpus, hs.maxGpus),
    idlePerHour: delta(bs.idlePerHour, hs.idlePerHour),
    fullLoadSpotPerHour: delta(high(bs.fullLoadSpotPerHour), high(hs.fullLoadSpotPerHour)),
    fullLoadOnDemandPerHour: delta(high(bs.fullLoadOnDemandPerHour), high(hs.fullLoadOnDemandPerHour)),
    fullLoadKw: delta(high(bs.fullLoadKw), high(hs.fullLoadKw)),
  };
}

/** An empty plan to diff against when the base branch has none (first PR that adds the plan). */
export function emptyPlan(stack: string): Plan {
  return {
    kilnPlan: 1,
    stack,
    project: "kiln",
    summary: {
      platform: "none",
      resourceCount: 0,
      counts: {},
      network: null,
      gpuPools: [],
      maxGpus: 0,
      queues: [],
      idlePerHour: null,
      idleLines: [],
      fullLoadSpotPerHour: null,
      fullLoadOnDemandPerHour: null,
      fullLoadKw: null,
      unpricedTypes: [],
      pricesAsOf: "",
    },
    policy: { rules: 0, violations: [] },
    resources: [],
    rendered: [],
    renderProblems: [],
    outputs: {},
  };
}
