import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/**
 * What a platform (aws/ or local/) hands to the provider-agnostic cluster layer. Data flows one
 * way: config -> platform -> cluster services -> outputs.
 */
export interface PlatformOutputs {
  /** Kubernetes provider for everything inside the cluster. */
  readonly provider: k8s.Provider;
  /** Kubeconfig of the cluster (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** Object storage the trainer reads datasets from and writes runs to. */
  readonly objectStore: ObjectStoreOutputs;
  /** Annotations for the trainer ServiceAccount (cloud identity); empty when none is needed. */
  readonly trainerServiceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Full trainer image reference `<repository>:<tag>`. */
  readonly trainerImage: pulumi.Output<string>;
  /** Full kiln-accountant image reference; undefined when the accountant is off. */
  readonly accountantImage?: pulumi.Output<string>;
  /**
   * The accountant image is pushed after the first `pulumi up` (its repository is made by that `up`):
   * its Deployment must not hold the stack until its pod is ready. Default false (the image exists).
   */
  readonly accountantImagePushedLater?: boolean;
  /** CIDRs the Kubernetes API server answers on, for controllers' egress policies; undefined when unknown. */
  readonly apiServerCidrs?: readonly string[];
  /** Resources the cluster layer must wait for (node capacity, CNI, ...). */
  readonly clusterReady: pulumi.Resource[];
  /** Egress training pods need for their cloud identity (e.g. the EKS Pod Identity agent); empty when none. */
  readonly identityEgress: readonly ObjectStoreEgress[];
  /** Where cluster controllers (Kueue, ...) must run; undefined when any node will do. */
  readonly systemPlacement?: SystemPlacement;
  /** A POSIX cache of the datasets bucket that training pods mount read-only; undefined when none. */
  readonly datasetCache?: DatasetCacheOutputs;
  /** How the platform's nodes describe their place in the network (Kueue TAS); undefined when topology is off. */
  readonly topology?: PlatformTopology;
  /** Pool name -> EFA of its nodes, for pools that have it (aws p-family pools); empty when none. */
  readonly efa: Readonly<Record<string, PoolEfa>>;
}

/** The network topology the platform's nodes carry as labels, for Kueue's Topology and TAS flavors. */
export interface PlatformTopology {
  /** Node labels of the levels, outermost first, `kubernetes.io/hostname` last. */
  readonly levels: readonly string[];
  /** GPU pools whose every node carries every level label: their flavors become topology-aware. */
  readonly pools: readonly string[];
  /**
   * Labels of the nodes CPU-only runs use, when those nodes carry the levels too: then the `cpu` flavor is
   * topology-aware as well and a team's ClusterQueue can be topology-only. Undefined: no such nodes.
   */
  readonly cpuNodeLabels?: Readonly<Record<string, string>>;
}

/** EFA on a pool's nodes: what a multi-node pod on it requests (`vpc.amazonaws.com/efa`). */
export interface PoolEfa {
  /** EFA interfaces (the `vpc.amazonaws.com/efa` allocatable) of each node of the pool. */
  readonly interfacesPerNode: number;
}

/** A Lustre file system linked to the datasets bucket, mounted through the FSx CSI driver. */
export interface DatasetCacheOutputs {
  readonly fileSystemId: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly mountName: pulumi.Output<string>;
  readonly storageCapacityGiB: number;
  /** Directory of the file system that holds the bucket's objects ("" = its root). */
  readonly subPath: string;
}

/** Node selector and tolerations that put a controller on the platform's system nodes. */
export interface SystemPlacement {
  readonly nodeSelector: Record<string, string>;
  readonly tolerations: readonly { key: string; operator: "Exists" | "Equal"; value?: string; effect?: string }[];
}

export interface ObjectStoreOutputs {
  /** S3-compatible endpoint URL; undefined means the cloud's own S3. */
  readonly endpoint?: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly datasetsBucket: pulumi.Output<string>;
  readonly artifactsBucket: pulumi.Output<string>;
  /** Static credentials for the store (local platform); undefined when pods get a cloud identity. */
  readonly credentials?: {
    readonly accessKeyId: pulumi.Output<string>;
    readonly secretAccessKey: pulumi.Output<string>;
  };
  /** Where training pods may send object-store traffic (NetworkPolicy egress). */
  readonly egress: ObjectStoreEgress;
  /** What must exist before training can use the store (buckets, users); empty when nothing. */
  readonly ready?: readonly pulumi.Resource[];
}

/** NetworkPolicy egress to the object store: pods in a namespace, or IP blocks (known only at deploy time, e.g. a prefix list). */
export type ObjectStoreEgress =
  | {
      readonly kind: "pods";
      readonly namespace: string;
      readonly podLabels: Record<string, string>;
      readonly port: number;
    }
  | { readonly kind: "cidr"; readonly cidr: string; readonly except?: string[]; readonly port: number }
  | { readonly kind: "cidrs"; readonly cidrs: pulumi.Input<readonly string[]>; readonly port: number };
