/**
 * A team's view of the datasets cache: a read-only PersistentVolume on the platform's Lustre file
 * system (FSx CSI driver, static provisioning: the driver needs no AWS permissions) bound to the claim
 * `kiln-datasets` in the team namespace. The trainer chart mounts the claim read-only at /datasets, so
 * a run spec reads `dataset.uri: /datasets/<key>` from the cache instead of S3.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { DatasetCacheOutputs } from "../platform";
import type { DatasetCacheChartValues } from "./trainer-release";
import { PART_OF, PART_OF_LABEL, TEAM_LABEL } from "../../contract/labels";

/** The claim in every team namespace, and where training pods see it. */
export const DATASETS_CLAIM = "kiln-datasets";
export const DATASETS_MOUNT_PATH = "/datasets";
/** The FSx for Lustre CSI driver (EKS add-on aws-fsx-csi-driver). */
export const FSX_CSI_DRIVER = "fsx.csi.aws.com";

export interface DatasetCacheVolumeArgs {
  /** The platform's Lustre file system (no default). */
  readonly cache: DatasetCacheOutputs;
  /** Team namespace the claim is created in (no default). */
  readonly namespace: pulumi.Input<string>;
  /** Team name, for the PersistentVolume's name (no default). */
  readonly team: string;
  /** Provider of the target cluster (no default). */
  readonly provider: k8s.Provider;
}

export class DatasetCacheVolume extends pulumi.ComponentResource {
  /** What the trainer chart needs to mount the cache. */
  readonly chartValues: DatasetCacheChartValues;

  constructor(name: string, args: DatasetCacheVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:DatasetCacheVolume", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = { [PART_OF_LABEL]: PART_OF, "app.kubernetes.io/managed-by": "pulumi", [TEAM_LABEL]: args.team };
    const capacity = `${args.cache.storageCapacityGiB}Gi`;
    const pv = new k8s.core.v1.PersistentVolume(
      `${name}-pv`,
      {
        metadata: { name: `kiln-datasets-${args.team}`, labels },
        spec: {
          capacity: { storage: capacity },
          accessModes: ["ReadOnlyMany"],
          persistentVolumeReclaimPolicy: "Retain",
          storageClassName: "",
          mountOptions: ["flock"],
          // Only this team's claim can bind it.
          claimRef: { namespace: args.namespace, name: DATASETS_CLAIM },
          csi: {
            driver: FSX_CSI_DRIVER,
            volumeHandle: args.cache.fileSystemId,
            readOnly: true,
            volumeAttributes: { dnsname: args.cache.dnsName, mountname: args.cache.mountName },
          },
        },
      },
      child,
    );
    new k8s.core.v1.PersistentVolumeClaim(
      `${name}-pvc`,
      {
        metadata: { name: DATASETS_CLAIM, namespace: args.namespace, labels },
        spec: {
          accessModes: ["ReadOnlyMany"],
          storageClassName: "",
          volumeName: pv.metadata.name,
          resources: { requests: { storage: capacity } },
        },
      },
      child,
    );
    this.chartValues = { claimName: DATASETS_CLAIM, subPath: args.cache.subPath, mountPath: DATASETS_MOUNT_PATH };
    this.registerOutputs({ chartValues: this.chartValues });
  }
}
