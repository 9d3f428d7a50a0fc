/** Small helpers the rules share: type matching, unknown values, policy documents. */

/** Offline plans show values only known after deployment as this placeholder. */
export const COMPUTED = "<computed>";

/** True when a value cannot be known before deployment (rules must not guess about it). */
export function isComputed(v: unknown): boolean {
  return v === COMPUTED;
}

/** `aws:s3/bucketPolicy` matches `aws:s3/bucketPolicy:BucketPolicy`; a trailing `V2` variant too. */
export function typeIn(type: string, ...modules: string[]): boolean {
  const mod = type.split(":").slice(0, 2).join(":");
  return modules.some((m) => mod === m || mod === `${m}V2`);
}

/** Kubernetes type tokens look like `kubernetes:<group>/<version>:<Kind>` (core group: `core`). */
export function k8sKind(type: string): { group: string; kind: string } | undefined {
  const m = /^kubernetes:([^/]+)\/[^:]+:(\w+)$/.exec(type);
  return m ? { group: m[1], kind: m[2] } : undefined;
}

export function isK8s(type: string, group: string, kind: string): boolean {
  const k = k8sKind(type);
  return !!k && k.group === group && k.kind === kind;
}

export function asArray<T = any>(v: unknown): T[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]) as T[];
}

export function isTrue(v: unknown): boolean {
  return v === true || v === "true";
}

export function isFalse(v: unknown): boolean {
  return v === false || v === "false";
}

/** A number given as number or numeric string; undefined otherwise. */
export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

/**
 * An IAM / resource policy document given as JSON text or object. Returns undefined when it is
 * not known yet (computed) or not parseable.
 */
export function policyStatements(doc: unknown): PolicyStatement[] | undefined {
  if (doc === undefined || doc === null || isComputed(doc)) return undefined;
  let parsed: unknown = doc;
  if (typeof doc === "string") {
    try {
      parsed = JSON.parse(doc);
    } catch {
      return undefined;
    }
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  return asArray<PolicyStatement>((parsed as { Statement?: unknown }).Statement);
}

/** Kubernetes labels of a subject (metadata.labels). */
export function labels(props: Record<string, any>): Record<string, string> {
  return (props?.metadata?.labels ?? {}) as Record<string, string>;
}

/** CIDRs that mean "anyone on the internet". */
export const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];
