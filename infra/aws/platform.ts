/**
 * The AWS platform: network -> EKS -> system nodes -> add-ons -> Karpenter + GPU NodePools, plus
 * S3 storage (and an optional Lustre cache), the trainer's Pod Identity role and its ECR repository.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KilnConfig } from "../config";
import { AWS_TOPOLOGY_LEVELS } from "../../contract/workload";
import type {
  DatasetCacheOutputs,
  ObjectStoreEgress,
  ObjectStoreOutputs,
  PlatformOutputs,
  PlatformTopology,
  PoolEfa,
  SystemPlacement,
} from "../platform";
import { Addons } from "./addons";
import { Cluster } from "./cluster";
import { Efa, efaPools } from "./efa";
import { DatasetCache } from "./fsx";
import { GpuNodePools } from "./gpu-pools";
import { TrainerIdentity } from "./identity";
import { Karpenter } from "./karpenter";
import { eksKubeconfig } from "./kubeconfig";
import { Network } from "./network";
import { Registry } from "./registry";
import { Storage } from "./storage";
import { SYSTEM_NODE_LABEL, SYSTEM_NODE_TAINT, SystemNodes } from "./system-nodes";
import { kilnTags } from "./tags";

export interface AwsPlatformArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
}

/** The CIDRs of the region's S3 prefix list (what the S3 gateway endpoint routes), sorted. */
export function s3Ranges(region: pulumi.Input<string>, opts: pulumi.InvokeOutputOptions): pulumi.Output<string[]> {
  const list = aws.ec2.getManagedPrefixListOutput({ name: pulumi.interpolate`com.amazonaws.${region}.s3` }, opts);
  return list.entries.apply((entries) => entries.map((e) => e.cidr).sort());
}
/**
 * Pods get AWS credentials from the Pod Identity agent on their node (link-local, port 80);
 * default-deny egress would cut them off.
 */
export const EKS_POD_IDENTITY_EGRESS: ObjectStoreEgress = { kind: "cidr", cidr: "169.254.170.23/32", port: 80 };

export class AwsPlatform extends pulumi.ComponentResource implements PlatformOutputs {
  readonly provider: k8s.Provider;
  readonly kubeconfig: pulumi.Output<string>;
  readonly objectStore: ObjectStoreOutputs;
  readonly trainerServiceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly trainerImage: pulumi.Output<string>;
  readonly accountantImage?: pulumi.Output<string>;
  readonly accountantImagePushedLater: boolean;
  /** The accountant's ECR repository URL, when the stack created it (no kiln:accountant.repository). */
  readonly accountantRepositoryUrl?: pulumi.Output<string>;
  readonly apiServerCidrs: readonly string[];
  readonly clusterReady: pulumi.Resource[];
  readonly identityEgress: readonly ObjectStoreEgress[];
  readonly systemPlacement: SystemPlacement;
  readonly clusterName: pulumi.Output<string>;
  readonly imageRepositoryUrl: pulumi.Output<string>;
  readonly trainerRoleArn: pulumi.Output<string>;
  /** FSx for Lustre linked to the datasets bucket, when kiln:storage.fsx.enabled. */
  readonly datasetCache?: DatasetCacheOutputs;
  readonly topology?: PlatformTopology;
  readonly efa: Readonly<Record<string, PoolEfa>>;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const c = args.config;
    if (c.platform !== "aws")
      throw new Error(
        `AwsPlatform ${name}: kiln:platform is '${c.platform}'; use LocalPlatform or set kiln:platform to aws`,
      );
    super("kiln:aws:Platform", name, {}, opts);
    const parent = { parent: this };
    const tags = kilnTags(c);

    const account = {
      accountId: aws.getCallerIdentityOutput({}, parent).accountId,
      region: aws.getRegionOutput({}, parent).region,
      partition: aws.getPartitionOutput({}, parent).partition,
    };

    const network = new Network(
      `${name}-network`,
      {
        vpcCidr: c.vpcCidr,
        subnets: c.subnets,
        clusterName: c.clusterName,
        natGateways: c.natGateways,
        region: account.region,
        tags,
      },
      parent,
    );

