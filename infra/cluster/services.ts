import * as pulumi from "@pulumi/pulumi";
import { KilnConfig } from "../config";
import { PlatformOutputs } from "../platform";

export interface ClusterServicesArgs {
  /** The validated stack config. */
  readonly config: KilnConfig;
  /** What the platform provides: provider, object store, identity, image. */
  readonly platform: PlatformOutputs;
}

/** Everything Kiln puts inside a cluster, on any platform. (Being written: see issue 5.) */
export class ClusterServices extends pulumi.ComponentResource {
  /** Team name -> namespace. */
  readonly teamNamespaces: Record<string, string>;
  /** Team name -> Kueue LocalQueue name (empty when Kueue is off). */
  readonly queues: Record<string, string>;
  /** The kubectl command that launches the default run in the first team's namespace. */
  readonly launchCommand: string;

  constructor(name: string, args: ClusterServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:Services", name, {}, opts);
    throw new Error(`ClusterServices is not written yet (${args.config.stack})`);
  }
}
