/** Cost and ownership tags on every cloud resource that can carry them. */
import type { ResourceRule } from "./types";
import { isComputed, isK8s, typeIn } from "./util";

export const REQUIRED_TAGS = ["kiln:cluster", "kiln:stack"];

/** AWS resource types Kiln creates that take `tags` (a resource with a `tags` input counts too). */
const TAGGABLE = [
  "aws:ec2/vpc",
  "aws:ec2/subnet",
  "aws:ec2/internetGateway",
  "aws:ec2/natGateway",
  "aws:ec2/eip",
  "aws:ec2/routeTable",
  "aws:ec2/securityGroup",
  "aws:ec2/vpcEndpoint",
  "aws:ec2/launchTemplate",
  "aws:vpc/securityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule",
  "aws:eks/cluster",
  "aws:eks/nodeGroup",
  "aws:eks/addon",
  "aws:eks/podIdentityAssociation",
  "aws:eks/accessEntry",
  "aws:iam/role",
  "aws:iam/policy",
  "aws:iam/openIdConnectProvider",
  "aws:iam/instanceProfile",
  "aws:kms/key",
  "aws:s3/bucket",
  "aws:ecr/repository",
  "aws:sqs/queue",
  "aws:cloudwatch/eventRule",
  "aws:cloudwatch/logGroup",
  "aws:fsx/lustreFileSystem",
];

function missingTags(tags: Record<string, unknown>): string[] {
  return REQUIRED_TAGS.filter(
    (k) => !(typeof tags[k] === "string" && (tags[k] as string).length > 0) && !isComputed(tags[k]),
  );
}

export const awsRequiredTags: ResourceRule = {
  kind: "resource",
  name: "aws-required-tags",
  description:
    "Every taggable AWS resource carries kiln:cluster and kiln:stack (own tags or the provider's defaultTags).",
  severity: "low",
  applies: (type, props) => type.startsWith("aws:") && (typeIn(type, ...TAGGABLE) || props.tags !== undefined),
  check: (r) => {
    if (isComputed(r.props.tags)) return [];
    const defaults = (r.provider?.props?.defaultTags?.tags ?? {}) as Record<string, unknown>;
    const missing = missingTags({ ...defaults, ...(r.props.tags ?? {}) });
    return missing.length
      ? [
          `${r.type.split(":")[2] ?? r.type} ${r.name} lacks tags ${missing.join(", ")}: add them (or set the provider's defaultTags)`,
        ]
      : [];
  },
};

export const nodeClassRequiredTags: ResourceRule = {
  kind: "resource",
  name: "nodeclass-required-tags",
  description: "Karpenter EC2NodeClasses tag the instances they launch with kiln:cluster and kiln:stack.",
  severity: "low",
  applies: (type) => isK8s(type, "karpenter.k8s.aws", "EC2NodeClass"),
  check: (r) => {
    const missing = missingTags((r.props.spec?.tags ?? {}) as Record<string, unknown>);
    return missing.length
      ? [
          `EC2NodeClass ${r.props.metadata?.name ?? r.name} spec.tags lacks ${missing.join(", ")}: GPU instances would be untracked`,
        ]
      : [];
  },
};

export const tagRules = [awsRequiredTags, nodeClassRequiredTags];
