/**
 * The shape of the Job template (CronJob kiln-trainer) the plugin copies fields from. A template read
 * from a file or from the cluster is checked before any field is used, so a malformed one is refused
 * naming the field, and wrong-typed labels, tolerations or node selectors are never copied into a Job.
 */
import type { V1CronJob } from "@kubernetes/client-node";
import { z } from "zod";
import { UsageError } from "./errors";

const stringMap = z.record(z.string(), z.string());
const meta = z.looseObject({ labels: stringMap.optional(), annotations: stringMap.optional() });
const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});
const quantities = z.record(z.string(), z.union([z.string(), z.number()]));
const container = z.looseObject({
  name: z.string().min(1),
  image: z.string().min(1),
  env: z.array(z.looseObject({ name: z.string().min(1), value: z.string().optional() })).optional(),
  resources: z.looseObject({ limits: quantities.optional(), requests: quantities.optional() }).optional(),
});
const podSpec = z.looseObject({
  containers: z.array(container).min(1),
  tolerations: z.array(toleration).optional(),
  nodeSelector: stringMap.optional(),
});
const cronJob = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().min(1).optional(),
      labels: stringMap.optional(),
      annotations: stringMap.optional(),
    })
    .optional(),
  spec: z.looseObject({
    jobTemplate: z.looseObject({
      metadata: meta.optional(),
      spec: z.looseObject({ template: z.looseObject({ metadata: meta.optional(), spec: podSpec }) }),
    }),
  }),
});

const MAX_LISTED = 5;

/** Throws a UsageError naming every malformed field of the template (the first few), else returns it typed. */
export function checkTemplate(template: unknown, source: string): V1CronJob {
  const r = cronJob.safeParse(template);
  if (r.success) return template as V1CronJob;
  const lines = r.error.issues
    .slice(0, MAX_LISTED)
    .map(
      (i) =>
        `${i.path.map((p, n) => (typeof p === "number" ? `[${p}]` : `${n ? "." : ""}${String(p)}`)).join("") || "(the object)"}: ${i.message}`,
    );
  const more = r.error.issues.length > MAX_LISTED ? `\n  ... and ${r.error.issues.length - MAX_LISTED} more` : "";
  throw new UsageError(
    `${source}: the Job template (CronJob kiln-trainer) is malformed:\n  ${lines.join("\n  ")}${more}\nrender it with: helm template kiln-trainer charts/trainer`,
  );
}
