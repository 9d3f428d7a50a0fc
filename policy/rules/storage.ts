/** S3: every bucket KMS-encrypted, private, TLS-only and versioned. */
import type { PolicySubject, ResourceRule, StackRule } from "./types";
import { asArray, isComputed, isFalse, isTrue, type PolicyStatement, policyStatements, typeIn } from "./util";

const BUCKET = ["aws:s3/bucket"];
const SSE = ["aws:s3/bucketServerSideEncryptionConfiguration"];
const PAB = ["aws:s3/bucketPublicAccessBlock"];
const POLICY = ["aws:s3/bucketPolicy"];
const VERSIONING = ["aws:s3/bucketVersioning"];
const ACL = ["aws:s3/bucketAcl"];
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/** Problems with one SSE rule list (standalone resource `rules` or a bucket's inline config). */
function sseProblems(rules: unknown[]): string[] {
  if (rules.length === 0) return ["has no encryption rule: add one with sseAlgorithm aws:kms and a customer KMS key"];
  return rules.flatMap((rule: any, i) => {
    const d = rule?.applyServerSideEncryptionByDefault ?? rule?.applyServerSideEncryptionByDefaults?.[0] ?? {};
    const out: string[] = [];
    if (!KMS_ALGORITHMS.includes(d.sseAlgorithm))
      out.push(`rule ${i} uses sseAlgorithm '${d.sseAlgorithm ?? "unset"}': use aws:kms with the stack's customer key`);
    else if (!d.kmsMasterKeyId)
      out.push(`rule ${i} has no kmsMasterKeyId: name the stack's customer KMS key (not the AWS-managed aws/s3 key)`);
    return out;
  });
}

export const s3EncryptionKms: ResourceRule = {
  kind: "resource",
  name: "s3-encryption-kms",
  description: "S3 server-side encryption uses SSE-KMS with a customer-managed key.",
  severity: "high",
  applies: (type, props) =>
    typeIn(type, ...SSE) || (typeIn(type, ...BUCKET) && props.serverSideEncryptionConfiguration !== undefined),
  check: (r) => {
    const rules = typeIn(r.type, ...SSE)
      ? asArray(r.props.rules)
      : asArray(r.props.serverSideEncryptionConfiguration?.rule ?? r.props.serverSideEncryptionConfiguration?.rules);
    return sseProblems(rules).map((p) => `S3 encryption of ${r.name} ${p}`);
  },
};

const BLOCKS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlock: ResourceRule = {
  kind: "resource",
  name: "s3-public-access-block",
  description: "Every S3 public access block turns on all four settings.",
  severity: "critical",
  applies: (type) => typeIn(type, ...PAB),
  check: (r) => {
    const off = BLOCKS.filter((k) => !isTrue(r.props[k]));
    return off.length ? [`public access block ${r.name} leaves ${off.join(", ")} off: set all four to true`] : [];
  },
};

/** True when the statement denies every S3 action to everyone when the request is not TLS. */
function isTlsDeny(s: PolicyStatement): boolean {
  if (s.Effect !== "Deny") return false;
  const principal = s.Principal as any;
  const everyone =
    principal === "*" || principal?.AWS === "*" || (Array.isArray(principal?.AWS) && principal.AWS.includes("*"));
  const actions = asArray<string>(s.Action);
  const allS3 = actions.includes("s3:*") || actions.includes("*");
  const secure = s.Condition?.Bool?.["aws:SecureTransport"];
  return everyone && allS3 && (isFalse(secure) || (Array.isArray(secure) && secure.some(isFalse)));
}

export const s3TlsOnly: ResourceRule = {
  kind: "resource",
  name: "s3-tls-only",
  description: "Every bucket policy denies all S3 actions to everyone when aws:SecureTransport is false.",
  severity: "high",
  applies: (type) => typeIn(type, ...POLICY),
  check: (r) => {
    const statements = policyStatements(r.props.policy);
    if (!statements)
      return isComputed(r.props.policy) ? [] : [`bucket policy ${r.name} is not a readable policy document`];
    return statements.some(isTlsDeny)
      ? []
      : [
          `bucket policy ${r.name} has no statement denying s3:* to Principal * when aws:SecureTransport is false: add it`,
        ];
  },
};

