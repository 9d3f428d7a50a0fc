/** Resolves the run spec of this process: --spec or KILN_RUN_SPEC, sweep overrides, run id. */
import { randomBytes } from "node:crypto";
import { applyOverrides, parseRunSpec, RunSpecError, type RunSpec } from "./spec";
import { openObject, retryOptionsFromEnv } from "./storage";

/** Reads the spec text from a path / s3:// URI, or from KILN_RUN_SPEC when no path is given. */
export async function readSpecText(specUri: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (specUri) {
    const chunks: Buffer[] = [];
    try {
      for await (const c of await openObject(specUri, retryOptionsFromEnv(env), env)) chunks.push(Buffer.from(c));
    } catch (err) {
      throw new RunSpecError([`--spec ${specUri}: cannot read it (${(err as Error).message})`]);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  if (env.KILN_RUN_SPEC && env.KILN_RUN_SPEC.trim() !== "") return env.KILN_RUN_SPEC;
  throw new RunSpecError(["no run spec: pass --spec <path|s3://bucket/key> or set KILN_RUN_SPEC to the spec YAML"]);
}

/** The sweep overrides for this pod: KILN_SWEEP_OVERRIDES[JOB_COMPLETION_INDEX], or none. */
export function sweepOverrides(
  env: NodeJS.ProcessEnv,
): { index: number; overrides: Record<string, unknown> } | undefined {
  const raw = env.KILN_SWEEP_OVERRIDES;
  if (raw === undefined || raw.trim() === "") return undefined;
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (err) {
    throw new RunSpecError([`KILN_SWEEP_OVERRIDES: not valid JSON (${(err as Error).message})`]);
  }
  if (!Array.isArray(list) || list.some((o) => o === null || typeof o !== "object" || Array.isArray(o))) {
    throw new RunSpecError(['KILN_SWEEP_OVERRIDES: must be a JSON array of objects, e.g. [{"training.batchSize":32}]']);
  }
  const idxText = env.JOB_COMPLETION_INDEX;
  if (idxText === undefined || !/^\d+$/.test(idxText)) {
    throw new RunSpecError([
      `JOB_COMPLETION_INDEX="${idxText ?? ""}": KILN_SWEEP_OVERRIDES needs the index of this sweep member (set by Indexed Jobs)`,
    ]);
  }
  const index = Number(idxText);
  if (index >= list.length) {
    throw new RunSpecError([
      `JOB_COMPLETION_INDEX=${index} is out of range: KILN_SWEEP_OVERRIDES has ${list.length} entries`,
    ]);
  }
  return { index, overrides: list[index] as Record<string, unknown> };
}

export function generatedRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return `run-${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Spec text + env -> the validated spec of this run, with its final run id. */
export function resolveRunSpec(text: string, env: NodeJS.ProcessEnv): RunSpec & { runId: string } {
  let spec = parseRunSpec(text);
  const sweep = sweepOverrides(env);
  if (sweep) spec = applyOverrides(spec, sweep.overrides);
  const base =
    env.KILN_RUN_ID && env.KILN_RUN_ID.trim() !== "" ? env.KILN_RUN_ID.trim() : (spec.runId ?? generatedRunId());
  const runId = sweep ? `${base}-${sweep.index}` : base;
  try {
    spec = applyOverrides(spec, { runId });
  } catch (err) {
    if (err instanceof RunSpecError) {
      const from = env.KILN_RUN_ID ? "KILN_RUN_ID" : "spec.runId";
      throw new RunSpecError(
        err.problems.map(
          (p) => `${p} (run id "${runId}" from ${from}${sweep ? ` + sweep suffix -${sweep.index}` : ""})`,
        ),
      );
    }
    throw err;
  }
  return spec as RunSpec & { runId: string };
}
