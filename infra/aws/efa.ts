/**
 * EFA for the GPU pools that have it (p-family): a security group that lets its members exchange all
 * traffic (EFA's requirement: all protocols to and from the group itself), put on those pools' nodes
 * through their own EC2NodeClass (gpu-pools.ts), and the AWS EFA Kubernetes device plugin, which
 * advertises `vpc.amazonaws.com/efa` on them. Karpenter gives an instance EFA interfaces when the pods it
 * launches the instance for request `vpc.amazonaws.com/efa` (Karpenter v1 has no EC2NodeClass field for
 * it); the plugin makes that resource allocatable.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { efaInterfacesOf } from "../../contract/catalog/gpu-families";
import type { GpuPoolConfig } from "../config";
import { GPU_TOLERATION } from "../../contract/gpu";
import { EFA_NODE_LABEL } from "../../contract/workload";
import type { PoolEfa } from "../platform";
import type { Tags } from "./tags";

/** The device plugin's chart (aws/eks-charts) and the image of that chart's appVersion, pinned once here. */
export const EFA_DEVICE_PLUGIN_CHART = {
  chart: "aws-efa-k8s-device-plugin",
  version: "v0.5.30",
  repo: "https://aws.github.io/eks-charts",
} as const;
export const EFA_DEVICE_PLUGIN_IMAGE = {
  repository: "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/aws-efa-k8s-device-plugin",
  tag: "v0.5.20",
} as const;
/** Namespace of the device plugin (the chart's own default, beside the other node add-ons). */
export const EFA_NAMESPACE = "kube-system";

/** Pool name -> EFA of its nodes, for the pools whose every instance family has EFA (pure: tested directly). */
export function efaPools(pools: readonly GpuPoolConfig[]): Record<string, PoolEfa> {
  const out: Record<string, PoolEfa> = {};
  for (const p of pools) {
    const n = efaInterfacesOf([...(p.instanceFamilies ?? []), ...(p.instanceTypes ?? [])]);
    if (n > 0) out[p.name] = { interfacesPerNode: n };
  }
  return out;
}

export interface EfaArgs {
  /** VPC of the cluster (no default). */
  readonly vpcId: pulumi.Input<string>;
  /** Kubernetes provider of the cluster (no default). */
  readonly provider: k8s.Provider;
  /** What the device plugin release waits for (system nodes, add-ons). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Tags for every AWS resource (no default). */
  readonly tags: Tags;
}

export class Efa extends pulumi.ComponentResource {
  /** The security group EFA nodes share (all traffic within the group). */
  readonly securityGroupId: pulumi.Output<string>;
  readonly devicePlugin: k8s.helm.v3.Release;

  constructor(name: string, args: EfaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:aws:Efa", name, {}, opts);
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });
    const self = { protocol: "-1", fromPort: 0, toPort: 0, self: true };
    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "EFA: all traffic between EFA nodes (the group itself), nothing else",
        ingress: [{ ...self, description: "EFA from members of this group" }],
        egress: [{ ...self, description: "EFA to members of this group" }],
        tags: tags("sg"),
      },
      { parent: this },
    );

    this.devicePlugin = new k8s.helm.v3.Release(
      `${name}-device-plugin`,
      {
        name: "aws-efa-k8s-device-plugin",
        chart: EFA_DEVICE_PLUGIN_CHART.chart,
        version: EFA_DEVICE_PLUGIN_CHART.version,
        repositoryOpts: { repo: EFA_DEVICE_PLUGIN_CHART.repo },
        namespace: EFA_NAMESPACE,
        values: {
          image: { ...EFA_DEVICE_PLUGIN_IMAGE },
          // Only on EFA pool nodes (the chart also limits itself to EFA instance types), past the GPU taint.
          nodeSelector: { [EFA_NODE_LABEL]: "true" },
          tolerations: [{ ...GPU_TOLERATION }],
        },
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn ?? [] },
    );

    this.securityGroupId = sg.id;
    this.registerOutputs({ securityGroupId: this.securityGroupId, devicePlugin: this.devicePlugin });
  }
}
