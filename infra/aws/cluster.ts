/**
 * The EKS control plane: API-mode access entries, KMS envelope encryption of secrets, every
 * control-plane log type into a KMS-encrypted log group, a private endpoint with an optional public
 * CIDR allow-list, the OIDC provider, and the add-ons nodes need before they can join.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicy, policyJson, serviceTrust } from "./iam";
import type { Tags } from "./tags";
import { ACKNOWLEDGE_TAG, exposureProblems } from "../../contract/exposure";

/** Every EKS control-plane log type. */
export const CLUSTER_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** Add-ons that must run before nodes can become Ready (network, kube-proxy, Pod Identity). */
export const PRE_NODE_ADDONS = ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"] as const;

export interface ClusterArgs {
  /** EKS cluster name (no default). */
  readonly clusterName: string;
  /** Kubernetes minor version such as 1.34 (no default). */
  readonly kubernetesVersion: string;
  /** Private subnets for the control plane's network interfaces (no default). */
  readonly subnetIds: pulumi.Input<string[]>;
  /** CIDRs allowed to reach the public endpoint; empty = private endpoint only. Default []. */
  readonly publicAccessCidrs?: readonly string[];
  /** Share of IPv4 (percent) the public endpoint may open beyond Kiln's bounds (infra/lib/exposure.ts). Default none. */
  readonly publicAccessAcknowledgedPercent?: number;
  /** IAM roles granted cluster-admin through access entries. Default []. */
  readonly adminRoleArns?: readonly string[];
  /** Days control-plane logs are kept. Default 90. */
  readonly logRetentionDays?: number;
  /** AWS account id, region and partition of the stack (no default). */
  readonly account: {
    readonly accountId: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
  };
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class Cluster extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly certificateAuthority: pulumi.Output<string>;
  /** Security group EKS puts on the control plane and on nodes (Karpenter's node SG too). */
  readonly clusterSecurityGroupId: pulumi.Output<string>;
  readonly oidcProviderArn: pulumi.Output<string>;
  /** KMS key encrypting Kubernetes secrets and control-plane logs. */
  readonly secretsKeyArn: pulumi.Output<string>;
  /** Add-ons nodes need before joining; node groups depend on them. */
  readonly preNodeAddons: aws.eks.Addon[];

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const publicCidrs = args.publicAccessCidrs ?? [];
    const acknowledged = args.publicAccessAcknowledgedPercent || undefined;
    const exposure = exposureProblems(publicCidrs, acknowledged);
    if (exposure.length)
      throw new Error(`Cluster ${name}: publicAccessCidrs: ${exposure.map((p) => p.message).join("; ")}`);
    const retention = args.logRetentionDays ?? 90;
    super("kiln:aws:Cluster", name, {}, opts);
    const parent = { parent: this };
    const { accountId, region, partition } = args.account;
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const logGroupName = `/aws/eks/${args.clusterName}/cluster`;
    const key = new aws.kms.Key(
      `${name}-secrets`,
      {
        description: `EKS ${args.clusterName}: envelope encryption of Kubernetes secrets and control-plane logs`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson([
          {
            Sid: "AccountAdmin",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${accountId}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "ControlPlaneLogs",
            Effect: "Allow",
            Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: {
              ArnLike: {
                "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`,
              },
            },
          },
        ]),
        tags: tags("secrets"),
      },
      parent,
    );
    const logs = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: logGroupName, retentionInDays: retention, kmsKeyId: key.arn, tags: tags("logs") },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      { assumeRolePolicy: serviceTrust("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]), tags: tags("role") },
      parent,
    );
    const rolePolicy = new aws.iam.RolePolicyAttachment(
      `${name}-role-policy`,
      { role: role.name, policyArn: managedPolicy(partition, "AmazonEKSClusterPolicy") },
      parent,
    );

    const cluster = new aws.eks.Cluster(
      `${name}-eks`,
      {
        name: args.clusterName,
        version: args.kubernetesVersion,
        roleArn: role.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: publicCidrs.length > 0,
          ...(publicCidrs.length > 0 ? { publicAccessCidrs: [...publicCidrs] } : {}),
        },
        // Access entries only (no aws-auth ConfigMap). The identity running `pulumi up` keeps admin
        // so it can install Karpenter and cluster services; other admins come from adminRoleArns.
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
        encryptionConfig: { provider: { keyArn: key.arn }, resources: ["secrets"] },
        enabledClusterLogTypes: [...CLUSTER_LOG_TYPES],
        // Kiln installs vpc-cni, kube-proxy and coredns as managed add-ons below.
        bootstrapSelfManagedAddons: false,
        // The acknowledgement travels with the cluster, so the policy pack judges the list by the same bound.
        tags: { ...tags("eks"), ...(acknowledged ? { [ACKNOWLEDGE_TAG]: String(acknowledged) } : {}) },
      },
      { parent: this, dependsOn: [rolePolicy, logs] },
    );

    const issuer = cluster.identities.apply((ids) => ids?.[0]?.oidcs?.[0]?.issuer ?? "");
    const oidc = new aws.iam.OpenIdConnectProvider(
      `${name}-oidc`,
      { url: issuer, clientIdLists: ["sts.amazonaws.com"], tags: tags("oidc") },
      parent,
    );

    for (const arn of args.adminRoleArns ?? []) {
      const child = `${name}-admin-${roleSlug(arn)}`;
      const entry = new aws.eks.AccessEntry(
        child,
        { clusterName: cluster.name, principalArn: arn, type: "STANDARD", tags: tags(`admin-${roleSlug(arn)}`) },
        parent,
      );
      new aws.eks.AccessPolicyAssociation(
        child,
        {
          clusterName: cluster.name,
          principalArn: entry.principalArn,
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
        parent,
      );
    }

    this.preNodeAddons = PRE_NODE_ADDONS.map(
      (addon) =>
        new aws.eks.Addon(
          `${name}-${addon}`,
          {
            clusterName: cluster.name,
            addonName: addon,
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "PRESERVE",
            // The network policy agent enforces Kiln's default-deny NetworkPolicies.
            ...(addon === "vpc-cni" ? { configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }) } : {}),
            tags: tags(addon),
          },
          parent,
        ),
    );

    this.name = cluster.name;
    this.arn = cluster.arn;
    this.endpoint = cluster.endpoint;
    this.certificateAuthority = cluster.certificateAuthority.apply((ca) => ca.data ?? "");
    this.clusterSecurityGroupId = cluster.vpcConfig.apply((v) => v.clusterSecurityGroupId ?? "");
    this.oidcProviderArn = oidc.arn;
    this.secretsKeyArn = key.arn;
    this.registerOutputs({
      name: this.name,
      arn: this.arn,
      endpoint: this.endpoint,
      certificateAuthority: this.certificateAuthority,
      clusterSecurityGroupId: this.clusterSecurityGroupId,
      oidcProviderArn: this.oidcProviderArn,
      secretsKeyArn: this.secretsKeyArn,
      preNodeAddons: this.preNodeAddons,
    });
  }
}

/** `arn:aws:iam::123456789012:role/team/Admin` -> `123456789012-admin`: stable, DNS-safe. */
export function roleSlug(arn: string): string {
  const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (!m) throw new Error(`'${arn}' is not an IAM role ARN such as arn:aws:iam::123456789012:role/Admin`);
  return `${m[1]}-${m[2].toLowerCase().replace(/[^a-z0-9-]/g, "-")}`;
}
