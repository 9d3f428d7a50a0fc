/**
 * GPU capacity: one EC2NodeClass (AL2023; Karpenter resolves the NVIDIA-accelerated variant of the
 * EKS AMI for GPU instance types), and one Karpenter NodePool per configured pool: tainted
 * nvidia.com/gpu, limited in GPUs, consolidated only when empty.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gpuNamesOf } from "../../contract/catalog/gpu-families";
import type { GpuPoolConfig } from "../config";
import { GPU_POOL_LABEL, GPU_PRESENT_LABEL, GPU_RESOURCE, GPU_TAINT, KARPENTER_GPU_LABEL } from "../../contract/gpu";
import { EFA_NODE_LABEL } from "../../contract/workload";
import type { PoolEfa } from "../platform";
import type { Tags } from "./tags";

/** EC2NodeClass of GPU pools, and of the pools with EFA (the same plus the EFA security group). */
export const GPU_NODE_CLASS = "kiln-gpu";
export const EFA_NODE_CLASS = "kiln-gpu-efa";

export interface GpuNodePoolsArgs {
  /** EKS cluster name, for the subnet discovery tag (no default). */
  readonly clusterName: string;
  /** Name of the IAM role of GPU nodes; Karpenter makes the instance profile (no default). */
  readonly nodeRoleName: pulumi.Input<string>;
  /** Security group put on GPU nodes: the EKS cluster security group (no default). */
  readonly securityGroupId: pulumi.Input<string>;
  /** The configured GPU pools, one NodePool each (no default). */
  readonly pools: readonly GpuPoolConfig[];
  /** Pools with EFA (efa.ts `efaPools`): their nodes get the EFA node class and label. Default {}. */
  readonly efa?: Readonly<Record<string, PoolEfa>>;
  /** The EFA security group (all traffic within itself); required when `efa` names a pool. */
  readonly efaSecurityGroupId?: pulumi.Input<string>;
  /** AMI selector alias. Default al2023@latest (drift replaces idle nodes; running training is protected by do-not-disrupt). */
  readonly amiAlias?: string;
  /** Root volume of GPU nodes (images, dataset cache), GiB. Default 200. */
  readonly volumeGiB?: number;
  /** How long a GPU node must be empty before Karpenter removes it. Default 10m. */
  readonly consolidateAfter?: string;
  /** Kubernetes provider of the cluster (no default). */
  readonly provider: k8s.Provider;
  /** What the objects wait for: the Karpenter release (its CRDs). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Tags Karpenter puts on instances, volumes and interfaces (no default). */
  readonly tags: Tags;
}

export class GpuNodePools extends pulumi.ComponentResource {
  readonly nodeClassName: string;
  /** Pool name -> NodePool. */
  readonly nodePools: Readonly<Record<string, k8s.apiextensions.CustomResource>>;

  constructor(name: string, args: GpuNodePoolsArgs, opts?: pulumi.ComponentResourceOptions) {
    const alias = args.amiAlias ?? "al2023@latest";
    if (!/^al2023@(latest|v\d{8})$/.test(alias))
      throw new Error(`GpuNodePools ${name}: amiAlias '${alias}' must be al2023@latest or al2023@vYYYYMMDD`);
    const seen = new Set<string>();
    for (const p of args.pools) {
      if (seen.has(p.name))
        throw new Error(`GpuNodePools ${name}: duplicate pool name '${p.name}' in kiln:gpuPools: names must be unique`);
      seen.add(p.name);
      if ((p.instanceFamilies ?? []).length === 0 && (p.instanceTypes ?? []).length === 0)
        throw new Error(
          `GpuNodePools ${name}: pool '${p.name}' needs instanceFamilies or instanceTypes in kiln:gpuPools`,
        );
    }
    const efa = args.efa ?? {};
    if (Object.keys(efa).length > 0 && !args.efaSecurityGroupId)
      throw new Error(
        `GpuNodePools ${name}: pools ${Object.keys(efa).join(", ")} have EFA but no efaSecurityGroupId was given: pass the Efa component's security group`,
      );
    super("kiln:aws:GpuNodePools", name, {}, opts);
    const k8sOpts = { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] };
    this.nodeClassName = GPU_NODE_CLASS;

