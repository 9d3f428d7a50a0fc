import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GpuPoolConfig, TeamConfig } from "../config";
import type { PlatformTopology, SystemPlacement } from "../platform";
import { GPU_POOL_LABEL, GPU_TOLERATION } from "../../contract/gpu";
import { CPU_FLAVOR, KUEUE_NAMESPACE } from "../../contract/names";
import { TOPOLOGY_NAME } from "../../contract/workload";
import { resourceGroups } from "./cluster-queue";
import { kueueManagerConfigYaml } from "./kueue-config";
import { Topology } from "./topology";
import { type FlavorQuota, splitPoolQuotas } from "./quota-split";
import { KUEUE_API_VERSION } from "../../contract/kueue";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";

/** Kueue's Helm chart (OCI). */
export const KUEUE_CHART = "oci://registry.k8s.io/kueue/charts/kueue";
/** Cohort every team ClusterQueue belongs to, so idle quota can be borrowed. */
export const COHORT = "kiln";
/** Name of the LocalQueue in every team namespace. */
export const LOCAL_QUEUE = "training";
/** ResourceFlavor for cpu/memory (no node constraint). */
export { CPU_FLAVOR };

export interface QueuesArgs {
  /** GPU pools (one ResourceFlavor each). */
  readonly gpuPools: readonly GpuPoolConfig[];
  /** Teams (one ClusterQueue + LocalQueue each). */
  readonly teams: readonly TeamConfig[];
  /** Team name -> its namespace resource name output (LocalQueues wait for it). */
  readonly namespaces: Record<string, pulumi.Input<string>>;
  /** `chart` installs Kueue's Helm chart; `external` (Kueue already runs) only creates queue objects. */
  readonly install: "chart" | "external";
  /** Kueue chart version, exact (kiln:kueue.version, default KUEUE_CHART_VERSION of infra/config.ts). */
  readonly version: string;
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
  /** Node selector + tolerations for the Kueue controller (the platform's system nodes). */
  readonly placement?: SystemPlacement;
  /** Namespace of the Kueue release; default kueue-system. */
  readonly kueueNamespace?: string;
  /** The chart's Kueue manages JobSets too (kiln:jobset.enabled); default false. */
  readonly jobset?: boolean;
  /** Topology-aware pools (and CPU nodes) and their levels, from the platform; undefined: none. */
  readonly topology?: PlatformTopology;
}

/** ClusterQueue name of a team. */
export function clusterQueueName(team: string): string {
  return `kiln-${team}`;
}

/**
 * Kueue: the controller (chart, unless it runs already), a ResourceFlavor per GPU pool plus `cpu`,
 * a ClusterQueue per team in cohort `kiln` with GPU quota derived from the pools' limits, and a
 * LocalQueue `training` in every team namespace.
 */
export class Queues extends pulumi.ComponentResource {
  /** Team name -> LocalQueue name. */
  readonly localQueues: Record<string, string>;
  /** The quota split the ClusterQueues were built from. */
  readonly quotas: readonly FlavorQuota[];
  /** Kueue Helm release when installed by chart. */
  readonly release?: k8s.helm.v3.Release;
  /** Pools whose flavors are topology-aware (name the Topology). */
  readonly topologyPools: readonly string[];

