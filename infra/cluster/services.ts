import * as pulumi from "@pulumi/pulumi";
import type { KilnConfig } from "../config";
import type { PlatformOutputs } from "../platform";
import { Accountant } from "./accountant";
import { DatasetCacheVolume } from "./dataset-cache-volume";
import { GpuServices } from "./gpu-services";
import { JobSet } from "./jobset";
import { type PoolCatalog, poolCatalog } from "./pool-catalog";
import { PriorityClasses, TRAINING_PRIORITY_CLASS } from "./priority-classes";
import { clusterQueueName, Queues } from "./queues";
import { RunPeersPolicy } from "./run-peers-policy";
import { OBJECT_STORE_SECRET, TeamNamespace } from "./team-namespace";
import { TRAINER_RELEASE, TrainerRelease } from "./trainer-release";

export interface ClusterServicesArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
  /** What the platform provides: provider, object store, identity, image. */
  readonly platform: PlatformOutputs;
  /** Create a ServiceMonitor for the DCGM exporter (Prometheus Operator CRDs must exist); default false. */
  readonly serviceMonitor?: boolean;
}

/** The kubectl command that launches the default run in `namespace`. */
export function launchCommandFor(namespace: string): string {
  return `kubectl create job <name> --from=cronjob/${TRAINER_RELEASE} -n ${namespace}`;
}

/**
 * Everything Kiln puts inside a cluster, on any platform: GPU services, priority classes, one
 * namespace per team, Kueue queues and the trainer chart in every team namespace.
 */
export class ClusterServices extends pulumi.ComponentResource {
  /** Team name -> namespace. */
  readonly teamNamespaces: Record<string, string>;
  /** Team name -> Kueue LocalQueue name (empty when Kueue is off). */
  readonly queues: Record<string, string>;
  /** The kubectl command that launches the default run in the first team's namespace. */
  readonly launchCommand: string;
  /** What runs may ask of each GPU pool (EFA, topology); also a ConfigMap in every team namespace. */
  readonly pools: readonly PoolCatalog[];

  constructor(name: string, args: ClusterServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:Services", name, {}, opts);
    const { config, platform } = args;
    const provider = platform.provider;
    // Everything inside the cluster waits for the platform's capacity / CNI.
    const child: pulumi.ComponentResourceOptions = { parent: this, dependsOn: platform.clusterReady };

    if (config.gpuServices !== "none")
      new GpuServices(
        `${name}-gpu`,
        { mode: config.gpuServices, platform: config.platform, serviceMonitor: args.serviceMonitor ?? false, provider },
        child,
      );

    const priorities = new PriorityClasses(`${name}-priority`, { provider }, child);

    // What runs may ask of each pool; a team's namespace gets its pools' entries (ConfigMap kiln-pools).
    this.pools = poolCatalog(
      config.gpuPools,
      platform.efa,
      config.kueue.enabled ? (platform.topology?.pools ?? []) : [],
      platform.topology?.levels ?? [],
    );
    const identityEgress = platform.identityEgress;
    const teams = new Map<string, TeamNamespace>();
    for (const team of config.teams)
      teams.set(
        team.name,
        new TeamNamespace(
          `${name}-team-${team.name}`,
          {
            team,
            objectStore: platform.objectStore,
            identityEgress,
            pools: this.pools.filter((p) => team.pools.includes(p.name)),
            provider,
          },
          child,
        ),
      );

    // JobSet first: Kueue's JobSet integration wants its CRD.
    const jobset =
      config.jobset.enabled && config.jobset.install === "chart"
        ? new JobSet(
            `${name}-jobset`,
            { version: config.jobset.version, placement: platform.systemPlacement, provider },
            child,
          )
        : undefined;

    const queues = config.kueue.enabled
      ? new Queues(
          `${name}-queues`,
          {
            gpuPools: config.gpuPools,
            teams: config.teams,
            namespaces: Object.fromEntries([...teams].map(([team, ns]) => [team, ns.namespace])),
            install: config.kueue.install,
            version: config.kueue.version,
            placement: platform.systemPlacement,
            jobset: config.jobset.enabled,
            topology: platform.topology,
            provider,
          },
          { ...child, dependsOn: [...platform.clusterReady, ...(jobset ? [jobset] : [])] },
        )
      : undefined;

    // Submitters may create NetworkPolicies (a run's peers): only that shape gets through.
    if (config.teams.length > 0) new RunPeersPolicy(`${name}-run-peers`, { provider }, child);

    const caches = new Map<string, DatasetCacheVolume>();
    if (platform.datasetCache)
      for (const team of config.teams)
        caches.set(
          team.name,
          new DatasetCacheVolume(
            `${name}-datasets-${team.name}`,
            { cache: platform.datasetCache, namespace: teams.get(team.name)!.namespace, team: team.name, provider },
            child,
          ),
        );

    const store = platform.objectStore;
    for (const team of config.teams) {
      const ns = teams.get(team.name)!;
      new TrainerRelease(
        `${name}-trainer-${team.name}`,
        {
          namespace: ns.namespace,
          image: platform.trainerImage,
          serviceAccountAnnotations: platform.trainerServiceAccountAnnotations,
          gpus: config.trainer.defaultGpus,
          queue: queues?.localQueues[team.name],
          priorityClassName: TRAINING_PRIORITY_CLASS,
          endpoint: store.endpoint,
          region: store.region,
          credentialsSecret: ns.credentials ? OBJECT_STORE_SECRET : undefined,
          datasetsBucket: store.datasetsBucket,
          artifactsBucket: store.artifactsBucket,
          datasetCache: caches.get(team.name)?.chartValues,
          provider,
        },
        {
          ...child,
          dependsOn: [
            ...platform.clusterReady,
            ...(store.ready ?? []),
            ns,
            priorities,
            ...(queues ? [queues] : []),
            ...(caches.has(team.name) ? [caches.get(team.name)!] : []),
          ],
        },
      );
    }

    if (config.accountant.enabled && platform.accountantImage)
      new Accountant(
        `${name}-accountant`,
        {
          image: platform.accountantImage,
          teams: config.teams,
          namespaces: Object.fromEntries([...teams].map(([team, ns]) => [team, ns.namespace])),
          clusterQueues: queues ? Object.fromEntries(config.teams.map((t) => [t.name, clusterQueueName(t.name)])) : {},
          gridRegion: config.accountant.gridRegion ?? (config.platform === "aws" ? store.region : "us-east-1"),
          intervalSeconds: config.accountant.intervalSeconds,
          recordRetentionDays: config.accountant.recordRetentionDays,
          healthPort: config.accountant.healthPort,
          apiServerCidrs: platform.apiServerCidrs,
          apiServer: config.accountant.apiServer,
          awaitReady: !platform.accountantImagePushedLater,
          placement:
            config.accountant.nodeSelector || config.accountant.tolerations
              ? { nodeSelector: config.accountant.nodeSelector ?? {}, tolerations: config.accountant.tolerations ?? [] }
              : platform.systemPlacement,
          provider,
        },
        { ...child, dependsOn: [...platform.clusterReady, ...(queues ? [queues] : []), ...teams.values()] },
      );

    this.teamNamespaces = Object.fromEntries(config.teams.map((t) => [t.name, t.namespace]));
    this.queues = queues ? { ...queues.localQueues } : {};
    this.launchCommand = config.teams.length > 0 ? launchCommandFor(config.teams[0].namespace) : "";
    this.registerOutputs({
      teamNamespaces: this.teamNamespaces,
      queues: this.queues,
      launchCommand: this.launchCommand,
      pools: this.pools,
    });
  }
}
