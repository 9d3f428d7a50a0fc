/**
 * Pure Job construction: the training Job template (CronJob kiln-trainer's jobTemplate, read from the
 * cluster or from `helm template` output) -> a Job for one run or one sweep. No API calls here.
 */
import type { V1Container, V1CronJob, V1EnvVar, V1Job, V1PodSpec } from "@kubernetes/client-node";
import { parseYamlDocuments } from "../../trainer-image/src/api";
import { GPU_POOL_LABEL, GPU_RESOURCE, gpuPodScheduling, isGpuToleration } from "../../contract/gpu";

import { CliError, UsageError } from "./errors";
import { checkTemplate } from "./template-schema";
import { QUEUE_LABEL, RUN_LABEL, SWEEP_LABEL, TRAINER_CONTAINER, TRAINER_NAME } from "../../contract/labels";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Longest run name: Job names end up in the 63-character job-name label; sweep pods append -<index>. */
export const MAX_RUN_NAME = 63;
export const MAX_SWEEP_NAME = 52;

/** Throws a UsageError unless `value` is a DNS label of at most `max` characters; `what` names it. */
export function validateDnsLabel(what: string, value: string, max = MAX_RUN_NAME): void {
  const problem = dnsLabelProblem(value, max);
  if (problem)
    throw new UsageError(
      `${what} ${shown(value)} is invalid: ${problem}; use lowercase ASCII letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`,
    );
}

/** Invisible characters: zero-width, joiners, bidi controls, BOM, soft hyphen, other format and control characters. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: every code point here is matched alone, on purpose (U+034F joins nothing)
const INVISIBLE = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}\u00ad\u034f\u115f\u1160\u3164]/u;

/** `U+200B` */
const codePoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** The value quoted with every invisible or non-ASCII character written as \u{...}, so the user sees it. */
export function shown(value: string): string {
  const clipped = [...value].slice(0, 80);
  return `"${clipped.map((ch) => (/^[\x20-\x7e]$/.test(ch) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`)).join("")}${clipped.length < [...value].length ? "..." : ""}"`;
}

/** Why `value` is not a DNS label of at most `max` characters, naming the first character at fault. */
export function dnsLabelProblem(value: string, max: number): string | undefined {
  if (value === "") return "it is empty";
  const chars = [...value];
  const at = chars.findIndex((ch) => !/^[a-z0-9-]$/.test(ch));
  if (at >= 0) {
    const ch = chars[at];
    const where = `at position ${at + 1}`;
    if (INVISIBLE.test(ch) || /^\s$/u.test(ch)) return `it holds an invisible character (${codePoint(ch)}) ${where}`;
    if (ch.codePointAt(0)! > 0x7e)
      return `it holds ${codePoint(ch)} ('${ch}') ${where}, a non-ASCII character that only looks like a letter or digit`;
    if (/^[A-Z]$/.test(ch)) return `it holds the uppercase '${ch}' ${where}`;
    return `it holds '${ch}' ${where}`;
  }
  if (chars.length > max) return `it is ${chars.length} characters long`;
  if (!DNS_LABEL.test(value)) return "it starts or ends with '-'";
  return undefined;
}

/** Throws a UsageError when a free-form name (a kubeconfig context) holds invisible characters. */
export function validateVisible(what: string, value: string): void {
  const ch = [...value].find((c) => INVISIBLE.test(c));
  if (ch !== undefined || value.trim() === "")
    throw new UsageError(
      `${what} ${shown(value)} is invalid: ${ch ? `it holds an invisible character (${codePoint(ch)})` : "it is empty"}`,
    );
}

/** Throws a UsageError unless `name` can be a run (Job) name. */
export function validateRunName(name: string, max = MAX_RUN_NAME, what = "run name"): void {
  validateDnsLabel(what, name, max);
}

/** `run-20261128-173005-k3x9`: UTC time plus 4 random base-36 characters. */
export function generateRunName(now: Date, random: () => number, prefix = "run"): string {
  const iso = now.toISOString(); // 2026-11-28T17:30:05.123Z
  const stamp = `${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`;
  let suffix = "";
  for (let i = 0; i < 4; i++) suffix += Math.floor(random() * 36).toString(36);
  return `${prefix}-${stamp}-${suffix}`;
}

/** The CronJob kiln-trainer from `helm template` (or any multi-document YAML) text. */
export function templateFromManifest(text: string, source: string): V1CronJob {
  let docs: unknown[];
  try {
    docs = parseYamlDocuments(text);
  } catch (err) {
    throw new UsageError(`--template ${source}: not valid YAML: ${(err as Error).message}`);
  }
  const objects = docs.filter(
    (o): o is { kind?: string; metadata?: { name?: string } } => !!o && typeof o === "object",
  );
  const cron = objects.find((o) => o.kind === "CronJob" && o.metadata?.name === TRAINER_NAME);
  if (!cron) {
    const found = objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ") || "no objects";
    throw new UsageError(
      `--template ${source}: no CronJob ${TRAINER_NAME} in it (found ${found}); render it with: helm template kiln-trainer charts/trainer`,
    );
  }
  return checkTemplate(cron, `--template ${source}`);
}

/** The template's one training container (named `trainer`; a run with your own image keeps the name). */
export function trainerContainer(pod: V1PodSpec): V1Container {
  const c = pod.containers.find((x) => x.name === TRAINER_CONTAINER);
  if (!c)
    throw new CliError(
      `the Job template has no container "${TRAINER_CONTAINER}" (found ${pod.containers.map((x) => x.name).join(", ")}); reinstall charts/trainer`,
    );
  return c;
}

