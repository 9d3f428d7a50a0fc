/**
 * Runs the policy pack's rules (policy/rules) over a plan: the offline twin of
 * `pulumi preview --policy-pack policy`.
 */
import { evaluate, type PolicySubject, type Violation } from "../../policy/rules";
import type { PlanResource } from "./evaluate";

/** Plan resources as rule subjects (provider inputs attached for default-tag checks). */
export function subjectsOf(resources: readonly PlanResource[]): PolicySubject[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  return resources.map((r) => {
    const provider = r.provider ? byUrn.get(r.provider) : undefined;
    return {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.inputs as Record<string, any>,
      parent: r.parent,
      dependencies: r.dependencies,
      provider: provider ? { urn: provider.urn, props: provider.inputs as Record<string, any> } : undefined,
    };
  });
}

/** Every violation of the pack in a plan's resources (components are skipped, as CrossGuard does). */
export function checkPlan(resources: readonly PlanResource[]): Violation[] {
  return evaluate(subjectsOf(resources.filter((r) => r.custom)));
}

/** Human-readable report: one line per violation, grouped by rule. */
export function formatViolations(violations: readonly Violation[], stack: string, ruleCount: number): string {
  if (violations.length === 0) return `policy: stack ${stack} passes all ${ruleCount} rules\n`;
  const lines = [`policy: stack ${stack} has ${violations.length} violation${violations.length === 1 ? "" : "s"}:`];
  for (const v of violations)
    lines.push(`  [${v.rule}] (${v.severity}) ${v.message}${v.urn ? `\n      ${v.urn}` : ""}`);
  return `${lines.join("\n")}\n`;
}
