/**
 * EKS add-ons that need running nodes: CoreDNS, the EBS CSI driver (whose controller gets its
 * AWS permissions through Pod Identity, not the node role) and, with the dataset cache, the FSx CSI
 * driver (static volumes: its controller needs no AWS permissions, so it gets no role).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { managedPolicy, podIdentityTrust } from "./iam";
import type { Tags } from "./tags";

/** Service account of the EBS CSI controller in kube-system. */
export const EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa";

export interface AddonsArgs {
  /** EKS cluster name (no default). */
  readonly clusterName: pulumi.Input<string>;
  /** AWS partition for managed policy ARNs (no default). */
  readonly partition: pulumi.Input<string>;
  /** Install the FSx for Lustre CSI driver (static volumes only: no AWS permissions). Default false. */
  readonly fsxCsi?: boolean;
  /** Resources the add-ons wait for (the system node group). Default []. */
  readonly dependsOn?: pulumi.Resource[];
  /** Tags for every resource (no default). */
  readonly tags: Tags;
}

export class Addons extends pulumi.ComponentResource {
  readonly addons: aws.eks.Addon[];
  readonly ebsCsiRoleArn: pulumi.Output<string>;

  constructor(name: string, args: AddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:aws:Addons", name, {}, opts);
    const parent = { parent: this };
    const tags = (role: string) => ({ ...args.tags, Name: `${name}-${role}` });
    const after = { parent: this, dependsOn: args.dependsOn ?? [] };

    const ebsRole = new aws.iam.Role(
      `${name}-ebs-csi`,
      { assumeRolePolicy: podIdentityTrust(), tags: tags("ebs-csi") },
      parent,
    );
    const ebsPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-ebs-csi`,
      { role: ebsRole.name, policyArn: managedPolicy(args.partition, "service-role/AmazonEBSCSIDriverPolicy") },
      parent,
    );

    const coredns = new aws.eks.Addon(
      `${name}-coredns`,
      {
        clusterName: args.clusterName,
        addonName: "coredns",
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "PRESERVE",
        tags: tags("coredns"),
      },
      after,
    );
    const ebs = new aws.eks.Addon(
      `${name}-aws-ebs-csi-driver`,
      {
        clusterName: args.clusterName,
        addonName: "aws-ebs-csi-driver",
        resolveConflictsOnCreate: "OVERWRITE",
        resolveConflictsOnUpdate: "PRESERVE",
        podIdentityAssociations: [{ roleArn: ebsRole.arn, serviceAccount: EBS_CSI_SERVICE_ACCOUNT }],
        tags: tags("aws-ebs-csi-driver"),
      },
      { ...after, dependsOn: [...(args.dependsOn ?? []), ebsPolicy] },
    );

    this.addons = [coredns, ebs];
    if (args.fsxCsi)
      this.addons.push(
        new aws.eks.Addon(
          `${name}-aws-fsx-csi-driver`,
          {
            clusterName: args.clusterName,
            addonName: "aws-fsx-csi-driver",
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "PRESERVE",
            tags: tags("aws-fsx-csi-driver"),
          },
          after,
        ),
      );
    this.ebsCsiRoleArn = ebsRole.arn;
    this.registerOutputs({ addons: this.addons, ebsCsiRoleArn: this.ebsCsiRoleArn });
  }
}
