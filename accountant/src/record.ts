/**
 * A run's usage record: one ConfigMap per Job (by UID) in the Job's namespace, not owned by the Job, so
 * it outlives the Job's TTL and a month's spend can still be summed. It keeps every pod span seen.
 */
import type { V1ConfigMap } from "@kubernetes/client-node";
import { z } from "zod";
import { USAGE_JOB_UID_LABEL, USAGE_RECORD_KEY, USAGE_RECORD_LABEL, USAGE_RUN_LABEL, USAGE_RUN_UID_LABEL, usageRecordName } from "../../contract/accounting";
import type { PodSpan, RunUsage } from "./usage";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";

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
  usage: z.object({ ...figures, pool: z.string().nullable(), instanceType: z.string().nullable(), capacityType: z.string().nullable(), basis: z.array(z.string()) }),
  final: z.boolean().optional(),
});

/** The record in a ConfigMap, or an Error naming the ConfigMap and what is wrong. */
export function recordOf(cm: V1ConfigMap): UsageRecord | Error {
  const where = `usage record ${cm.metadata?.namespace}/${cm.metadata?.name}`;
  const text = cm.data?.[USAGE_RECORD_KEY];
  if (text === undefined) return new Error(`${where}: no ${USAGE_RECORD_KEY} key`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return new Error(`${where}: ${USAGE_RECORD_KEY} is not JSON (${(e as Error).message})`);
  }
  const parsed = record.safeParse(json);
  if (!parsed.success) return new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "record"} ${i.message}`).join("; ")}`);
  return parsed.data as UsageRecord;
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
