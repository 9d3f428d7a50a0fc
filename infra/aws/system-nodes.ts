/**
 * The managed node group for system pods (Karpenter, CoreDNS, Kueue, ...): on-demand, small,
 * tainted CriticalAddonsOnly, IMDSv2 required with hop limit 1, encrypted gp3 root volumes.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { nodeRole } from "./node-role";
import type { Tags } from "./tags";

/** Label on system nodes; system workloads select it. */
export const SYSTEM_NODE_LABEL = { key: "kiln.dev/node-role", value: "system" } as const;
/** Taint on system nodes: only pods tolerating CriticalAddonsOnly (EKS add-ons, Karpenter, Kiln services) run there. */
export const SYSTEM_NODE_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" } as const;

export interface SystemNodesArgs {
  /** EKS cluster name (no default). */
  readonly clusterName: pulumi.Input<string>;
  /** Private subnets the nodes run in (no default). */
  readonly subnetIds: pulumi.Input<string[]>;
  /** EC2 instance types. Default ["m7i.large"]. */
  readonly instanceTypes?: readonly string[];
  /** Fewest nodes. Default 2. */
  readonly minSize?: number;
  /** Nodes at creation (later left to the operator). Default 2. */
  readonly desiredSize?: number;
  /** Most nodes. Default 4. */
  readonly maxSize?: number;
  /** Root volume size, GiB. Default 50. */
  readonly diskGiB?: number;
  /** AWS partition for managed policy ARNs (no default). */
  readonly partition: pulumi.Input<string>;
  /** Resources nodes need before joining (pre-node add-ons). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class SystemNodes extends pulumi.ComponentResource {
  readonly nodeGroup: aws.eks.NodeGroup;
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: SystemNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    const minSize = args.minSize ?? 2;
    const desiredSize = args.desiredSize ?? 2;
    const maxSize = args.maxSize ?? 4;
    if (!(minSize <= desiredSize && desiredSize <= maxSize))
      throw new Error(
        `SystemNodes ${name}: need minSize <= desiredSize <= maxSize, got ${minSize} / ${desiredSize} / ${maxSize}: fix kiln:systemNodes`,
      );
    const instanceTypes = args.instanceTypes ?? ["m7i.large"];
    if (instanceTypes.length === 0)
      throw new Error(
        `SystemNodes ${name}: instanceTypes is empty: list at least one type such as m7i.large in kiln:systemNodes.instanceTypes`,
      );
    super("kiln:aws:SystemNodes", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const { role, attachments } = nodeRole(`${name}-role`, args.partition, args.tags, parent);

    const launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-lt`,
      {
        description: "Kiln system nodes: IMDSv2 only, hop limit 1, encrypted gp3 root volume",
        updateDefaultVersion: true,
        // Hop limit 1: containers (one hop away) cannot reach the node's instance credentials.
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        blockDeviceMappings: [
          {
            deviceName: "/dev/xvda",
            ebs: { volumeSize: args.diskGiB ?? 50, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
          },
        ],
        tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
          resourceType,
          tags: tags("node"),
        })),
        tags: tags("lt"),
      },
      parent,
    );

    this.nodeGroup = new aws.eks.NodeGroup(
      `${name}-ng`,
      {
        clusterName: args.clusterName,
        nodeRoleArn: role.arn,
        subnetIds: args.subnetIds,
        capacityType: "ON_DEMAND",
        amiType: "AL2023_x86_64_STANDARD",
        instanceTypes: [...instanceTypes],
        scalingConfig: { minSize, desiredSize, maxSize },
        updateConfig: { maxUnavailable: 1 },
        launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply((v) => String(v)) },
        labels: { [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value },
        taints: [{ ...SYSTEM_NODE_TAINT }],
        tags: tags("ng"),
      },
      {
        parent: this,
        dependsOn: [...attachments, ...(args.dependsOn ?? [])],
        ignoreChanges: ["scalingConfig.desiredSize"],
      },
    );

    this.roleArn = role.arn;
    this.roleName = role.name;
    this.registerOutputs({ nodeGroup: this.nodeGroup, roleArn: this.roleArn, roleName: this.roleName });
  }
}
