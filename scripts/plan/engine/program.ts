/**
 * Runs the real program entry (infra/index.ts) for a stack under the mocks and returns what it
 * registered: the offline plan's engine, and the infra tests' too. Config comes from
 * Pulumi.<stack>.yaml plus overrides.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { COMPUTED, KilnMocks, programFinished, RecordedResource, REDACTED, UnknownInPreviewError, resolvedValue } from "./mocks";

export const ROOT = path.resolve(__dirname, "../../..");

/** Stack config as the Pulumi engine passes it: every value a string, objects as JSON. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`unknown stack '${stack}': ${file} does not exist`);
  const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const merged: Record<string, unknown> = { ...(doc.config ?? {}), ...overrides };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

export interface ProgramRun {
  readonly resources: RecordedResource[];
  /** Stack outputs, resolved; see RunOptions.plan for secrets and unknowns. */
  readonly outputs: Record<string, unknown>;
  readonly mocks: KilnMocks;
  ofType(type: string): RecordedResource[];
  named(type: string, name: string): RecordedResource;
}

export interface RunOptions {
  /** Stack config as strings (default: stackConfig(stack, overrides)). */
  readonly config?: Record<string, string>;
  /**
   * Plan form: a secret output becomes "[secret]" and an output unknown until deployment "<computed>".
   * Default false: outputs keep their values, and an unknown output fails the run, naming it.
   */
  readonly plan?: boolean;
}

/** Evaluates infra/ for `stack` with fresh module state; resolves once the program has finished. */
export async function runProgram(stack: string, overrides: Record<string, unknown> = {}, opts: RunOptions = {}): Promise<ProgramRun> {
  const config = opts.config ?? stackConfig(stack, overrides);
  const mocks = await KilnMocks.install(new KilnMocks(config["aws:region"] ?? "us-west-2"), "kiln", stack, true);
  pulumi.runtime.setAllConfig(config);
  let exported: Record<string, unknown> = {};
  jestIsolate(() => {
    exported = require(path.join(ROOT, "infra"));
  });
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exported)) outputs[k] = await outputValue(k, v, opts.plan ?? false);
  await programFinished();
  return { resources: mocks.resources, outputs, mocks, ...readers(mocks.resources) };
}

/** Lookups over recorded resources: every one of a type, and the one of a type and name. */
export function readers(resources: readonly RecordedResource[]): Pick<ProgramRun, "ofType" | "named"> {
  return {
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (type, name) => {
      const r = resources.find((x) => x.type === type && x.name === name);
      if (!r) throw new Error(`no ${type} named ${name}; have: ${resources.filter((x) => x.type === type).map((x) => x.name).join(", ")}`);
      return r;
    },
  };
}

async function outputValue(name: string, v: unknown, plan: boolean): Promise<unknown> {
  if (!pulumi.Output.isInstance(v)) return v;
  const output = v as pulumi.Output<unknown>;
  if (plan && (await pulumi.isSecret(output))) return REDACTED;
  try {
    return await resolvedValue(output, `stack output '${name}'`);
  } catch (e) {
    if (plan && e instanceof UnknownInPreviewError) return COMPUTED;
    throw e;
  }
}

/** A fresh module registry per run inside jest (the program registers resources at import); plain require elsewhere. */
export function jestIsolate(fn: () => void): void {
  // `jest` is injected into each module's scope by the jest runtime, not set on globalThis.
  if (typeof jest !== "undefined") jest.isolateModules(fn);
  else fn();
}
