/** IAM: least privilege for identity policies, managed policy attachments and trust policies. */
import type { ResourceRule } from "./types";
import { asArray, isComputed, type PolicyStatement, policyStatements, typeIn } from "./util";

/** Identity-policy resources and the input holding their document. */
const IDENTITY_POLICIES: Record<string, string> = {
  "aws:iam/policy": "policy",
  "aws:iam/rolePolicy": "policy",
  "aws:iam/userPolicy": "policy",
  "aws:iam/groupPolicy": "policy",
  "aws:s3/bucketPolicy": "policy",
  "aws:sqs/queuePolicy": "policy",
  "aws:ecr/repositoryPolicy": "policy",
};

function documentOf(type: string, props: Record<string, any>): unknown {
  const mod = type.split(":").slice(0, 2).join(":").replace(/V2$/, "");
  const key = IDENTITY_POLICIES[mod];
  return key ? props[key] : undefined;
}

/** Problems of one Allow statement: wildcards in actions, and `*` resources for S3/KMS actions. */
function allowProblems(s: PolicyStatement, i: number): string[] {
  if (s.Effect !== "Allow") return [];
  const out: string[] = [];
  const where = `statement ${s.Sid ?? i}`;
  if (s.NotAction !== undefined)
    out.push(`${where} allows NotAction (everything but a list): list the actions instead`);
  if (s.NotResource !== undefined) out.push(`${where} allows NotResource: list the resources instead`);
  const actions = asArray<string>(s.Action);
  for (const a of actions) {
    if (a === "*") out.push(`${where} allows every action ("*"): list the actions needed`);
    else if (/^(s3|kms):\*$/i.test(a)) out.push(`${where} allows ${a}: list the ${a.split(":")[0]} actions needed`);
  }
  const touchesData = actions.some((a) => /^(s3|kms):/i.test(a));
  if (touchesData && asArray<string>(s.Resource).includes("*"))
    out.push(`${where} allows S3/KMS actions on Resource "*": scope it to the bucket ARNs/prefixes and key ARN`);
  return out;
}

export const iamNoWildcards: ResourceRule = {
  kind: "resource",
  name: "iam-no-wildcards",
  description: 'No policy allows "*" actions, s3:* / kms:*, or S3/KMS actions on "*" resources.',
  severity: "critical",
  applies: (type) => documentOf(type, { policy: 1 }) !== undefined,
  check: (r) => {
    const doc = documentOf(r.type, r.props);
    const statements = policyStatements(doc);
    if (!statements) return isComputed(doc) ? [] : [`policy ${r.name} is not a readable policy document`];
    return statements.flatMap(allowProblems).map((p) => `policy ${r.name}: ${p}`);
  },
};

const BROAD_MANAGED = [
  "AdministratorAccess",
  "PowerUserAccess",
  "IAMFullAccess",
  "AmazonS3FullAccess",
  "AWSKeyManagementServicePowerUser",
];

function broadArns(arns: unknown[]): string[] {
  return arns.filter(
    (a): a is string => typeof a === "string" && BROAD_MANAGED.some((p) => a.endsWith(`:policy/${p}`)),
  );
}

export const iamNoBroadManagedPolicies: ResourceRule = {
  kind: "resource",
  name: "iam-no-broad-managed-policies",
  description:
    "No role gets AdministratorAccess, PowerUserAccess, IAMFullAccess, AmazonS3FullAccess or KMS power-user.",
  severity: "critical",
  applies: (type) => typeIn(type, "aws:iam/rolePolicyAttachment", "aws:iam/policyAttachment", "aws:iam/role"),
  check: (r) => {
    const arns = typeIn(r.type, "aws:iam/role") ? asArray(r.props.managedPolicyArns) : [r.props.policyArn];
    return broadArns(arns).map((a) => `${r.name} attaches ${a}: write a scoped policy instead`);
  },
};

export const iamTrustScoped: ResourceRule = {
  kind: "resource",
  name: "iam-trust-scoped",
  description: "Role trust policies name their principal (no '*') and federated trusts carry conditions.",
  severity: "critical",
  applies: (type) => typeIn(type, "aws:iam/role"),
  check: (r) => {
    const statements = policyStatements(r.props.assumeRolePolicy);
    if (!statements)
      return isComputed(r.props.assumeRolePolicy) ? [] : [`role ${r.name} has no readable assumeRolePolicy`];
    return statements
      .filter((s) => s.Effect === "Allow")
      .flatMap((s, i) => {
        const p = s.Principal as any;
        const out: string[] = [];
        if (p === "*" || asArray(p?.AWS).includes("*"))
          out.push(
            `role ${r.name} trust statement ${s.Sid ?? i} lets any principal ("*") assume it: name the service or role`,
          );
        if (p?.Federated && !s.Condition)
          out.push(
            `role ${r.name} trust statement ${s.Sid ?? i} trusts ${p.Federated} without a Condition: pin aud and sub`,
          );
        return out;
      });
  },
};

export const iamRules = [iamNoWildcards, iamNoBroadManagedPolicies, iamTrustScoped];
