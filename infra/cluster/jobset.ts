/**
 * JobSet's controller and CRD from its pinned Helm chart: multi-node runs are JobSets (one replicated
 * Job, Indexed, one pod per node; contract/workload.ts), and Kueue admits a JobSet as one Workload.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { SystemPlacement } from "../platform";

/** JobSet's Helm chart (OCI, registry.k8s.io). */
export const JOBSET_CHART = "oci://registry.k8s.io/jobset/charts/jobset";
/** The controller's image, as the published chart of a release sets it (registry.k8s.io/jobset/jobset:v<chart version>). */
export const JOBSET_IMAGE_REPOSITORY = "registry.k8s.io/jobset/jobset";
/** Namespace of the JobSet release. */
export const JOBSET_NAMESPACE = "jobset-system";

export interface JobSetArgs {
  /** JobSet chart version, exact (kiln:jobset.version, default JOBSET_CHART_VERSION of infra/config.ts). */
  readonly version: string;
  /** Node selector + tolerations for the controller (the platform's system nodes); default any node. */
  readonly placement?: SystemPlacement;
  /** Provider of the target cluster (no default). */
  readonly provider: k8s.Provider;
}

export class JobSet extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: JobSetArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^\d+\.\d+\.\d+$/.test(args.version))
      throw new Error(`kiln:jobset.version: '${args.version}' is not an exact chart version such as 0.12.0`);
    super("kiln:cluster:JobSet", name, {}, opts);
    this.release = new k8s.helm.v3.Release(
      `${name}-chart`,
      {
        name: "jobset",
        chart: JOBSET_CHART,
        version: args.version,
        namespace: JOBSET_NAMESPACE,
        createNamespace: true,
        values: {
          // Pinned explicitly: the chart in the repository defaults to a moving staging tag.
          image: { repository: JOBSET_IMAGE_REPOSITORY, tag: `v${args.version}`, pullPolicy: "IfNotPresent" },
          controller: args.placement
            ? { nodeSelector: args.placement.nodeSelector, tolerations: args.placement.tolerations }
            : {},
        },
      },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({ release: this.release });
  }
}
