/** The plan document (plan.json): resources, summary and the policy verdict of one stack. */
import type { Violation } from "../../policy/rules";
import { RULES } from "../../policy/rules";
import { ROOT } from "./engine/program";
import { renderLocalCharts } from "./charts";
import { evaluateStack, type PlanResource } from "./evaluate";
import { checkPlan } from "./policy";
import { type PlanSummary, summarize } from "./summary";

export const PLAN_FORMAT = 1;

export interface Plan {
  readonly kilnPlan: typeof PLAN_FORMAT;
  readonly stack: string;
  readonly project: string;
  readonly summary: PlanSummary;
  readonly policy: { readonly rules: number; readonly violations: readonly Violation[] };
  readonly resources: readonly PlanResource[];
  /** Objects the repository's own charts render with the program's values (parent = the Release). */
  readonly rendered: readonly PlanResource[];
  /** Charts that could not be rendered, and why. */
  readonly renderProblems: readonly string[];
  readonly outputs: Record<string, unknown>;
}

/** Evaluates `stack` under mocks and assembles its plan (deterministic: no timestamps). */
export async function buildPlan(stack: string, overrides: Record<string, unknown> = {}): Promise<Plan> {
  const e = await evaluateStack(stack, overrides);
  const { rendered, problems } = renderLocalCharts(e.resources, ROOT);
  return {
    kilnPlan: PLAN_FORMAT,
    stack: e.stack,
    project: e.config.project,
    summary: summarize(e.resources, e.config),
    policy: { rules: RULES.length, violations: checkPlan([...e.resources, ...rendered]) },
    resources: e.resources,
    rendered,
    renderProblems: problems,
    outputs: e.outputs,
  };
}

/** Reads a plan.json back, with a clear error when it is not one. */
export function parsePlan(text: string, file: string): Plan {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not JSON (${(e as Error).message}): pass a plan.json written by npm run plan`);
  }
  if (doc?.kilnPlan !== PLAN_FORMAT || !Array.isArray(doc.resources) || !doc.summary)
    throw new Error(`${file} is not a Kiln plan (format ${PLAN_FORMAT}): pass a plan.json written by npm run plan`);
  return doc as Plan;
}