  constructor(name: string, args: QueuesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:Queues", name, {}, opts);
    const { provider } = args;
    if (!/^\d+\.\d+\.\d+$/.test(args.version))
      throw new Error(`kiln:kueue.version: '${args.version}' is not an exact chart version such as 0.14.8`);

    if (args.install === "chart") {
      const kueueNs = args.kueueNamespace ?? KUEUE_NAMESPACE;
      this.release = new k8s.helm.v3.Release(
        `${name}-kueue`,
        {
          name: "kueue",
          chart: KUEUE_CHART,
          version: args.version,
          namespace: kueueNs,
          createNamespace: true,
          values: {
            ...(args.placement
              ? {
                  controllerManager: {
                    nodeSelector: args.placement.nodeSelector,
                    tolerations: args.placement.tolerations,
                  },
                }
              : {}),
            // JobSet integration and waitForPodsReady (infra/cluster/kueue-config.ts).
            managerConfig: { controllerManagerConfigYaml: kueueManagerConfigYaml({ jobset: args.jobset ?? false }) },
          },
        },
        { parent: this, provider },
      );
    }
    // Queue objects need Kueue's CRDs (and webhook) first.
    const child: pulumi.CustomResourceOptions = {
      parent: this,
      provider,
      dependsOn: this.release ? [this.release] : [],
    };
    const labels = { [PART_OF_LABEL]: PART_OF };

    // Topology-aware flavors name the Topology: they wait for it. Kueue refuses any change to a flavor's
    // spec once topologyName is set (and levels never change): see infra/cluster/README.md.
    const topologyPools = new Set(args.topology?.pools ?? []);
    const cpuTopology = args.topology?.cpuNodeLabels !== undefined;
    const topology = args.topology
      ? new Topology(
          `${name}-topology`,
          {
            levels: args.topology.levels,
            teams: args.teams.map((t) => t.name),
            dependsOn: child.dependsOn as pulumi.Resource[],
            provider,
          },
          { parent: this },
        )
      : undefined;
    const flavorOpts = (aware: boolean): pulumi.CustomResourceOptions =>
      aware ? { ...child, dependsOn: [...(child.dependsOn as pulumi.Resource[]), topology!.topology] } : child;
    const topologyName = (aware: boolean) => (aware ? { topologyName: TOPOLOGY_NAME } : {});

    const cpuFlavor = new k8s.apiextensions.CustomResource(
      `${name}-flavor-${CPU_FLAVOR}`,
      {
        apiVersion: KUEUE_API_VERSION,
        kind: "ResourceFlavor",
        metadata: { name: CPU_FLAVOR, labels },
        spec: cpuTopology ? { nodeLabels: { ...args.topology!.cpuNodeLabels }, ...topologyName(true) } : {},
      },
      flavorOpts(cpuTopology),
    );
    const flavors: pulumi.Resource[] = [cpuFlavor];
    for (const pool of args.gpuPools) {
      const aware = topologyPools.has(pool.name);
      flavors.push(
        new k8s.apiextensions.CustomResource(
          `${name}-flavor-${pool.name}`,
          {
            apiVersion: KUEUE_API_VERSION,
            kind: "ResourceFlavor",
            metadata: { name: pool.name, labels },
            spec: {
              nodeLabels: { [GPU_POOL_LABEL]: pool.name },
              tolerations: [{ ...GPU_TOLERATION }],
              ...topologyName(aware),
            },
          },
          flavorOpts(aware),
        ),
      );
    }

    this.quotas = splitPoolQuotas(args.gpuPools, args.teams);
    this.localQueues = {};
    for (const team of args.teams) {
      const groups = resourceGroups({
        cpuQuota: team.cpuQuota,
        memoryQuota: team.memoryQuota,
        gpu: this.quotas.filter((q) => q.team === team.name),
        topologyPools,
        cpuFlavorTopology: cpuTopology,
      });
      const cq = new k8s.apiextensions.CustomResource(
        `${name}-cq-${team.name}`,
        {
          apiVersion: KUEUE_API_VERSION,
          kind: "ClusterQueue",
          metadata: { name: clusterQueueName(team.name), labels },
          spec: {
            cohort: COHORT,
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": team.namespace } },
            queueingStrategy: "BestEffortFIFO",
            preemption: {
              reclaimWithinCohort: "Any",
              withinClusterQueue: "LowerPriority",
              borrowWithinCohort: { policy: "Never" },
            },
            resourceGroups: groups,
          },
        },
        { ...child, dependsOn: [...(child.dependsOn as pulumi.Resource[]), ...flavors] },
      );
      new k8s.apiextensions.CustomResource(
        `${name}-lq-${team.name}`,
        {
          apiVersion: KUEUE_API_VERSION,
          kind: "LocalQueue",
          metadata: { name: LOCAL_QUEUE, namespace: args.namespaces[team.name], labels },
          spec: { clusterQueue: clusterQueueName(team.name) },
        },
        { ...child, dependsOn: [...(child.dependsOn as pulumi.Resource[]), cq] },
      );
      this.localQueues[team.name] = LOCAL_QUEUE;
    }
    this.topologyPools = args.gpuPools.filter((p) => topologyPools.has(p.name)).map((p) => p.name);
    this.registerOutputs({
      localQueues: this.localQueues,
      quotas: this.quotas,
      release: this.release,
      topologyPools: this.topologyPools,
    });
  }
}
