/** Every Kiln rule, in report order, and the one evaluator both runners use. */
import { clusterRules } from "./cluster";
import { iamRules } from "./iam";
import { keyRules } from "./keys";
import { namespaceRules } from "./namespaces";
import { networkRules } from "./network";
import { nodeRules } from "./nodes";
import { queueRules } from "./queues";
import { storageRules } from "./storage";
import { tagRules } from "./tags";
import type { PolicySubject, Rule, Violation } from "./types";
import { workloadRules } from "./workloads";

export * from "./types";

export const RULES: readonly Rule[] = [
  ...storageRules,
  ...clusterRules,
  ...nodeRules,
  ...iamRules,
  ...networkRules,
  ...keyRules,
  ...tagRules,
  ...namespaceRules,
  ...workloadRules,
  ...queueRules,
];

/** Runs `rules` over `resources` the way the CrossGuard pack does: resource rules per resource, then stack rules. */
export function evaluate(resources: readonly PolicySubject[], rules: readonly Rule[] = RULES): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    if (rule.kind === "resource") {
      for (const r of resources)
        if (rule.applies(r.type, r.props))
          for (const message of rule.check(r))
            out.push({ rule: rule.name, severity: rule.severity, urn: r.urn, message });
    } else {
      for (const f of rule.check(resources))
        out.push({ rule: rule.name, severity: rule.severity, urn: f.urn, message: f.message });
    }
  }
  return out;
}
