/** IAM policy documents as typed data, plus the trust policies Kiln's roles use. */
import * as pulumi from "@pulumi/pulumi";

export interface Statement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | readonly string[];
  readonly Resource?: pulumi.Input<string> | readonly pulumi.Input<string>[];
  readonly Principal?: Record<string, pulumi.Input<string> | readonly pulumi.Input<string>[]> | "*";
  readonly Condition?: Record<string, Record<string, pulumi.Input<string> | readonly pulumi.Input<string>[]>>;
}

/** Serialises a policy document whose resources may still be Outputs. */
export function policyJson(statements: readonly Statement[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** Trust policy for a role assumed through EKS Pod Identity (needs sts:TagSession). */
export function podIdentityTrust(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
      },
    ],
  });
}

/** Trust policy for a role assumed by an AWS service (ec2, eks, ...). */
export function serviceTrust(service: string, actions: readonly string[] = ["sts:AssumeRole"]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }],
  });
}

/** AWS managed policy ARN in the given partition. */
export function managedPolicy(partition: pulumi.Input<string>, name: string): pulumi.Output<string> {
  return pulumi.interpolate`arn:${partition}:iam::aws:policy/${name}`;
}

/** Managed policies every EKS node role needs: join the cluster, run the VPC CNI, pull images. */
export const NODE_POLICIES = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryPullOnly",
] as const;
