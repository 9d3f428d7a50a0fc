/**
 * A run's usage record: one ConfigMap per Job (by UID) in the Job's namespace, not owned by the Job, so
 * it outlives the Job's TTL and a month's spend can still be summed. It keeps every pod span seen.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { z } from "zod";
import {
  USAGE_JOB_UID_LABEL,
  USAGE_MONTH_VALUE,
  USAGE_RECORD_KEY,
  USAGE_RECORD_LABEL,
  USAGE_RUN_LABEL,
  USAGE_RUN_UID_LABEL,
  usageMonthName,
  usageRecordName,
} from "./keys";
import { sumFigures, usageOf, type Figures, type PodSpan, type RunUsage } from "./usage";
import { PART_OF, PART_OF_LABEL } from "../labels";

export interface UsageRecord {
  readonly version: 1;
  readonly job: string;
  readonly uid: string;
  /** The run the Job belongs to: its kiln.dev/run label, else its name (records written before this field: absent). */
  readonly run?: string;
  /** UID of that run: the JobSet's for a JobSet's child Job, else the Job's own. */
  readonly runUid?: string;
  readonly namespace: string;
  readonly team: string;
  /** AWS region the figures were made for (grid intensity). */
  readonly region: string;
  readonly created: string;
  readonly spans: readonly PodSpan[];
  /** Last reconcile that saw the Job (open spans are closed here when the Job vanishes). */
  readonly updated: string;
  /** Figures at `updated`, for readers without the tables. */
  readonly usage: RunUsage;
  /** The Job is gone: the record is final. */
  readonly final?: boolean;
}

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "is not a date");
const span = z.object({
  uid: z.string(),
  name: z.string(),
  node: z.string().nullable(),
  pool: z.string().nullable(),
  instanceType: z.string().nullable(),
  capacityType: z.string().nullable(),
  gpus: z.number().min(0),
  start: iso,
  end: iso.nullable(),
  endEstimated: z.boolean().optional(),
  simulated: z.boolean(),
  utilisation: z.number().min(0).max(1).optional(),
});
const figures = { gpuHours: z.number(), usd: z.number().nullable(), kWh: z.number(), co2eKg: z.number() };
const record = z.object({
  version: z.literal(1),
  job: z.string(),
  uid: z.string(),
  run: z.string().optional(),
  runUid: z.string().optional(),
  namespace: z.string(),
  team: z.string(),
  region: z.string(),
  created: iso,
  spans: z.array(span),
  updated: iso,
  usage: z.object({
    ...figures,
    pool: z.string().nullable(),
    instanceType: z.string().nullable(),
    capacityType: z.string().nullable(),
    basis: z.array(z.string()),
  }),
  final: z.boolean().optional(),
});

/**
 * A team's usage in one finished calendar month (UTC), written once the month is over, before any per-Job
 * record of it is pruned: readers take the month from here, and per-Job records only for time outside
 * rolled-up months. Days let a window that starts inside the month count from its first day on.
 */
export interface MonthRollup {
  readonly version: 1;
  readonly kind: "month";
  readonly team: string;
  readonly namespace: string;
  /** `2026-11` */
  readonly month: string;
  readonly from: string;
  readonly to: string;
  /** Runs (by run UID) with GPU time in the month, and the per-Job records summed. */
  readonly runs: number;
  readonly records: number;
  readonly figures: Figures;
  /** Each UTC day of the month, in order, from `from`. */
  readonly days: readonly Figures[];
  readonly written: string;
}

const figuresSchema = z.object(figures);
const rollup = z.object({
  version: z.literal(1),
  kind: z.literal("month"),
  team: z.string(),
  namespace: z.string(),
  month: z.string().regex(/^\d{4}-\d{2}$/),
  from: iso,
  to: iso,
  runs: z.number().int().min(0),
  records: z.number().int().min(0),
  figures: figuresSchema,
  days: z.array(figuresSchema),
  written: iso,
});

