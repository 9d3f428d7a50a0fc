import * as fs from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { chartGpuContract } from "../../contract/gpu";

/** The trainer chart in this repository: THE training Job template. */
export const TRAINER_CHART_PATH = path.join(__dirname, "../../charts/trainer");
/** Helm release name in every team namespace (the chart's objects are named `kiln-trainer`). */
export const TRAINER_RELEASE = "kiln-trainer";

export interface ImageRef {
  readonly repository: string;
  readonly tag: string;
}

/** `registry:5000/kiln/trainer:0.1.0` -> {repository: registry:5000/kiln/trainer, tag: 0.1.0}. */
export function splitImage(image: string): ImageRef {
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (image.includes("@") || colon <= slash || colon === image.length - 1)
    throw new Error(
      `trainer image '${image}' must be <repository>:<tag> (a pinned tag, no digest): set kiln:trainer.repository and kiln:trainer.tag`,
    );
  return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
}

/** The chart's default values (charts/trainer/values.yaml), read once. */
function chartDefaults(chartPath = TRAINER_CHART_PATH): Record<string, unknown> {
  return YAML.parse(fs.readFileSync(path.join(chartPath, "values.yaml"), "utf8")) as Record<string, unknown>;
}

/** Replaces the bucket of an `s3://bucket/key` URI. */
function withBucket(uri: string, bucket: string, what: string): string {
  const m = /^s3:\/\/[^/]+(\/.*)?$/.exec(uri);
  if (!m) throw new Error(`charts/trainer/values.yaml: ${what} '${uri}' is not an s3:// URI`);
  return `s3://${bucket}${m[1] ?? ""}`;
}

/**
 * The default run: the chart's `runSpec` (its one home, charts/trainer/values.yaml) with the dataset
 * and output URIs moved to the stack's buckets.
 */
export function defaultRunSpec(
  datasetsBucket: string,
  artifactsBucket: string,
  chartPath = TRAINER_CHART_PATH,
): Record<string, unknown> {
  const spec = chartDefaults(chartPath).runSpec as { dataset: { uri: string }; output: { uri: string } } & Record<
    string,
    unknown
  >;
  spec.dataset.uri = withBucket(spec.dataset.uri, datasetsBucket, "runSpec.dataset.uri");
  spec.output.uri = withBucket(spec.output.uri, artifactsBucket, "runSpec.output.uri");
  return spec;
}

/** The chart's `datasetCache` values: a PersistentVolumeClaim mounted read-only at mountPath. */
export interface DatasetCacheChartValues {
  readonly claimName: string;
  readonly subPath: string;
  readonly mountPath: string;
}

export interface TrainerReleaseArgs {
  /** Team namespace the chart is installed into. */
  readonly namespace: pulumi.Input<string>;
  /** Full trainer image `<repository>:<tag>`. */
  readonly image: pulumi.Input<string>;
  /** Annotations of the chart's ServiceAccount (cloud identity); default none. */
  readonly serviceAccountAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** GPUs of the default run (kiln:trainer.defaultGpus). */
  readonly gpus: number;
  /** Kueue LocalQueue; default none (Jobs start without queueing). */
  readonly queue?: string;
  /** PriorityClass of training pods (kiln-training). */
  readonly priorityClassName: string;
  /** Object store endpoint URL; default none (the cloud's own S3). */
  readonly endpoint?: pulumi.Input<string>;
  /** Object store region (AWS_REGION). */
  readonly region: pulumi.Input<string>;
  /** Secret with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; default none (cloud identity). */
  readonly credentialsSecret?: string;
  /** Bucket of the default run's dataset (s3://<bucket>/auto-mpg/auto-mpg.csv). */
  readonly datasetsBucket: pulumi.Input<string>;
  /** Bucket the default run writes to (s3://<bucket>/runs). */
  readonly artifactsBucket: pulumi.Input<string>;
  /** The datasets cache the chart mounts read-only (values `datasetCache`); default none. */
  readonly datasetCache?: DatasetCacheChartValues;
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
  /** Chart directory; default charts/trainer of this repository. */
  readonly chartPath?: string;
}

/** charts/trainer installed in one team namespace with values from the platform's outputs. */
export class TrainerRelease extends pulumi.ComponentResource {
  /** Values handed to the chart. */
  readonly values: pulumi.Output<Record<string, unknown>>;
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: TrainerReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:TrainerRelease", name, {}, opts);
    this.values = pulumi
      .all([
        args.image,
        args.serviceAccountAnnotations ?? {},
        args.endpoint,
        args.region,
        args.datasetsBucket,
        args.artifactsBucket,
      ])
      .apply(
        ([image, annotations, endpoint, region, datasets, artifacts]): Record<string, unknown> => ({
          image: { ...splitImage(image), pullPolicy: "IfNotPresent" },
          serviceAccount: { create: true, name: TRAINER_RELEASE, annotations },
          gpus: args.gpus,
          gpuContract: chartGpuContract(),
          ...(args.queue ? { queue: args.queue } : {}),
          priorityClassName: args.priorityClassName,
          objectStore: {
            ...(endpoint ? { endpoint } : {}),
            region,
            ...(args.credentialsSecret ? { credentialsSecret: args.credentialsSecret } : {}),
          },
          runSpec: defaultRunSpec(datasets, artifacts, args.chartPath),
          ...(args.datasetCache ? { datasetCache: { ...args.datasetCache } } : {}),
        }),
      );
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: TRAINER_RELEASE,
        chart: args.chartPath ?? TRAINER_CHART_PATH,
        namespace: args.namespace,
        values: this.values,
        atomic: true,
        cleanupOnFail: true,
      },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({ values: this.values, release: this.release });
  }
}