export const s3Versioning: ResourceRule = {
  kind: "resource",
  name: "s3-versioning",
  description: "S3 versioning is Enabled (checkpoints and models survive overwrites).",
  severity: "medium",
  applies: (type, props) => typeIn(type, ...VERSIONING) || (typeIn(type, ...BUCKET) && props.versioning !== undefined),
  check: (r) => {
    if (typeIn(r.type, ...VERSIONING)) {
      const status = r.props.versioningConfiguration?.status;
      return status === "Enabled"
        ? []
        : [`versioning of ${r.name} is '${status ?? "unset"}': set versioningConfiguration.status to Enabled`];
    }
    return isTrue(r.props.versioning?.enabled) ? [] : [`bucket ${r.name} disables inline versioning: enable it`];
  },
};

const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES = [
  "http://acs.amazonaws.com/groups/global/AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

export const s3NoPublicAcl: ResourceRule = {
  kind: "resource",
  name: "s3-no-public-acl",
  description: "No bucket ACL grants access to AllUsers or AuthenticatedUsers.",
  severity: "critical",
  applies: (type) => typeIn(type, ...BUCKET, ...ACL),
  check: (r) => {
    const out: string[] = [];
    if (PUBLIC_ACLS.includes(r.props.acl))
      out.push(`${r.name} uses the canned ACL '${r.props.acl}': use private (or none)`);
    const grants = asArray<any>(r.props.accessControlPolicy?.grants ?? r.props.grants);
    for (const g of grants) {
      const uri = g?.grantee?.uri ?? g?.uri;
      if (PUBLIC_GRANTEES.includes(uri))
        out.push(`${r.name} grants ${g?.permission ?? "access"} to ${uri}: remove the grant`);
    }
    return out;
  },
};

/** A control resource belongs to a bucket when it depends on it (or names it in `bucket`). */
function controlsOf(all: readonly PolicySubject[], bucket: PolicySubject, modules: string[]): PolicySubject[] {
  const names = [bucket.props.bucket, bucket.name].filter((n) => typeof n === "string" && !isComputed(n));
  return all.filter(
    (r) => typeIn(r.type, ...modules) && (r.dependencies.includes(bucket.urn) || names.includes(r.props.bucket)),
  );
}

export const s3BucketControls: StackRule = {
  kind: "stack",
  name: "s3-bucket-controls",
  description: "Every S3 bucket has its encryption, public access block, TLS-only policy and versioning resources.",
  severity: "high",
  check: (all) =>
    all
      .filter((r) => typeIn(r.type, ...BUCKET))
      .flatMap((bucket) => {
        const missing: string[] = [];
        if (!bucket.props.serverSideEncryptionConfiguration && controlsOf(all, bucket, SSE).length === 0)
          missing.push("BucketServerSideEncryptionConfiguration");
        if (controlsOf(all, bucket, PAB).length === 0) missing.push("BucketPublicAccessBlock");
        if (controlsOf(all, bucket, POLICY).length === 0) missing.push("BucketPolicy (TLS-only)");
        if (!isTrue(bucket.props.versioning?.enabled) && controlsOf(all, bucket, VERSIONING).length === 0)
          missing.push("BucketVersioning");
        return missing.length
          ? [
              {
                urn: bucket.urn,
                message: `bucket ${bucket.name} has no ${missing.join(", ")}: add them for this bucket`,
              },
            ]
          : [];
      }),
};

export const storageRules = [
  s3EncryptionKms,
  s3PublicAccessBlock,
  s3TlsOnly,
  s3Versioning,
  s3NoPublicAcl,
  s3BucketControls,
];
