/**
 * Evaluates the real program (infra/) for a stack under the plan engine's Pulumi mocks (engine/):
 * no cloud credentials, no Pulumi CLI. Returns every registered resource in plan form.
 */
import * as path from "node:path";
import { parseConfig, type KilnConfig } from "../../infra/config";
import { redact } from "./engine/mocks";
import { ROOT, runProgram, stackConfig } from "./engine/program";

export interface PlanResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent?: string;
  readonly dependencies: readonly string[];
  /** URN of the provider resource it is registered with, if explicit. */
  readonly provider?: string;
  readonly custom: boolean;
  /** Inputs with secrets as "[secret]" and unknown-until-deploy values as "<computed>". */
  readonly inputs: Record<string, unknown>;
}

export interface Evaluation {
  readonly stack: string;
  readonly config: KilnConfig;
  readonly resources: PlanResource[];
  readonly outputs: Record<string, unknown>;
}

/** Paths into this checkout become `./...`, so plans of two checkouts (base vs head) compare equal. */
export function repoRelative(value: unknown): unknown {
  if (typeof value === "string")
    return value === ROOT ? "." : value.startsWith(ROOT + path.sep) ? `./${path.relative(ROOT, value)}` : value;
  if (Array.isArray(value)) return value.map(repoRelative);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, repoRelative(v)]));
  return value;
}

/** Thrown for an unknown stack; config problems throw infra/config's ConfigError. */
export class StackError extends Error {}

/** Validates the stack's config first (ConfigError names every problem), then runs the program. */
export async function evaluateStack(stack: string, overrides: Record<string, unknown> = {}): Promise<Evaluation> {
  let raw: Record<string, string>;
  try {
    raw = stackConfig(stack, overrides);
  } catch (e) {
    throw new StackError((e as Error).message);
  }
  const config = parseConfig(raw, stack);
  // Outside jest a process evaluates the program once (Node caches infra/); the CLI does exactly that.
  const run = await runProgram(stack, {}, { config: raw, plan: true });
  const resources = run.resources.map(
    (r): PlanResource => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      ...(r.parent ? { parent: r.parent } : {}),
      dependencies: [...r.dependencies].sort(),
      ...(r.provider ? { provider: r.provider.split("::").slice(0, 4).join("::") } : {}),
      custom: r.custom,
      inputs: repoRelative(redact(r.inputs) ?? {}) as Record<string, unknown>,
    }),
  );
  resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return { stack, config, resources, outputs: redact(run.outputs) as Record<string, unknown> };
}
