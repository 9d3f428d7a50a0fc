/** The EC2 role of EKS nodes (system node group and Karpenter GPU nodes). */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { managedPolicy, NODE_POLICIES, serviceTrust } from "./iam";
import type { Tags } from "./tags";

export interface NodeRole {
  readonly role: aws.iam.Role;
  /** Attachments a node group must wait for, or nodes fail to join. */
  readonly attachments: aws.iam.RolePolicyAttachment[];
}

/** Role `${name}` with the node managed policies attached as `${name}-<policy>`. */
export function nodeRole(
  name: string,
  partition: pulumi.Input<string>,
  tags: Tags,
  opts: pulumi.CustomResourceOptions,
): NodeRole {
  const role = new aws.iam.Role(
    name,
    { assumeRolePolicy: serviceTrust("ec2.amazonaws.com"), tags: { ...tags, Name: name } },
    opts,
  );
  const attachments = NODE_POLICIES.map(
    (policy) =>
      new aws.iam.RolePolicyAttachment(
        `${name}-${policy.toLowerCase().replace(/_/g, "-")}`,
        { role: role.name, policyArn: managedPolicy(partition, policy) },
        opts,
      ),
  );
  return { role, attachments };
}