function parseData<T>(cm: V1ConfigMap, what: string, schema: z.ZodType<T>): T | Error {
  const where = `${what} ${cm.metadata?.namespace}/${cm.metadata?.name}`;
  const text = cm.data?.[USAGE_RECORD_KEY];
  if (text === undefined) return new Error(`${where}: no ${USAGE_RECORD_KEY} key`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return new Error(`${where}: ${USAGE_RECORD_KEY} is not JSON (${(e as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return new Error(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "record"} ${i.message}`).join("; ")}`,
    );
  return parsed.data;
}

/** The record in a ConfigMap, or an Error naming the ConfigMap and what is wrong. */
export function recordOf(cm: V1ConfigMap): UsageRecord | Error {
  return parseData(cm, "usage record", record) as UsageRecord | Error;
}

/** A month's roll-up in a ConfigMap, or an Error naming it and what is wrong. */
export function rollupOf(cm: V1ConfigMap): MonthRollup | Error {
  return parseData(cm, "usage roll-up", rollup) as MonthRollup | Error;
}

/** Whether a usage ConfigMap is a month's roll-up (else a per-Job record). */
export const isRollup = (cm: V1ConfigMap) => cm.metadata?.labels?.[USAGE_RECORD_LABEL] === USAGE_MONTH_VALUE;

/** The ConfigMap of a month's roll-up. */
export function rollupConfigMap(r: MonthRollup): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: usageMonthName(r.team, r.month),
      namespace: r.namespace,
      labels: {
        [PART_OF_LABEL]: PART_OF,
        "app.kubernetes.io/component": "usage-rollup",
        [USAGE_RECORD_LABEL]: USAGE_MONTH_VALUE,
      },
    },
    data: { [USAGE_RECORD_KEY]: JSON.stringify(r) },
  };
}

/** The run a record counts towards: its run UID, else (older records) its Job's UID. */
export const runUidOf = (r: UsageRecord) => r.runUid ?? r.uid;

/** The ConfigMap of a record. */
export function recordConfigMap(r: UsageRecord): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: usageRecordName(r.job, r.uid),
      namespace: r.namespace,
      labels: {
        [PART_OF_LABEL]: PART_OF,
        "app.kubernetes.io/component": "usage-record",
        [USAGE_RECORD_LABEL]: "run",
        [USAGE_JOB_UID_LABEL]: r.uid,
        ...(r.run ? { [USAGE_RUN_LABEL]: r.run } : {}),
        ...(r.runUid ? { [USAGE_RUN_UID_LABEL]: r.runUid } : {}),
      },
      annotations: { "kiln.dev/job": r.job },
    },
    data: { [USAGE_RECORD_KEY]: JSON.stringify(r) },
  };
}

const DAY_MS = 86_400_000;

/** A roll-up's figures inside [since, now): the whole month, else its days, the partial ones pro rata. */
function rollupIn(m: MonthRollup, since: number, now: number): Figures {
  const from = Date.parse(m.from);
  if (since <= from && Date.parse(m.to) <= now) return m.figures;
  const parts = m.days.map((d, i) => {
    const start = from + i * DAY_MS;
    const share = Math.max(0, Math.min(start + DAY_MS, now) - Math.max(start, since)) / DAY_MS;
    return {
      gpuHours: d.gpuHours * share,
      usd: d.usd === null ? null : d.usd * share,
      kWh: d.kWh * share,
      co2eKg: d.co2eKg * share,
    };
  });
  return sumFigures(parts);
}

/**
 * A team's figures and runs in [since, now): rolled-up months from their roll-ups, the rest of the window from
 * the per-Job records (whose time inside a rolled-up month is in the roll-up already). A run with time both in
 * a rolled-up month and outside it counts once in each.
 */
export function figuresInWindow(
  records: readonly UsageRecord[],
  rollups: readonly MonthRollup[],
  since: Date,
  now: Date,
): { figures: Figures; runs: number } {
  const s = since.getTime();
  const n = now.getTime();
  const rolled = rollups
    .filter((m) => Date.parse(m.to) > s && Date.parse(m.from) < n)
    .sort((a, b) => a.from.localeCompare(b.from));
  const windows: [number, number][] = [];
  let at = s;
  for (const m of rolled) {
    if (Date.parse(m.from) > at) windows.push([at, Math.min(Date.parse(m.from), n)]);
    at = Math.max(at, Date.parse(m.to));
  }
  if (at < n) windows.push([at, n]);
  const parts: Figures[] = [];
  const runs = new Set<string>();
  for (const r of records) {
    for (const [a, b] of windows) {
      parts.push(
        usageOf(r.spans, r.final ? new Date(r.updated) : now, { region: r.region, from: new Date(a), to: new Date(b) }),
      );
      if (r.spans.some((sp) => (sp.end === null || Date.parse(sp.end) > a) && Date.parse(sp.start) < b))
        runs.add(runUidOf(r));
    }
  }
  for (const m of rolled) parts.push(rollupIn(m, s, n));
  return { figures: sumFigures(parts), runs: runs.size + rolled.reduce((a, m) => a + m.runs, 0) };
}
