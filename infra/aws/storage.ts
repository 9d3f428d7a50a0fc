/**
 * The datasets and artifacts buckets: SSE-KMS with a customer key (bucket keys on), versioning,
 * all four public-access blocks, a bucket policy that denies non-TLS access, and lifecycle rules
 * expiring old checkpoint versions sooner than other noncurrent versions.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyJson, type Statement } from "./iam";
import type { Tags } from "./tags";

/** Prefix holding run outputs and their checkpoints (`runs/<runId>/checkpoints/...`). */
export const CHECKPOINTS_PREFIX = "runs/";

export interface StorageArgs {
  /** Let `pulumi destroy` delete non-empty buckets. Default false. */
  readonly forceDestroy?: boolean;
  /** Days noncurrent checkpoint versions are kept. Default 7. */
  readonly checkpointVersionDays?: number;
  /** Days other noncurrent versions are kept. Default 90. */
  readonly noncurrentVersionDays?: number;
  /** Let FSx for Lustre's service-linked role use the key (when a Lustre cache links the datasets bucket). Default false. */
  readonly allowFsx?: boolean;
  /** AWS account id, region and partition of the stack (no default). */
  readonly account: {
    readonly accountId: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
  };
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class Storage extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;
  readonly datasetsBucket: pulumi.Output<string>;
  readonly datasetsBucketArn: pulumi.Output<string>;
  readonly artifactsBucket: pulumi.Output<string>;
  readonly artifactsBucketArn: pulumi.Output<string>;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    const checkpointDays = args.checkpointVersionDays ?? 7;
    const otherDays = args.noncurrentVersionDays ?? 90;
    for (const [key, v] of [
      ["checkpointVersionDays", checkpointDays],
      ["noncurrentVersionDays", otherDays],
    ] as const)
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`Storage ${name}: kiln:storage.${key} is ${v}; it must be a whole number of days >= 1`);
    super("kiln:aws:Storage", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Kiln object storage (${name}): datasets and run artifacts`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyJson(keyPolicy(args.account, args.allowFsx ?? false)),
        tags: tags("key"),
      },
      parent,
    );
    new aws.kms.Alias(`${name}-key`, { name: pulumi.interpolate`alias/${name}`, targetKeyId: key.keyId }, parent);

    const bucket = (
      role: "datasets" | "artifacts",
      lifecycle: aws.types.input.s3.BucketLifecycleConfigurationRule[],
    ) => {
      const b = new aws.s3.Bucket(
        `${name}-${role}`,
        { forceDestroy: args.forceDestroy ?? false, tags: tags(role) },
        parent,
      );
      const pab = new aws.s3.BucketPublicAccessBlock(
        `${name}-${role}`,
        {
          bucket: b.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        parent,
      );
      new aws.s3.BucketOwnershipControls(
        `${name}-${role}`,
        { bucket: b.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        parent,
      );
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-${role}`,
        {
          bucket: b.id,
          rules: [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
              bucketKeyEnabled: true,
            },
          ],
        },
        parent,
      );
      const versioning = new aws.s3.BucketVersioning(
        `${name}-${role}`,
        { bucket: b.id, versioningConfiguration: { status: "Enabled" } },
        parent,
      );
      new aws.s3.BucketPolicy(
        `${name}-${role}`,
        {
          bucket: b.id,
          policy: policyJson([
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [b.arn, pulumi.interpolate`${b.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ]),
        },
        { parent: this, dependsOn: [pab] },
      );
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-${role}`,
        { bucket: b.id, rules: lifecycle },
        { parent: this, dependsOn: [versioning] },
      );
      return b;
    };

    const abortUploads = {
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    };
    const datasets = bucket("datasets", [
      {
        id: "noncurrent-versions",
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: otherDays },
      },
      abortUploads,
    ]);
    // Checkpoints (runs/<runId>/checkpoints/...) are rewritten every few epochs. Lifecycle filters
    // match key prefixes only, so the short expiry covers all of runs/ (whose other rewritten
    // objects, metrics.json and run.json, are churn too); S3 applies the shorter of overlapping
    // expirations, so everything outside runs/ keeps noncurrent versions for the long period.
    const artifacts = bucket("artifacts", [
      {
        id: "checkpoint-versions",
        status: "Enabled",
        filter: { prefix: CHECKPOINTS_PREFIX },
        noncurrentVersionExpiration: { noncurrentDays: checkpointDays },
      },
      {
        id: "noncurrent-versions",
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: otherDays },
      },
      abortUploads,
    ]);

    this.keyArn = key.arn;
    this.datasetsBucket = datasets.bucket;
    this.datasetsBucketArn = datasets.arn;
    this.artifactsBucket = artifacts.bucket;
    this.artifactsBucketArn = artifacts.arn;
    this.registerOutputs({
      keyArn: this.keyArn,
      datasetsBucket: this.datasetsBucket,
      datasetsBucketArn: this.datasetsBucketArn,
      artifactsBucket: this.artifactsBucket,
      artifactsBucketArn: this.artifactsBucketArn,
    });
  }
}

/** Key policy: the account administers the key through IAM; optionally FSx's S3 link may use it via S3. */
function keyPolicy(a: StorageArgs["account"], allowFsx: boolean): Statement[] {
  const statements: Statement[] = [
    {
      Sid: "AccountAdmin",
      Effect: "Allow",
      Principal: { AWS: pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ];
  if (allowFsx)
    statements.push({
      Sid: "FsxLustreS3Link",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      Resource: "*",
      Condition: {
        StringEquals: {
          "kms:CallerAccount": a.accountId,
          "kms:ViaService": pulumi.interpolate`s3.${a.region}.amazonaws.com`,
        },
        ArnLike: {
          "aws:PrincipalArn": pulumi.interpolate`arn:${a.partition}:iam::${a.accountId}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/*`,
        },
      },
    });
  return statements;
}
