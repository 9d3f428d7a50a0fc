/**
 * Optional FSx for Lustre file system linked to the datasets bucket: a POSIX cache of the datasets
 * next to the GPU nodes, mounted read-only into training pods (cluster/dataset-cache-volume.ts). SCRATCH_2 imports through the file system's import path; PERSISTENT_2
 * through a data repository association and is encrypted with the storage key.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Tags } from "./tags";

/** Where a PERSISTENT_2 file system's data repository association puts the bucket's objects. */
const PERSISTENT_DATASETS_DIR = "datasets";

export interface DatasetCacheArgs {
  /** VPC of the file system (no default). */
  readonly vpcId: pulumi.Input<string>;
  /** VPC CIDR: the only source allowed on the Lustre ports (no default). */
  readonly vpcCidr: string;
  /** The private subnet the file system lives in (no default). */
  readonly subnetId: pulumi.Input<string>;
  /** Datasets bucket name (no default). */
  readonly datasetsBucket: pulumi.Input<string>;
  /** SCRATCH_2 or PERSISTENT_2. Default SCRATCH_2. */
  readonly deploymentType?: "SCRATCH_2" | "PERSISTENT_2";
  /** Capacity in GiB, 1200 or a multiple of 2400. Default 1200. */
  readonly storageCapacityGiB?: number;
  /** KMS key for PERSISTENT_2 (SCRATCH_2 is always encrypted with an AWS key) (no default). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class DatasetCache extends pulumi.ComponentResource {
  readonly fileSystemId: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly mountName: pulumi.Output<string>;
  readonly storageCapacityGiB: number;
  /** Directory of the file system holding the bucket's objects ("" = its root). */
  readonly subPath: string;

  constructor(name: string, args: DatasetCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    const capacity = args.storageCapacityGiB ?? 1200;
    if (capacity !== 1200 && capacity % 2400 !== 0)
      throw new Error(
        `DatasetCache ${name}: kiln:storage.fsx.storageCapacityGiB is ${capacity}; FSx for Lustre needs 1200 or a multiple of 2400`,
      );
    const type = args.deploymentType ?? "SCRATCH_2";
    super("kiln:aws:DatasetCache", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });
    const fromVpc = (fromPort: number, toPort: number, description: string) => ({
      protocol: "tcp",
      fromPort,
      toPort,
      cidrBlocks: [args.vpcCidr],
      description,
    });

    const sg = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "FSx for Lustre: Lustre ports from inside the VPC only",
        ingress: [fromVpc(988, 988, "Lustre from the VPC"), fromVpc(1018, 1023, "Lustre from the VPC")],
        egress: [fromVpc(988, 988, "Lustre to the VPC"), fromVpc(1018, 1023, "Lustre to the VPC")],
        tags: tags("sg"),
      },
      parent,
    );
    const s3Path = pulumi.interpolate`s3://${args.datasetsBucket}`;
    const fs = new aws.fsx.LustreFileSystem(
      `${name}-fs`,
      {
        deploymentType: type,
        storageCapacity: capacity,
        subnetIds: args.subnetId,
        securityGroupIds: [sg.id],
        dataCompressionType: "LZ4",
        ...(type === "SCRATCH_2"
          ? { importPath: s3Path, autoImportPolicy: "NEW_CHANGED_DELETED" }
          : { perUnitStorageThroughput: 125, kmsKeyId: args.kmsKeyArn }),
        tags: tags("fs"),
      },
      parent,
    );
    if (type === "PERSISTENT_2")
      new aws.fsx.DataRepositoryAssociation(
        `${name}-datasets`,
        {
          fileSystemId: fs.id,
          fileSystemPath: `/${PERSISTENT_DATASETS_DIR}`,
          dataRepositoryPath: s3Path,
          batchImportMetaDataOnCreate: true,
          s3: { autoImportPolicy: { events: ["NEW", "CHANGED", "DELETED"] } },
          tags: tags("datasets"),
        },
        parent,
      );

    this.fileSystemId = fs.id;
    this.dnsName = fs.dnsName;
    this.mountName = fs.mountName;
    this.storageCapacityGiB = capacity;
    // SCRATCH_2 imports the bucket at the root; PERSISTENT_2's association links it under /datasets.
    this.subPath = type === "SCRATCH_2" ? "" : PERSISTENT_DATASETS_DIR;
    this.registerOutputs({
      fileSystemId: this.fileSystemId,
      dnsName: this.dnsName,
      mountName: this.mountName,
      subPath: this.subPath,
    });
  }
}
