/**
 * The trainer image repository: immutable tags, scan on push, KMS encryption with a customer key,
 * and a lifecycle policy expiring untagged images. Nodes pull with their node role's
 * AmazonEC2ContainerRegistryPullOnly policy (see node-role.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Tags } from "./tags";

export interface RegistryArgs {
  /** Repository name, e.g. kiln-dev/trainer (no default). */
  readonly repositoryName: string;
  /** Days untagged images are kept. Default 14. */
  readonly untaggedDays?: number;
  /** Let `pulumi destroy` delete a repository that still holds images. Default false. */
  readonly forceDelete?: boolean;
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class Registry extends pulumi.ComponentResource {
  readonly repositoryUrl: pulumi.Output<string>;
  readonly repositoryArn: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(args.repositoryName))
      throw new Error(
        `Registry ${name}: '${args.repositoryName}' is not a valid ECR repository name (lowercase, digits, . _ - /)`,
      );
    const untaggedDays = args.untaggedDays ?? 14;
    super("kiln:aws:Registry", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `ECR ${args.repositoryName}`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags: tags("key"),
      },
      parent,
    );
    const repo = new aws.ecr.Repository(
      `${name}-trainer`,
      {
        name: args.repositoryName,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
        forceDelete: args.forceDelete ?? false,
        tags: tags("trainer"),
      },
      parent,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-trainer`,
      {
        repository: repo.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `Expire untagged images after ${untaggedDays} days`,
              selection: {
                tagStatus: "untagged",
                countType: "sinceImagePushed",
                countUnit: "days",
                countNumber: untaggedDays,
              },
              action: { type: "expire" },
            },
          ],
        }),
      },
      parent,
    );

    this.repositoryUrl = repo.repositoryUrl;
    this.repositoryArn = repo.arn;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl, repositoryArn: this.repositoryArn });
  }
}
