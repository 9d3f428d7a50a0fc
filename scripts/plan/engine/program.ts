/**
 * Runs the real program entry (infra/index.ts) for a stack under the mocks and returns what it
 * registered: the offline plan's engine, and the infra tests' too. Config comes from
 * Pulumi.<stack>.yaml plus overrides.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { tooDeep } from "../../../trainer-image/src/api";
import {
  COMPUTED,
  KilnMocks,
  programFinished,
  type RecordedResource,
  REDACTED,
  UnknownInPreviewError,
  resolvedValue,
} from "./mocks";

export const ROOT = path.resolve(__dirname, "../../..");

/** Stack config as the Pulumi engine passes it: every value a string, objects as JSON. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new Error(`unknown stack '${stack}': ${file} does not exist`);
  return stackConfigOf(fs.readFileSync(file, "utf8"), path.relative(ROOT, file), overrides);
}

/** Deepest nesting of a stack file: config: + key + Kiln's 3 levels need 5; 32 leaves room for a mistake to be named. */
const MAX_STACK_FILE_NESTING = 32;

/** What a YAML value is, for a message: "a list", "the number 3", "the text 'x'". */
function whatIs(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the text '${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (typeof v === "number" || typeof v === "boolean") return `the ${typeof v} ${String(v)}`;
  return typeof v;
}

/**
 * A stack file's text -> its config, or an error that names what is wrong with the file itself: not YAML,
 * empty, a list or a scalar, `config:` that is not a mapping, config keys outside `config:`. A file that is
 * none of these but has no config is valid (every key takes its default).
 */
export function stackConfigOf(
  text: string,
  file: string,
  overrides: Record<string, unknown> = {},
): Record<string, string> {
  const example = `a stack file is a mapping with a config: section, e.g.\nconfig:\n  kiln:platform: local`;
  // Nesting first: the yaml package composes recursively, and a deep enough file overflows the stack (inside
  // V8's regexp compiler that is a hard crash, not an exception).
  const deep = tooDeep(text, MAX_STACK_FILE_NESTING);
  if (deep)
    throw new Error(
      `${file} is nested more than ${MAX_STACK_FILE_NESTING} levels deep at ${deep.path} (line ${deep.line}): check the brackets and indentation there`,
    );
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    const message = e instanceof RangeError ? "it is nested too deeply to read" : (e as Error).message.split("\n")[0];
    throw new Error(`${file} is not valid YAML (${message}): ${example}`);
  }
  if (doc === null || doc === undefined)
    throw new Error(`${file} is empty (no YAML document, or only comments): ${example}`);
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new Error(`${file} is ${whatIs(doc)}, not a mapping: ${example}`);
  const top = doc as Record<string, unknown>;
  const stray = Object.keys(top).filter((k) => k.includes(":"));
  if (stray.length)
    throw new Error(
      `${file} has config keys at its top level (${stray.slice(0, 3).join(", ")}${stray.length > 3 ? ", ..." : ""}): indent them under config:`,
    );
  const config = top.config ?? {};
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new Error(`${file}: config is ${whatIs(config)}, not a mapping of keys such as kiln:platform: local`);
  const merged: Record<string, unknown> = { ...(config as Record<string, unknown>), ...overrides };
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
export async function runProgram(
  stack: string,
  overrides: Record<string, unknown> = {},
  opts: RunOptions = {},
): Promise<ProgramRun> {
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
      if (!r)
        throw new Error(
          `no ${type} named ${name}; have: ${resources
            .filter((x) => x.type === type)
            .map((x) => x.name)
            .join(", ")}`,
        );
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
