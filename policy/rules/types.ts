/**
 * The shape every Kiln rule is written against. A rule is a pure function over one resource
 * (`ResourceRule`) or over all of them (`StackRule`); the CrossGuard pack (policy/pack.ts) and the
 * offline checker (scripts/plan/policy.ts) both adapt their resources to `PolicySubject`.
 */

/** One resource as a rule sees it: its type token, name, URN and inputs. */
export interface PolicySubject {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** Resource inputs. Unknown-until-deploy values are the string "<computed>" in offline plans. */
  readonly props: Record<string, any>;
  /** Parent URN, if any. */
  readonly parent?: string;
  /** URNs this resource depends on. */
  readonly dependencies: readonly string[];
  /** The provider this resource is registered with (for default tags). */
  readonly provider?: { readonly urn: string; readonly props: Record<string, any> };
}

export type Severity = "low" | "medium" | "high" | "critical";

interface RuleBase {
  /** Policy name: lowercase, dash-separated, unique in the pack. */
  readonly name: string;
  /** One sentence: what must hold. */
  readonly description: string;
  readonly severity: Severity;
}

/** Checks one resource; returns one message per problem (empty = compliant). */
export interface ResourceRule extends RuleBase {
  readonly kind: "resource";
  /** Which resources it applies to. */
  applies(type: string, props: Record<string, any>): boolean;
  check(resource: PolicySubject): string[];
}

/** A problem found by a stack rule, tied to the resource it is about. */
export interface StackFinding {
  readonly urn?: string;
  readonly message: string;
}

/** Checks relationships across all resources (coverage, quotas vs limits, ...). */
export interface StackRule extends RuleBase {
  readonly kind: "stack";
  check(resources: readonly PolicySubject[]): StackFinding[];
}

export type Rule = ResourceRule | StackRule;

/** One violation reported by `evaluate`. */
export interface Violation {
  readonly rule: string;
  readonly severity: Severity;
  readonly urn?: string;
  readonly message: string;
}
