import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KilnConfig } from "../config";
import { ObjectStoreOutputs, PlatformOutputs } from "../platform";

export interface AwsPlatformArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
}

/** EKS + Karpenter GPU capacity + S3 + ECR + identities. (Being written: see issue 2.) */
export class AwsPlatform extends pulumi.ComponentResource implements PlatformOutputs {
  readonly provider: k8s.Provider;
  readonly kubeconfig: pulumi.Output<string>;
  readonly objectStore: ObjectStoreOutputs;
  readonly trainerServiceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly trainerImage: pulumi.Output<string>;
  readonly clusterReady: pulumi.Resource[];
  readonly clusterName: pulumi.Output<string>;
  readonly imageRepositoryUrl: pulumi.Output<string>;
  readonly trainerRoleArn: pulumi.Output<string>;

  constructor(name: string, args: AwsPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:aws:Platform", name, {}, opts);
    throw new Error(`AwsPlatform is not written yet (${args.config.stack})`);
  }
}
