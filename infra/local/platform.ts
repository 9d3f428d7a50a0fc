import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KilnConfig } from "../config";
import { ObjectStoreOutputs, PlatformOutputs } from "../platform";

export interface LocalPlatformArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
}

/** Whatever cluster the kubeconfig points at, plus object storage. (Being written: see issue 5.) */
export class LocalPlatform extends pulumi.ComponentResource implements PlatformOutputs {
  readonly provider: k8s.Provider;
  readonly kubeconfig: pulumi.Output<string>;
  readonly objectStore: ObjectStoreOutputs;
  readonly trainerServiceAccountAnnotations: pulumi.Input<Record<string, pulumi.Input<string>>>;
  readonly trainerImage: pulumi.Output<string>;
  readonly clusterReady: pulumi.Resource[];

  constructor(name: string, args: LocalPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:local:Platform", name, {}, opts);
    throw new Error(`LocalPlatform is not written yet (${args.config.stack})`);
  }
}