    const nodeClassSpec = (securityGroupIds: pulumi.Input<string>[]) => ({
      // With an al2023 alias Karpenter reads the standard, nvidia and neuron AMI ids from SSM
      // (/aws/service/eks/optimized-ami/<k8s>/amazon-linux-2023/x86_64/nvidia/...) and gives
      // NVIDIA instance types the accelerated AMI (driver + container toolkit preinstalled).
      amiFamily: "AL2023",
      amiSelectorTerms: [{ alias }],
      role: args.nodeRoleName,
      subnetSelectorTerms: [{ tags: { "karpenter.sh/discovery": args.clusterName } }],
      securityGroupSelectorTerms: securityGroupIds.map((id) => ({ id })),
      // IMDSv2 only, hop limit 1: pods cannot reach the node role's credentials.
      metadataOptions: {
        httpEndpoint: "enabled",
        httpProtocolIPv6: "disabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          rootVolume: true,
          ebs: {
            volumeSize: `${args.volumeGiB ?? 200}Gi`,
            volumeType: "gp3",
            encrypted: true,
            deleteOnTermination: true,
          },
        },
      ],
      tags: { ...args.tags },
    });
    const nodeClass = new k8s.apiextensions.CustomResource(
      `${name}-nodeclass`,
      {
        apiVersion: "karpenter.k8s.aws/v1",
        kind: "EC2NodeClass",
        metadata: { name: GPU_NODE_CLASS },
        spec: nodeClassSpec([args.securityGroupId]),
      },
      k8sOpts,
    );
    // EFA pools: the cluster security group plus the EFA one on every interface of their instances.
    const efaNodeClass =
      Object.keys(efa).length > 0
        ? new k8s.apiextensions.CustomResource(
            `${name}-nodeclass-efa`,
            {
              apiVersion: "karpenter.k8s.aws/v1",
              kind: "EC2NodeClass",
              metadata: { name: EFA_NODE_CLASS },
              spec: nodeClassSpec([args.securityGroupId, args.efaSecurityGroupId!]),
            },
            k8sOpts,
          )
        : undefined;

    const pools: Record<string, k8s.apiextensions.CustomResource> = {};
    for (const pool of args.pools) {
      const hasEfa = pool.name in efa;
      pools[pool.name] = new k8s.apiextensions.CustomResource(
        `${name}-${pool.name}`,
        {
          apiVersion: "karpenter.sh/v1",
          kind: "NodePool",
          metadata: { name: pool.name },
          spec: nodePoolSpec(pool, hasEfa ? EFA_NODE_CLASS : GPU_NODE_CLASS, args.consolidateAfter ?? "10m", hasEfa),
        },
        { ...k8sOpts, dependsOn: [...k8sOpts.dependsOn, hasEfa ? efaNodeClass! : nodeClass] },
      );
    }
    this.nodePools = pools;
    this.registerOutputs({ nodeClassName: this.nodeClassName, nodePools: this.nodePools });
  }
}

/** The NodePool spec of one GPU pool (pure: tested directly). */
export function nodePoolSpec(
  pool: GpuPoolConfig,
  nodeClassName: string,
  consolidateAfter: string,
  efa = false,
): Record<string, unknown> {
  const families = pool.instanceFamilies ?? [];
  const types = pool.instanceTypes ?? [];
  const shape =
    families.length > 0
      ? { key: "karpenter.k8s.aws/instance-family", operator: "In", values: [...families] }
      : { key: "node.kubernetes.io/instance-type", operator: "In", values: [...types] };
  return {
    template: {
      metadata: {
        labels: {
          [GPU_POOL_LABEL]: pool.name,
          [GPU_PRESENT_LABEL.key]: GPU_PRESENT_LABEL.value,
          ...(efa ? { [EFA_NODE_LABEL]: "true" } : {}),
        },
      },
      spec: {
        nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: nodeClassName },
        requirements: [
          shape,
          { key: "karpenter.sh/capacity-type", operator: "In", values: [...pool.capacityTypes] },
          { key: KARPENTER_GPU_LABEL, operator: "In", values: gpuNamesOf([...families, ...types]) },
          { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
          { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
        ],
        taints: [{ ...GPU_TAINT }],
        // Nodes are never expired under a running job; empty nodes go away after consolidateAfter.
        expireAfter: "Never",
      },
    },
    limits: { [GPU_RESOURCE]: pool.maxGpus },
    disruption: {
      // Never consolidate a node that runs a pod: training is only moved by its own end.
      consolidationPolicy: "WhenEmpty",
      consolidateAfter,
      budgets: [
        { nodes: "10%", reasons: ["Empty"] },
        { nodes: "1", reasons: ["Drifted"] },
      ],
    },
  };
}