/** Sets (or replaces) env var `name` with a literal value, keeping its position. */
function setEnv(container: V1Container, env: V1EnvVar): void {
  container.env ??= [];
  const list = container.env;
  const i = list.findIndex((e) => e.name === env.name);
  if (i >= 0) list[i] = env;
  else list.push(env);
}

/**
 * GPUs per pod, as the GPU contract (contract/gpu.ts) makes a GPU pod: the resource in requests and
 * limits, the GPU toleration and, when the template pins a pool, its selector. 0 removes all three.
 */
export function setGpus(pod: V1PodSpec, gpus: number): void {
  const c = trainerContainer(pod);
  c.resources ??= {};
  const resources = c.resources;
  const pool = pod.nodeSelector?.[GPU_POOL_LABEL];
  const want = gpuPodScheduling(gpus, pool);
  for (const side of ["limits", "requests"] as const) {
    const list = resources[side];
    if (list) delete list[GPU_RESOURCE];
    if (gpus > 0) resources[side] = { ...(list ?? {}), ...want.resources };
    else if (list && Object.keys(list).length === 0) delete resources[side];
  }
  const tolerations = [
    ...(pod.tolerations ?? []).filter((t) => !isGpuToleration(t)),
    ...want.tolerations.map((t) => ({ ...t })),
  ];
  if (tolerations.length) pod.tolerations = tolerations;
  else delete pod.tolerations;
  const selector = { ...(pod.nodeSelector ?? {}) };
  delete selector[GPU_POOL_LABEL];
  Object.assign(selector, want.nodeSelector);
  if (Object.keys(selector).length) pod.nodeSelector = selector;
  else delete pod.nodeSelector;
  // The chart's KILN_GPUS says the same count to the trainer (its run.json GPU-hours).
  if (c.env?.some((e) => e.name === "KILN_GPUS")) setEnv(c, { name: "KILN_GPUS", value: String(gpus) });
}

/** GPUs per pod of a Job (its trainer container's nvidia.com/gpu limit), 0 for CPU runs. */
export function gpusOf(job: V1Job): number {
  const pod = job.spec?.template.spec;
  const c = pod?.containers.find((x) => x.name === TRAINER_CONTAINER) ?? pod?.containers[0];
  const v = c?.resources?.limits?.[GPU_RESOURCE] ?? c?.resources?.requests?.[GPU_RESOURCE];
  return v === undefined ? 0 : Number(v);
}

export interface SweepSettings {
  /** Element i = overrides for JOB_COMPLETION_INDEX=i. */
  readonly grid: readonly Record<string, unknown>[];
  readonly parallelism: number;
}

export interface RunJobOptions {
  readonly name: string;
  readonly namespace: string;
  /** Run spec text inlined as KILN_RUN_SPEC (already validated). */
  readonly specText: string;
  /** GPUs per pod; default the template's. */
  readonly gpus?: number;
  /** Kueue LocalQueue; default the template's. */
  readonly queue?: string;
  readonly sweep?: SweepSettings;
}

/** A Job for one run (or one sweep) from the template CronJob: same spec, the run spec inlined. */
export function jobFromTemplate(template: V1CronJob, opts: RunJobOptions): V1Job {
  checkTemplate(template, `CronJob ${template?.metadata?.name ?? TRAINER_NAME}`);
  const jt = template.spec?.jobTemplate;
  if (!jt?.spec?.template?.spec)
    throw new CliError(
      `CronJob ${template.metadata?.name ?? TRAINER_NAME} has no jobTemplate with a pod spec; reinstall charts/trainer`,
    );
  const spec = structuredClone(jt.spec);
  const pod = spec.template.spec!;
  const labels: Record<string, string> = {
    ...(jt.metadata?.labels ?? {}),
    "app.kubernetes.io/managed-by": "kubectl-kiln",
    [RUN_LABEL]: opts.name,
  };
  spec.template.metadata ??= {};
  const podMeta = spec.template.metadata;
  podMeta.labels = {
    ...(podMeta.labels ?? {}),
    "app.kubernetes.io/managed-by": "kubectl-kiln",
    [RUN_LABEL]: opts.name,
  };

  const c = trainerContainer(pod);
  setEnv(c, { name: "KILN_RUN_SPEC", value: opts.specText });
  if (opts.gpus !== undefined) setGpus(pod, opts.gpus);
  if (opts.queue !== undefined) {
    labels[QUEUE_LABEL] = opts.queue;
    podMeta.labels[QUEUE_LABEL] = opts.queue;
    // Kueue starts the Job by unsuspending it (see charts/trainer README, "Kueue").
    spec.suspend = true;
  }
  if (opts.sweep) {
    labels[SWEEP_LABEL] = "true";
    spec.completionMode = "Indexed";
    spec.completions = opts.sweep.grid.length;
    spec.parallelism = Math.min(opts.sweep.parallelism, opts.sweep.grid.length);
    setEnv(c, { name: "KILN_SWEEP_OVERRIDES", value: JSON.stringify(opts.sweep.grid) });
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels,
      annotations: {
        ...(jt.metadata?.annotations ?? {}),
        "kiln.dev/template": `cronjob/${template.metadata?.name ?? TRAINER_NAME}`,
      },
    },
    spec,
  };
}
