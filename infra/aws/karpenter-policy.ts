/**
 * The Karpenter v1 controller policy (after Karpenter's getting-started CloudFormation): launch and
 * delete only instances it tagged for this cluster, pass only the GPU node role, read only its own
 * interruption queue. Resource "*" remains only where EC2/IAM/pricing actions have no resource scope.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Statement } from "./iam";

export interface KarpenterPolicyArgs {
  /** EKS cluster name: the `kubernetes.io/cluster/<name>` ownership tag Karpenter sets. */
  readonly clusterName: string;
  /** AWS partition, region and account of the cluster. */
  readonly partition: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  /** The interruption queue: the only queue the controller reads. */
  readonly queueArn: pulumi.Input<string>;
  /** The GPU node role: the only role the controller may pass. */
  readonly nodeRoleArn: pulumi.Input<string>;
}

export function karpenterControllerStatements(a: KarpenterPolicyArgs): Statement[] {
  const ec2 = (resource: string) => pulumi.interpolate`arn:${a.partition}:ec2:${a.region}:*:${resource}`;
  const owned = `aws:RequestTag/kubernetes.io/cluster/${a.clusterName}`;
  const ownedRes = `aws:ResourceTag/kubernetes.io/cluster/${a.clusterName}`;
  const launched = ["fleet/*", "instance/*", "volume/*", "network-interface/*", "launch-template/*"].map(ec2);
  return [
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [
        pulumi.interpolate`arn:${a.partition}:ec2:${a.region}::image/*`,
        pulumi.interpolate`arn:${a.partition}:ec2:${a.region}::snapshot/*`,
        ec2("security-group/*"),
        ec2("subnet/*"),
        ec2("capacity-reservation/*"),
      ],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [ec2("launch-template/*")],
      Condition: {
        StringEquals: { [ownedRes]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Resource: launched,
      Condition: { StringEquals: { [owned]: "owned" }, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: launched,
      Condition: {
        StringEquals: { [owned]: "owned", "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"] },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: [ec2("instance/*")],
      Condition: {
        StringEquals: { [ownedRes]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
        "ForAllValues:StringEquals": { "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Resource: [ec2("instance/*"), ec2("launch-template/*")],
      Condition: {
        StringEquals: { [ownedRes]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": a.region } },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Action: "ssm:GetParameter",
      Resource: pulumi.interpolate`arn:${a.partition}:ssm:${a.region}::parameter/aws/service/*`,
    },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
      Resource: a.queueArn,
    },
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: a.nodeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com"] } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Action: ["iam:CreateInstanceProfile"],
      Resource: pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
      Condition: {
        StringEquals: { [owned]: "owned", "aws:RequestTag/topology.kubernetes.io/region": a.region },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Action: ["iam:TagInstanceProfile"],
      Resource: pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
      Condition: {
        StringEquals: {
          [ownedRes]: "owned",
          "aws:ResourceTag/topology.kubernetes.io/region": a.region,
          [owned]: "owned",
          "aws:RequestTag/topology.kubernetes.io/region": a.region,
        },
        StringLike: {
          "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
          "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
      Resource: pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
      Condition: {
        StringEquals: { [ownedRes]: "owned", "aws:ResourceTag/topology.kubernetes.io/region": a.region },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Action: ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"],
      Resource: pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
    },
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: pulumi.interpolate`arn:${a.partition}:eks:${a.region}:${a.accountId}:cluster/${a.clusterName}`,
    },
  ];
}
