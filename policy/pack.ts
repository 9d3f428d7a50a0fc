/**
 * Adapts Kiln's rules (policy/rules) to CrossGuard policies. Kept apart from index.ts, which
 * serves the pack, so tests can run the exact functions CrossGuard calls.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type PolicySubject, type Rule, RULES } from "./rules";

/** A CrossGuard resource (per-resource or stack view) as a rule subject. */
export function subjectOf(r: ResourceValidationArgs | PolicyResource): PolicySubject {
  const stackView = r as PolicyResource;
  const parent = stackView.parent?.urn ?? (r.opts as { parent?: string } | undefined)?.parent;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    parent: typeof parent === "string" ? parent : undefined,
    dependencies: (stackView.dependencies ?? []).map((d) => d.urn),
    provider: r.provider ? { urn: r.provider.urn, props: r.provider.props } : undefined,
  };
}

export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
  const base = {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory" as const,
    severity: rule.severity,
  };
  if (rule.kind === "resource") {
    return {
      ...base,
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!rule.applies(args.type, args.props)) return;
        for (const message of rule.check(subjectOf(args))) report(message);
      },
    };
  }
  return {
    ...base,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const f of rule.check(args.resources.map(subjectOf))) report(f.message, f.urn);
    },
  };
}

/** The pack's policies: every rule, mandatory. */
export const POLICIES = RULES.map(toPolicy);
export const PACK_NAME = "kiln";
export const PACK_DESCRIPTION =
  "Kiln: encryption, private networking, IMDSv2, capped GPU pools, least-privilege IAM, restricted training namespaces, pinned images.";