    const cluster = new Cluster(
      `${name}-cluster`,
      {
        clusterName: c.clusterName,
        kubernetesVersion: c.kubernetesVersion,
        subnetIds: network.privateSubnetIds,
        publicAccessCidrs: c.publicAccessCidrs,
        publicAccessAcknowledgedPercent: c.publicAccessAcknowledgedPercent,
        adminRoleArns: c.adminRoleArns,
        account,
        tags,
      },
      parent,
    );

    this.kubeconfig = eksKubeconfig({
      clusterName: cluster.name,
      endpoint: cluster.endpoint,
      certificateAuthority: cluster.certificateAuthority,
      region: account.region,
    });
    this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig }, parent);

    const system = new SystemNodes(
      `${name}-system`,
      {
        clusterName: cluster.name,
        subnetIds: network.privateSubnetIds,
        instanceTypes: c.systemNodes.instanceTypes,
        minSize: c.systemNodes.minSize,
        desiredSize: c.systemNodes.desiredSize,
        maxSize: c.systemNodes.maxSize,
        diskGiB: c.systemNodes.diskGiB,
        partition: account.partition,
        dependsOn: cluster.preNodeAddons,
        tags,
      },
      parent,
    );

    const addons = new Addons(
      `${name}-addons`,
      {
        clusterName: cluster.name,
        partition: account.partition,
        fsxCsi: c.storage.fsx.enabled,
        dependsOn: [system.nodeGroup],
        tags,
      },
      parent,
    );

    const storage = new Storage(
      `${name}-storage`,
      {
        forceDestroy: c.storage.forceDestroy,
        checkpointVersionDays: c.storage.checkpointVersionDays,
        noncurrentVersionDays: c.storage.noncurrentVersionDays,
        allowFsx: c.storage.fsx.enabled,
        account,
        tags,
      },
      parent,
    );

    if (c.storage.fsx.enabled) {
      const cache = new DatasetCache(
        `${name}-lustre`,
        {
          vpcId: network.vpcId,
          vpcCidr: c.vpcCidr,
          subnetId: network.privateSubnetIds.apply((ids) => ids[0]),
          datasetsBucket: storage.datasetsBucket,
          deploymentType: c.storage.fsx.deploymentType,
          storageCapacityGiB: c.storage.fsx.storageCapacityGiB,
          kmsKeyArn: storage.keyArn,
          tags,
        },
        parent,
      );
      this.datasetCache = {
        fileSystemId: cache.fileSystemId,
        dnsName: cache.dnsName,
        mountName: cache.mountName,
        storageCapacityGiB: cache.storageCapacityGiB,
        subPath: cache.subPath,
      };
    }

    const registry = new Registry(
      `${name}-registry`,
      { repositoryName: `${c.clusterName}/trainer`, forceDelete: c.storage.forceDestroy, tags },
      parent,
    );

    const identity = new TrainerIdentity(
      `${name}-trainer`,
      {
        clusterName: cluster.name,
        namespaces: Object.fromEntries(c.teams.map((t) => [t.name, t.namespace])),
        datasetsBucketArn: storage.datasetsBucketArn,
        artifactsBucketArn: storage.artifactsBucketArn,
        keyArn: storage.keyArn,
        tags,
      },
      parent,
    );

    const karpenter = new Karpenter(
      `${name}-karpenter`,
      {
        clusterName: c.clusterName,
        eksCluster: cluster.name,
        clusterEndpoint: cluster.endpoint,
        account,
        provider: this.provider,
        dependsOn: [system.nodeGroup, ...addons.addons],
        tags,
      },
      parent,
    );

    // EFA for the pools whose instances have it: a shared security group and the device plugin.
    this.efa = efaPools(c.gpuPools);
    const efa =
      Object.keys(this.efa).length > 0
        ? new Efa(
            `${name}-efa`,
            { vpcId: network.vpcId, provider: this.provider, dependsOn: [system.nodeGroup, ...addons.addons], tags },
            parent,
          )
        : undefined;

    const gpu = new GpuNodePools(
      `${name}-gpu`,
      {
        clusterName: c.clusterName,
        nodeRoleName: karpenter.nodeRoleName,
        securityGroupId: cluster.clusterSecurityGroupId,
        pools: c.gpuPools,
        efa: this.efa,
        efaSecurityGroupId: efa?.securityGroupId,
        provider: this.provider,
        dependsOn: [karpenter.release],
        tags,
      },
      parent,
    );

    this.objectStore = {
      region: account.region,
      datasetsBucket: storage.datasetsBucket,
      artifactsBucket: storage.artifactsBucket,
      // S3 through the gateway endpoint: the region's S3 ranges (its AWS-managed prefix list) on 443,
      // nothing else. Read at every `pulumi up`; see infra/aws/README.md for what a run can reach.
      egress: { kind: "cidrs", cidrs: s3Ranges(account.region, parent), port: 443 },
    };
    // Pod Identity needs no ServiceAccount annotation: the association names namespace + account.
    this.trainerServiceAccountAnnotations = {};
    this.identityEgress = [EKS_POD_IDENTITY_EGRESS];
    this.systemPlacement = {
      nodeSelector: { [SYSTEM_NODE_LABEL.key]: SYSTEM_NODE_LABEL.value },
      tolerations: [{ key: SYSTEM_NODE_TAINT.key, operator: "Exists", effect: "NoSchedule" }],
    };
    this.imageRepositoryUrl = registry.repositoryUrl;
    this.trainerImage = c.trainer.repository
      ? pulumi.output(`${c.trainer.repository}:${c.trainer.tag}`)
      : pulumi.interpolate`${registry.repositoryUrl}:${c.trainer.tag}`;
    if (c.accountant.enabled) {
      const accountantRegistry = c.accountant.repository
        ? undefined
        : new Registry(
            `${name}-accountant-registry`,
            { repositoryName: `${c.clusterName}/accountant`, forceDelete: c.storage.forceDestroy, tags },
            parent,
          );
      this.accountantRepositoryUrl = accountantRegistry?.repositoryUrl;
      this.accountantImage = accountantRegistry
        ? pulumi.interpolate`${accountantRegistry.repositoryUrl}:${c.accountant.tag}`
        : pulumi.output(`${c.accountant.repository}:${c.accountant.tag}`);
    }
    // A repository this stack creates is empty on its first `up`: nothing can have pushed the image yet.
    this.accountantImagePushedLater = c.accountant.enabled && !c.accountant.repository;
    // The private endpoint's ENIs sit in the VPC.
    this.apiServerCidrs = [c.vpcCidr];
    this.clusterReady = [
      system.nodeGroup,
      ...addons.addons,
      karpenter.release,
      ...Object.values(gpu.nodePools),
      ...(efa ? [efa.devicePlugin] : []),
    ];
    // EC2 instance topology labels exist only on some families, and Kueue 0.14 places a topology-aware
    // workload only onto nodes that already exist (Karpenter creates none for it): pools opt in by name.
    this.topology =
      c.topology.enabled && c.kueue.enabled
        ? { levels: [...AWS_TOPOLOGY_LEVELS], pools: c.topology.pools ?? [] }
        : undefined;
    this.clusterName = cluster.name;
    this.trainerRoleArn = identity.roleArn;
    this.registerOutputs({
      provider: this.provider,
      kubeconfig: this.kubeconfig,
      trainerServiceAccountAnnotations: this.trainerServiceAccountAnnotations,
      clusterReady: this.clusterReady,
      objectStore: this.objectStore,
      trainerImage: this.trainerImage,
      accountantImage: this.accountantImage,
      accountantImagePushedLater: this.accountantImagePushedLater,
      accountantRepositoryUrl: this.accountantRepositoryUrl,
      apiServerCidrs: this.apiServerCidrs,
      clusterName: this.clusterName,
      imageRepositoryUrl: this.imageRepositoryUrl,
      trainerRoleArn: this.trainerRoleArn,
      identityEgress: this.identityEgress,
      systemPlacement: this.systemPlacement,
      datasetCache: this.datasetCache,
      topology: this.topology,
      efa: this.efa,
    });
  }
}
