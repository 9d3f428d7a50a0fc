/**
 * Karpenter's controller: IAM role through Pod Identity, the SQS interruption queue fed by
 * EventBridge (spot interruption, rebalance, instance state change, scheduled change), the GPU node
 * role with its EC2_LINUX access entry, and the pinned Helm charts (CRDs, then the controller).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrust, policyJson } from "./iam";
import { karpenterControllerStatements } from "./karpenter-policy";
import { nodeRole } from "./node-role";
import { SYSTEM_NODE_LABEL } from "./system-nodes";
import type { Tags } from "./tags";

/** Karpenter chart version (oci://public.ecr.aws/karpenter/karpenter and karpenter-crd). */
export const KARPENTER_VERSION = "1.12.1";
export const KARPENTER_NAMESPACE = "kube-system";
export const KARPENTER_SERVICE_ACCOUNT = "karpenter";

/** EventBridge events Karpenter reacts to, by child role name. */
export const INTERRUPTION_EVENTS: Readonly<Record<string, { source: string; detailType: string }>> = {
  "spot-interruption": { source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
  rebalance: { source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  "instance-state-change": { source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
  "scheduled-change": { source: "aws.health", detailType: "AWS Health Event" },
};

export interface KarpenterArgs {
  /** EKS cluster name, for the queue name and policy conditions (no default). */
  readonly clusterName: string;
  /** The cluster's `name` output: access entry and Pod Identity wait for the cluster (no default). */
  readonly eksCluster: pulumi.Input<string>;
  /** API server endpoint, passed to the controller (no default). */
  readonly clusterEndpoint: pulumi.Input<string>;
  /** AWS account id, region and partition of the stack (no default). */
  readonly account: {
    readonly accountId: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
  };
  /** Kubernetes provider of the cluster (no default). */
  readonly provider: k8s.Provider;
  /** Chart version. Default KARPENTER_VERSION. */
  readonly version?: string;
  /** Controller replicas. Default 2. */
  readonly replicas?: number;
  /** What the Helm release waits for (system nodes, CoreDNS). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Tags for every AWS resource (no default). */
  readonly tags: Tags;
}

export class Karpenter extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly queueName: pulumi.Output<string>;
  readonly controllerRoleArn: pulumi.Output<string>;
  /** Role of the GPU nodes Karpenter launches. */
  readonly nodeRoleName: pulumi.Output<string>;
  readonly nodeRoleArn: pulumi.Output<string>;

  constructor(name: string, args: KarpenterArgs, opts?: pulumi.ComponentResourceOptions) {
    const version = args.version ?? KARPENTER_VERSION;
    if (!/^\d+\.\d+\.\d+$/.test(version))
      throw new Error(
        `Karpenter ${name}: version '${version}' must be an exact chart version such as ${KARPENTER_VERSION}`,
      );
    const replicas = args.replicas ?? 2;
    super("kiln:aws:Karpenter", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });
    const { accountId, region, partition } = args.account;

    // Interruption queue: EventBridge -> SQS -> controller drains nodes before EC2 takes them.
    const queue = new aws.sqs.Queue(
      `${name}-interruption`,
      {
        name: args.clusterName,
        messageRetentionSeconds: 300,
        sqsManagedSseEnabled: true,
        tags: tags("interruption"),
      },
      parent,
    );
    new aws.sqs.QueuePolicy(
      `${name}-interruption`,
      {
        queueUrl: queue.url,
        policy: policyJson([
          {
            Sid: "EventBridgeSend",
            Effect: "Allow",
            Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
            Action: "sqs:SendMessage",
            Resource: queue.arn,
          },
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "sqs:*",
            Resource: queue.arn,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]),
      },
      parent,
    );
    for (const [role, event] of Object.entries(INTERRUPTION_EVENTS)) {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${role}`,
        {
          // Explicit: an auto-suffixed `<cluster>-karpenter-instance-state-change` can pass the 64-character limit.
          name: `${args.clusterName}-${role}`,
          description: `Karpenter ${args.clusterName}: ${event.detailType}`,
          eventPattern: JSON.stringify({ source: [event.source], "detail-type": [event.detailType] }),
          tags: tags(role),
        },
        parent,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${role}`,
        { rule: rule.name, targetId: "KarpenterInterruptionQueue", arn: queue.arn },
        parent,
      );
    }

    // GPU node role: joins the cluster through an EC2_LINUX access entry (no aws-auth).
    const node = nodeRole(`${name}-node`, partition, args.tags, parent);
    const nodeAccess = new aws.eks.AccessEntry(
      `${name}-node`,
      { clusterName: args.eksCluster, principalArn: node.role.arn, type: "EC2_LINUX", tags: tags("node") },
      parent,
    );

    // Controller role, assumed by the karpenter ServiceAccount through Pod Identity.
    const controller = new aws.iam.Role(
      `${name}-controller`,
      { assumeRolePolicy: podIdentityTrust(), tags: tags("controller") },
      parent,
    );
    const controllerPolicy = new aws.iam.Policy(
      `${name}-controller`,
      {
        description: `Karpenter controller of EKS cluster ${args.clusterName}`,
        policy: policyJson(
          karpenterControllerStatements({
            clusterName: args.clusterName,
            partition,
            region,
            accountId,
            queueArn: queue.arn,
            nodeRoleArn: node.role.arn,
          }),
        ),
        tags: tags("controller"),
      },
      parent,
    );
    const attach = new aws.iam.RolePolicyAttachment(
      `${name}-controller`,
      { role: controller.name, policyArn: controllerPolicy.arn },
      parent,
    );
    const association = new aws.eks.PodIdentityAssociation(
      `${name}-controller`,
      {
        clusterName: args.eksCluster,
        namespace: KARPENTER_NAMESPACE,
        serviceAccount: KARPENTER_SERVICE_ACCOUNT,
        roleArn: controller.arn,
        tags: tags("controller"),
      },
      parent,
    );

    const k8sOpts = { parent: this, provider: args.provider };
    const crds = new k8s.helm.v3.Release(
      `${name}-crd`,
      {
        name: "karpenter-crd",
        chart: "oci://public.ecr.aws/karpenter/karpenter-crd",
        version,
        namespace: KARPENTER_NAMESPACE,
      },
      { ...k8sOpts, dependsOn: args.dependsOn ?? [] },
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: "karpenter",
        chart: "oci://public.ecr.aws/karpenter/karpenter",
        version,
        namespace: KARPENTER_NAMESPACE,
        skipCrds: true,
        atomic: true,
        timeout: 600,
        values: {
          settings: {
            clusterName: args.clusterName,
            clusterEndpoint: args.clusterEndpoint,
            interruptionQueue: queue.name,
          },
          serviceAccount: { create: true, name: KARPENTER_SERVICE_ACCOUNT },
          replicas,
          // The chart already tolerates CriticalAddonsOnly and avoids Karpenter-launched nodes.
          nodeSelector: { [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value },
          controller: {
            // Nodes' IMDS is out of reach (hop limit 1), so the region comes from the environment.
            env: [{ name: "AWS_REGION", value: region }],
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
          },
        },
      },
      {
        ...k8sOpts,
        dependsOn: [crds, attach, association, nodeAccess, ...node.attachments, ...(args.dependsOn ?? [])],
      },
    );

    this.queueName = queue.name;
    this.controllerRoleArn = controller.arn;
    this.nodeRoleName = node.role.name;
    this.nodeRoleArn = node.role.arn;
    this.registerOutputs({
      release: this.release,
      queueName: this.queueName,
      controllerRoleArn: this.controllerRoleArn,
      nodeRoleName: this.nodeRoleName,
      nodeRoleArn: this.nodeRoleArn,
    });
  }
}
