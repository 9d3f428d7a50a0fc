/** The accountant's settings: written by the program (infra/cluster/accountant.ts) as JSON, checked here. */
import { z } from "zod";

const team = z
  .strictObject({
    name: z.string().min(1),
    namespace: z.string().min(1),
    /** The team's ClusterQueue; absent when the stack runs without Kueue (usage is still recorded). */
    clusterQueue: z.string().min(1).optional(),
    budget: z.strictObject({ unit: z.enum(["gpuHours", "usd"]), limit: z.number().positive() }).optional(),
  })
  .refine((t) => !t.budget || t.clusterQueue, {
    message: "a budget needs the team's clusterQueue: the accountant enforces it by holding that queue",
    path: ["budget"],
  });

export const settingsSchema = z.strictObject({
  /** AWS region of the cluster (grid intensity). */
  region: z.string().min(1),
  /** Seconds between reconciles. */
  intervalSeconds: z.number().int().min(1).max(3600).default(30),
  /** Seconds between rewrites of a record whose pods still run (it bounds the GPU time lost if a pod goes while the accountant is down). */
  openRecordRefreshSeconds: z.number().int().min(10).max(86_400).default(300),
  /** Days a final per-Job record is kept; then, its months rolled up, it is pruned. */
  recordRetentionDays: z.number().int().min(1).max(3660).default(35),
  /** Port of the liveness (/healthz) and readiness (/readyz) probes. */
  healthPort: z.number().int().min(1024).max(65535).default(8080),
  /** Record writes a pass has in flight at once. */
  writeConcurrency: z.number().int().min(1).max(64).default(8),
  teams: z.array(team),
});

export type Settings = z.output<typeof settingsSchema>;
/** Settings as written (fields with a default may be left out). */
export type SettingsInput = z.input<typeof settingsSchema>;
export type TeamSettings = Settings["teams"][number];

/** Settings from JSON text; throws naming every bad field. */
export function parseSettings(text: string, source: string): Settings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`);
  }
  const r = settingsSchema.safeParse(json);
  if (!r.success)
    throw new Error(
      `${source}: ${r.error.issues.map((i) => `${i.path.join(".") || "settings"}: ${i.message}`).join("; ")}`,
    );
  return r.data;
}
