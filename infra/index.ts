/**
 * Kiln's Pulumi program: config -> platform (aws/ or local/) -> cluster services -> outputs.
 * Config is validated in full before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { AwsPlatform } from "./aws";
import { ClusterServices } from "./cluster";
import { loadConfig } from "./config";
import { LocalPlatform } from "./local";

const config = loadConfig();
const aws = config.platform === "aws" ? new AwsPlatform(config.clusterName, { config }) : undefined;
const local = config.platform === "local" ? new LocalPlatform(config.clusterName, { config }) : undefined;
const platform = (aws ?? local)!;
const services = new ClusterServices(config.clusterName, {
  config,
  platform,
  serviceMonitor: config.prometheusOperator,
});

export const platformName = config.platform;
export const clusterName = aws?.clusterName ?? config.clusterName;
export const region = platform.objectStore.region;
export const kubeconfig = pulumi.secret(platform.kubeconfig);
export const datasetsBucket = platform.objectStore.datasetsBucket;
export const artifactsBucket = platform.objectStore.artifactsBucket;
export const objectStoreEndpoint = platform.objectStore.endpoint;
export const trainerImage = platform.trainerImage;
// AWS-only outputs: undefined (not shown) on other platforms.
export const imageRepositoryUrl = aws?.imageRepositoryUrl;
export const accountantRepositoryUrl = aws?.accountantRepositoryUrl;
export const trainerRoleArn = aws?.trainerRoleArn;
// Each pool with what runs may ask of it: gpusPerNode, efa {resource, interfacesPerNode}, topology {name, levels}.
export const gpuPools = config.gpuPools.map((p, i) => ({
  ...services.pools[i],
  instanceFamilies: p.instanceFamilies,
  instanceTypes: p.instanceTypes,
  capacityTypes: p.capacityTypes,
}));
export const teamNamespaces = services.teamNamespaces;
export const queues = services.queues;
export const launchCommand = services.launchCommand;
