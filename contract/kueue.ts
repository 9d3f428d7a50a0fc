/** Kueue's APIs as Kiln speaks them (Kueue 0.14: its Topology is served as v1beta1 only). */

export const KUEUE_GROUP = "kueue.x-k8s.io";
export const KUEUE_VERSION = "v1beta1";
/** apiVersion of Kueue's objects: ClusterQueue, LocalQueue, ResourceFlavor, Topology, Workload. */
export const KUEUE_API_VERSION = `${KUEUE_GROUP}/${KUEUE_VERSION}`;
/** apiVersion of the Kueue controller's Configuration. */
export const KUEUE_CONFIG_API_VERSION = `config.${KUEUE_GROUP}/${KUEUE_VERSION}`;
