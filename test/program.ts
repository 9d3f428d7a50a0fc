/**
 * Runs the real program entry (infra/index.ts) for a stack under the mocks and returns what it
 * registered. Config comes from Pulumi.<stack>.yaml plus per-test overrides.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { KilnMocks, RecordedResource, settle } from "./mocks";

export const ROOT = path.resolve(__dirname, "..");

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
  readonly outputs: Record<string, unknown>;
  readonly mocks: KilnMocks;
  ofType(type: string): RecordedResource[];
  named(type: string, name: string): RecordedResource;
}

/** Evaluates infra/ for `stack` with fresh module state; resolves once every registration is done. */
export async function runProgram(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
  const config = stackConfig(stack, overrides);
  const region = (config["aws:region"] as string | undefined) ?? "us-west-2";
  const mocks = new KilnMocks(region);
  let exported: Record<string, unknown> = {};
  await pulumi.runtime.setMocks(mocks, "kiln", stack, true);
  pulumi.runtime.setAllConfig(config);
  jestIsolate(() => {
    exported = require(path.join(ROOT, "infra"));
  });
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exported)) outputs[k] = await resolveDeep(v);
  await settle(mocks);
  return {
    resources: mocks.resources,
    outputs,
    mocks,
    ofType: (type) => mocks.resources.filter((r) => r.type === type),
    named: (type, name) => {
      const r = mocks.resources.find((x) => x.type === type && x.name === name);
      if (!r) throw new Error(`no ${type} named ${name}; have: ${mocks.resources.filter((x) => x.type === type).map((x) => x.name).join(", ")}`);
      return r;
    },
  };
}

/** A fresh module registry per run inside jest (the program registers resources at import); plain require elsewhere. */
export function jestIsolate(fn: () => void): void {
  // `jest` is injected into each module's scope by the jest runtime, not set on globalThis.
  if (typeof jest !== "undefined") jest.isolateModules(fn);
  else fn();
}

async function resolveDeep(v: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(v)) return new Promise((resolve) => (v as pulumi.Output<unknown>).apply((x) => resolve(x)));
  return v;
}

