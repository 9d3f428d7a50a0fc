/**
 * Names the platform itself takes inside a cluster: its namespaces and Kueue flavors. Components use
 * these constants, and the config validator refuses a team or pool that would take one of them.
 */

/** The local platform's own services (MinIO, its setup Job). */
export const KILN_SYSTEM_NAMESPACE = "kiln-system";
/** kiln-accountant: usage records and team budgets (infra/cluster/accountant.ts). */
export const ACCOUNTANT_NAMESPACE = "kiln-accountant";
/** The GPU services (device plugin, DCGM exporter, GPU Operator). */
export const GPU_NAMESPACE = "kiln-gpu";
/** Kueue's controller when the stack installs its chart. */
export const KUEUE_NAMESPACE = "kueue-system";
/** Kueue ResourceFlavor for cpu/memory quota; GPU pools get a flavor named after the pool. */
export const CPU_FLAVOR = "cpu";

/** Who owns namespace `ns` already, or undefined when a team may take it. */
export function reservedNamespaceOwner(ns: string): string | undefined {
  if (ns === KILN_SYSTEM_NAMESPACE) return "Kiln's system services";
  if (ns === GPU_NAMESPACE) return "Kiln's GPU services";
  if (ns === ACCOUNTANT_NAMESPACE) return "Kiln's accountant";
  if (ns === KUEUE_NAMESPACE) return "Kueue";
  if (ns === "default") return "Kubernetes (the default namespace)";
  if (ns.startsWith("kube-")) return "Kubernetes (kube-* namespaces are the system's)";
  return undefined;
}

/**
 * Label of the nodes CPU-only runs land on in the local harness (its simulated CPU nodes carry it, and
 * the aws platform's system nodes carry `kiln.dev/node-role=system`). With topology on, the local `cpu`
 * flavor selects these nodes.
 */
export const CPU_NODE_LABEL = { key: "kiln.dev/node-role", value: "cpu" } as const;
