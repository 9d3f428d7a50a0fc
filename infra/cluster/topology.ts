/**
 * Kueue TopologyAwareScheduling: the Topology object (the platform's node-label levels, outermost first)
 * that topology-aware ResourceFlavors name, and read access to it for every team's submitters (the
 * plugin checks `--topology` against its levels).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TOPOLOGY_NAME } from "../../contract/workload";

import { submitterGroup } from "./team-namespace";
import { KUEUE_API_VERSION, KUEUE_GROUP } from "../../contract/kueue";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";

/** ClusterRole that lets submitters read Kueue Topologies. */
export const TOPOLOGY_READER_ROLE = "kiln-topology-reader";

export interface TopologyArgs {
  /** Node labels of the levels, outermost first, `kubernetes.io/hostname` (if any) last (no default). */
  readonly levels: readonly string[];
  /** Teams whose submitter groups may read the Topology (no default). */
  readonly teams: readonly string[];
  /** What the objects wait for: Kueue's release (its CRDs). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Provider of the target cluster (no default). */
  readonly provider: k8s.Provider;
}

export class Topology extends pulumi.ComponentResource {
  /** The Topology object, for flavors to wait for. */
  readonly topology: k8s.apiextensions.CustomResource;
  readonly name: string;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    const levels = [...args.levels];
    if (levels.length === 0 || levels.length > 16)
      throw new Error(`Topology ${name}: ${levels.length} levels; Kueue takes 1 to 16`);
    if (new Set(levels).size !== levels.length)
      throw new Error(`Topology ${name}: levels ${levels.join(", ")} repeat a label`);
    const host = levels.indexOf("kubernetes.io/hostname");
    if (host >= 0 && host !== levels.length - 1)
      throw new Error(`Topology ${name}: kubernetes.io/hostname must be the last (lowest) level`);
    super("kiln:cluster:Topology", name, {}, opts);
    const labels = { [PART_OF_LABEL]: PART_OF };
    const child = { parent: this, provider: args.provider };
    this.name = TOPOLOGY_NAME;
    // Levels are immutable in Kueue: a change replaces the object (same name, so delete first).
    this.topology = new k8s.apiextensions.CustomResource(
      `${name}-topology`,
      {
        apiVersion: KUEUE_API_VERSION,
        kind: "Topology",
        metadata: { name: TOPOLOGY_NAME, labels },
        spec: { levels: levels.map((nodeLabel) => ({ nodeLabel })) },
      },
      { ...child, dependsOn: args.dependsOn ?? [], replaceOnChanges: ["spec"], deleteBeforeReplace: true },
    );
    const role = new k8s.rbac.v1.ClusterRole(
      `${name}-reader`,
      {
        metadata: { name: TOPOLOGY_READER_ROLE, labels },
        rules: [{ apiGroups: [KUEUE_GROUP], resources: ["topologies"], verbs: ["get", "list", "watch"] }],
      },
      child,
    );
    if (args.teams.length > 0)
      new k8s.rbac.v1.ClusterRoleBinding(
        `${name}-readers`,
        {
          metadata: { name: TOPOLOGY_READER_ROLE, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
          subjects: [...args.teams]
            .sort()
            .map((team) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: submitterGroup(team) })),
        },
        child,
      );
    this.registerOutputs({ topology: this.topology, name: this.name });
  }
}
