/**
 * The trainer's AWS identity: one IAM role, assumed through EKS Pod Identity by the `kiln-trainer`
 * ServiceAccount of every team namespace. It may read the datasets bucket, read/write `runs/*` in
 * the artifacts bucket, and use the storage key - nothing else (no s3:*, no "*" resources).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { podIdentityTrust, policyJson, type Statement } from "./iam";
import type { Tags } from "./tags";
import { TRAINER_NAME } from "../../contract/labels";

/** Prefix of run outputs in the artifacts bucket. */
export const RUNS_PREFIX = "runs/";

export interface TrainerIdentityArgs {
  /** The cluster's `name` output (no default). */
  readonly clusterName: pulumi.Input<string>;
  /** Team name -> namespace; one Pod Identity association each (no default). */
  readonly namespaces: Readonly<Record<string, string>>;
  /** Datasets bucket ARN: read only (no default). */
  readonly datasetsBucketArn: pulumi.Input<string>;
  /** Artifacts bucket ARN: read/write under runs/ only (no default). */
  readonly artifactsBucketArn: pulumi.Input<string>;
  /** KMS key encrypting both buckets (no default). */
  readonly keyArn: pulumi.Input<string>;
  /** ServiceAccount name in each namespace. Default kiln-trainer. */
  readonly serviceAccount?: string;
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class TrainerIdentity extends pulumi.ComponentResource {
  readonly roleArn: pulumi.Output<string>;
  readonly roleName: pulumi.Output<string>;
  /** Team name -> Pod Identity association id. */
  readonly associationIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: TrainerIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:aws:TrainerIdentity", name, {}, opts);
    const sa = args.serviceAccount ?? TRAINER_NAME;
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: podIdentityTrust(), tags: tags("role") }, parent);
    new aws.iam.RolePolicy(`${name}-storage`, { role: role.id, policy: policyJson(trainerStatements(args)) }, parent);

    const ids: Record<string, pulumi.Output<string>> = {};
    for (const [team, namespace] of Object.entries(args.namespaces)) {
      const assoc = new aws.eks.PodIdentityAssociation(
        `${name}-${team}`,
        {
          clusterName: args.clusterName,
          namespace,
          serviceAccount: sa,
          roleArn: role.arn,
          tags: tags(team),
        },
        parent,
      );
      ids[team] = assoc.associationId;
    }

    this.roleArn = role.arn;
    this.roleName = role.name;
    this.associationIds = ids;
    this.registerOutputs({ roleArn: this.roleArn, roleName: this.roleName, associationIds: this.associationIds });
  }
}

/** The trainer's permissions (pure: tested directly). */
export function trainerStatements(
  a: Pick<TrainerIdentityArgs, "datasetsBucketArn" | "artifactsBucketArn" | "keyArn">,
): Statement[] {
  return [
    { Sid: "ListDatasets", Effect: "Allow", Action: "s3:ListBucket", Resource: a.datasetsBucketArn },
    {
      Sid: "ReadDatasets",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: pulumi.interpolate`${a.datasetsBucketArn}/*`,
    },
    {
      Sid: "ListRuns",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: a.artifactsBucketArn,
      Condition: { StringLike: { "s3:prefix": [RUNS_PREFIX, `${RUNS_PREFIX}*`] } },
    },
    {
      Sid: "ReadWriteRuns",
      Effect: "Allow",
      Action: [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ],
      Resource: pulumi.interpolate`${a.artifactsBucketArn}/${RUNS_PREFIX}*`,
    },
    {
      Sid: "UseStorageKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: a.keyArn,
    },
  ];
}
