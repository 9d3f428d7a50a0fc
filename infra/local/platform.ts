import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KilnConfig } from "../config";

import { CPU_NODE_LABEL } from "../../contract/names";
import { LOCAL_TOPOLOGY_LEVELS } from "../../contract/workload";
import type { ObjectStoreEgress, ObjectStoreOutputs, PlatformOutputs, PlatformTopology, PoolEfa } from "../platform";
import { egressForEndpoint } from "./external-store";
import { MINIO_POD_LABELS, MINIO_PORT, Minio, SYSTEM_NAMESPACE } from "./minio";
import { TEAM_LABEL } from "../../contract/labels";

export interface LocalPlatformArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
}

/**
 * Whatever cluster the kubeconfig points at, plus object storage: an in-cluster MinIO (default) or
 * an existing S3-compatible endpoint from config. Creates no cloud resource.
 */
export class LocalPlatform extends pulumi.ComponentResource implements PlatformOutputs {
  readonly provider: k8s.Provider;
  readonly kubeconfig: pulumi.Output<string>;
  readonly objectStore: ObjectStoreOutputs;
  readonly identityEgress: readonly ObjectStoreEgress[] = [];
  readonly trainerServiceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly trainerImage: pulumi.Output<string>;
  readonly accountantImage?: pulumi.Output<string>;
  readonly clusterReady: pulumi.Resource[];
  readonly topology?: PlatformTopology;
  /** No EFA on a local cluster. */
  readonly efa: Readonly<Record<string, PoolEfa>> = {};

  constructor(name: string, args: LocalPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything (this component included).
    const { config } = args;
    const repository = config.trainer.repository!; // parseConfig requires it on the local platform
    const store = config.objectStore;
    const egress = store.mode === "external" ? egressForEndpoint(requireKey(store.endpoint, "endpoint")) : undefined;
    super("kiln:local:Platform", name, {}, opts);

    // No kubeconfig argument: the provider uses kubernetes:kubeconfig config or $KUBECONFIG / ~/.kube/config.
    this.provider = new k8s.Provider(`${name}-k8s`, {}, { parent: this });
    this.kubeconfig = pulumi.secret(ambientKubeconfig());
    this.trainerImage = pulumi.output(`${repository}:${config.trainer.tag}`);
    if (config.accountant.enabled)
      this.accountantImage = pulumi.output(
        `${config.accountant.repository ?? siblingRepository(repository, "accountant")}:${config.accountant.tag}`,
      );
    this.trainerServiceAccountAnnotations = {};
    this.clusterReady = [];
    this.topology = localTopology(config);

    const buckets = {
      datasetsBucket: pulumi.output(store.datasetsBucket),
      artifactsBucket: pulumi.output(store.artifactsBucket),
    };
    if (store.mode === "external") {
      this.objectStore = {
        endpoint: pulumi.output(store.endpoint!),
        region: pulumi.output(store.region),
        ...buckets,
        credentials: {
          accessKeyId: pulumi.output(requireKey(store.accessKeyId, "accessKeyId")),
          secretAccessKey: pulumi.secret(requireKey(store.secretAccessKey, "secretAccessKey")),
        },
        egress: egress!,
      };
    } else {
      const minio = new Minio(
        `${name}-minio`,
        {
          buckets: [store.datasetsBucket, store.artifactsBucket],
          storage: store.minioStorage,
          clientNamespaceLabel: TEAM_LABEL,
          provider: this.provider,
        },
        { parent: this },
      );
      this.objectStore = {
        endpoint: minio.endpoint,
        region: pulumi.output(store.region),
        ...buckets,
        credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
        egress: { kind: "pods", namespace: SYSTEM_NAMESPACE, podLabels: { ...MINIO_POD_LABELS }, port: MINIO_PORT },
        // The buckets and the trainer's user exist once the setup Job has completed.
        ready: [minio.setup],
      };
    }
    this.registerOutputs({
      provider: this.provider,
      kubeconfig: this.kubeconfig,
      objectStore: this.objectStore,
      trainerServiceAccountAnnotations: this.trainerServiceAccountAnnotations,
      trainerImage: this.trainerImage,
      accountantImage: this.accountantImage,
      clusterReady: this.clusterReady,
      identityEgress: this.identityEgress,
      topology: this.topology,
      efa: this.efa,
    });
  }
}

/**
 * The local harness labels every node (simulated GPU and CPU nodes and the real node) with a synthetic
 * block and rack: every pool (or those listed in kiln:topology.pools) and the CPU nodes are
 * topology-aware. Another cluster needs those labels on its nodes, or kiln:topology.enabled false.
 */
export function localTopology(config: KilnConfig): PlatformTopology | undefined {
  if (!config.topology.enabled || !config.kueue.enabled) return undefined;
  const pools = config.topology.pools ?? config.gpuPools.map((p) => p.name);
  // The cpu flavor is shared by every team: topology-aware only when every pool is, so that every
  // team's ClusterQueue is topology-only (see infra/cluster/cluster-queue.ts).
  const all = config.gpuPools.every((p) => pools.includes(p.name));
  return {
    levels: [...LOCAL_TOPOLOGY_LEVELS],
    pools,
    ...(all ? { cpuNodeLabels: { [CPU_NODE_LABEL.key]: CPU_NODE_LABEL.value } } : {}),
  };
}

function requireKey(value: string | undefined, key: string): string {
  if (!value) throw new Error(`kiln:objectStore.${key} is required when kiln:objectStore.mode is external`);
  return value;
}

/**
 * The kubeconfig the provider will use, as text: `kubernetes:kubeconfig` (contents or a path), else
 * the first file of $KUBECONFIG, else ~/.kube/config; empty when none exists (e.g. in-cluster).
 */
export function ambientKubeconfig(env: NodeJS.ProcessEnv = process.env): pulumi.Output<string> {
  const configured = new pulumi.Config("kubernetes").getSecret("kubeconfig");
  return pulumi.output(configured).apply((value) => {
    if (value) return fs.existsSync(value) ? fs.readFileSync(value, "utf8") : value;
    const candidates = [
      ...(env.KUBECONFIG ?? "").split(path.delimiter).filter(Boolean),
      path.join(env.HOME ?? os.homedir(), ".kube", "config"),
    ];
    const file = candidates.find((f) => fs.existsSync(f));
    return file ? fs.readFileSync(file, "utf8") : "";
  });
}

/** `registry/kiln/trainer` -> `registry/kiln/accountant`: Kiln's images are published side by side. */
export function siblingRepository(repository: string, image: string): string {
  const slash = repository.lastIndexOf("/");
  return slash < 0 ? image : `${repository.slice(0, slash)}/${image}`;
}
