/**
 * The one place stack config is read and validated. Every `kiln:` key is declared here (and in
 * Pulumi.yaml, kept equal by a test); everything downstream receives the typed `KilnConfig`.
 */
import { z } from "zod";
import * as pulumi from "@pulumi/pulumi";
import { GPU_FAMILIES, hasInstanceTopology, isKnownFamily } from "../contract/catalog/gpu-families";
import { cidrProblem, layoutSubnets, parseCidr, type SubnetLayout } from "../contract/cidr";
import { ACKNOWLEDGE_KEY, exposureProblems } from "../contract/exposure";
import { repositoryProblem, tagProblem } from "../contract/oci";
import { CPU_FLAVOR, reservedNamespaceOwner } from "../contract/names";
import { trainerVersion } from "../trainer-image/src/api";
import { version as KILN_VERSION } from "../package.json";
import { clip } from "../contract/text";
import { nearest } from "./lib/nearest";
import { keyProblem, objectFieldsAt } from "./lib/config-keys";
import { MAX_CONFIG_NESTING, nestingPath } from "./lib/depth";
import { formatBytes, quantityBytes } from "./lib/quantity";
import { checkInstanceType } from "../contract/catalog/instance-types";
import { reservedTagProblem } from "./aws/tags";
import { settingsSchema } from "../contract/accounting/settings";

/**
 * Kueue chart installed by default: the release the local harness builds and the e2e suite tests
 * (KUEUE_VERSION in scripts/toolchain/versions.sh; test/layout/pins.test.ts keeps them equal).
 */
export const KUEUE_CHART_VERSION = "0.14.8";
/**
 * JobSet chart installed by default (oci://registry.k8s.io/jobset/charts/jobset): the release the local
 * harness runs (JOBSET_VERSION in scripts/toolchain/versions.sh; test/layout/pins.test.ts keeps them equal).
 */
export const JOBSET_CHART_VERSION = "0.12.0";

/** Upper bound of any GPU count in the config (a pool's maxGpus, a team's gpuQuota). */
const MAX_GPUS = 10_000;
/** Kubernetes minor versions EKS (and the local harness) run. */
const SUPPORTED_MINORS = [28, 29, 30, 31, 32, 33, 34];

/** AWS tag rules: key 1-128, value 0-256 characters of letters, digits, spaces and _ . : / = + - @; no aws: or kiln: prefix. */
function awsTagProblem(key: string, value: string): string | undefined {
  const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
  if (key.length === 0 || key.length > 128) return "a tag key is 1-128 characters";
  const reserved = reservedTagProblem(key);
  if (reserved) return reserved;
  if (!allowed.test(key)) return "a tag key may hold letters, digits, spaces and _ . : / = + - @ only";
  if (value.length > 256) return `the value is ${value.length} characters; AWS allows 256`;
  if (!allowed.test(value)) return "a tag value may hold letters, digits, spaces and _ . : / = + - @ only";
  return undefined;
}

/** S3 bucket naming rules (the subset that matters for names Kiln is given). */
function bucketProblem(name: string): string | undefined {
  const shown = clip(name, 70);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name))
    return `'${shown}' is not an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`;
  if (name.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith("xn--") || name.endsWith("-s3alias"))
    return `'${shown}' is not an S3 bucket name (no '..', no IP-address form, no reserved prefix or suffix)`;
  return undefined;
}

/** A VPC is a /16 to /28 block (what Amazon VPC accepts). */
function vpcSizeProblem(cidr: string): string | undefined {
  const c = parseCidr(cidr)!;
  return c.prefix < 16 || c.prefix > 28 ? `'${cidr}' is a /${c.prefix}; a VPC is a /16 to /28 block` : undefined;
}

const dnsLabel = z
  .string()
  .regex(
    /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/,
    "must be a DNS label: lowercase letters, digits and '-', at most 32 characters",
  );

const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a Kubernetes quantity such as 64, 500m or 256Gi");

/** A storage quantity between `min` and `max` bytes: zero and absurd sizes are refused (the schema checked its form). */
const sizeWithin = (what: string, min: number, max: number) => (v: string, ctx: z.RefinementCtx) => {
  const bytes = quantityBytes(v);
  if (bytes !== undefined && (bytes < min || bytes > max))
    ctx.addIssue({
      code: "custom",
      message: `'${v}' is ${bytes === 0 ? "zero" : bytes < min ? "too small" : "absurdly large"}: ${what} is ${formatBytes(min)} to ${formatBytes(max)}`,
    });
};

/** A string that passes `problem` (its message is the issue). */
const checked = (problem: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });

const imageTag = checked(tagProblem);

const gpuPool = z.strictObject({
  /** Pool name: NodePool / ResourceFlavor name and the `kiln.dev/gpu-pool` node label. */
  name: dnsLabel,
  /** EC2 instance families (g5, g6, ...); Karpenter picks sizes. Exclusive with instanceTypes. */
  instanceFamilies: z.array(z.string()).optional(),
  /** Exact EC2 instance types (g5.xlarge, ...). Exclusive with instanceFamilies. */
  instanceTypes: z.array(z.string()).optional(),
  /** Purchase options, default spot only. */
  capacityTypes: z
    .array(z.enum(["spot", "on-demand"]))
    .min(1)
    .default(["spot"]),
  /** Karpenter `limits.nvidia.com/gpu`: the most GPUs the pool may hold at once. 0 disables it. */
  maxGpus: z.number().int().min(0, "must be >= 0").max(MAX_GPUS, `must be <= ${MAX_GPUS}`),
  /** GPUs per node; used by the local platform's simulated nodes and the offline plan. Default 8. */
  gpusPerNode: z.number().int().min(1).max(16).default(8),
});

const team = z.strictObject({
  /** Team name; its namespace is `kiln-<name>` unless `namespace` is set. */
  name: dnsLabel,
  namespace: dnsLabel.optional(),
  /** Hard cap on GPUs requested at once in the namespace (ResourceQuota and Kueue borrowing limit). */
  gpuQuota: z.number().int().min(0).max(MAX_GPUS, `must be <= ${MAX_GPUS}`),
  /** GPU pools the team may use; default all. */
  pools: z.array(z.string()).optional(),
  /** ResourceQuota `requests.cpu`, default 64. */
  cpuQuota: quantity.default("64"),
  /** ResourceQuota `requests.memory`, default 512Gi. */
  memoryQuota: quantity.default("512Gi"),
  /** Spend per calendar month (UTC), in GPU-hours or USD: at it, the team's new runs wait. Default none. */
  budget: z
    .strictObject({
      gpuHours: z.number().positive("must be > 0").max(10_000_000).optional(),
      usd: z.number().positive("must be > 0").max(1_000_000_000).optional(),
    })
    .refine(
      (b) => (b.gpuHours === undefined) !== (b.usd === undefined),
      "set exactly one of gpuHours or usd (a monthly amount)",
    )
    .optional(),
});

const systemNodes = z.strictObject({
  instanceTypes: z
    .array(checked((t) => checkInstanceType(t, "system").problem))
    .min(1)
    .max(20)
    .default(["m7i.large"]),
  minSize: z.number().int().min(1).max(100).default(2),
  desiredSize: z.number().int().min(1).default(2),
  maxSize: z.number().int().min(1).default(4),
  diskGiB: z.number().int().min(20).max(16384, "must be <= 16384 (the largest EBS volume)").default(50),
});

const storage = z.strictObject({
  /** Let `pulumi destroy` delete non-empty buckets. Default false. */
  forceDestroy: z.boolean().default(false),
  /** Days to keep noncurrent object versions under checkpoints/ (old checkpoints). Default 7. */
  checkpointVersionDays: z.number().int().min(1).max(3650).default(7),
  /** Days to keep every other noncurrent object version. Default 90. */
  noncurrentVersionDays: z.number().int().min(1).max(3650).default(90),
  /** FSx for Lustre linked to the datasets bucket. Default off. */
  fsx: z
    .strictObject({
      enabled: z.boolean().default(false),
      storageCapacityGiB: z
        .number()
        .int()
        .min(1200, { abort: true })
        .max(2_400_000, { abort: true })
        .refine((n) => n === 1200 || n % 2400 === 0, "FSx for Lustre takes 1200 or a multiple of 2400 GiB")
        .default(1200),
      deploymentType: z.enum(["SCRATCH_2", "PERSISTENT_2"]).default("SCRATCH_2"),
    })
    .prefault({}),
});

const objectStore = z.strictObject({
  /** `minio`: an in-cluster MinIO; `external`: an existing S3-compatible endpoint. */
  mode: z.enum(["minio", "external"]).default("minio"),
  endpoint: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://s3.example.com" }).optional(),
  /** Region the S3 client signs requests for (MinIO and most S3-compatible stores take us-east-1). */
  region: z
    .string()
    .min(1, {
      error:
        "is empty: an S3 client signs every request for a region; use us-east-1 for MinIO and most S3-compatible stores",
      abort: true,
    })
    .regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "must be a region name such as us-east-1 (lowercase letters, digits and '-')")
    .default("us-east-1"),
  accessKeyId: z.string().optional(),
  /** Secret: set with `pulumi config set --secret --path kiln:objectStore.secretAccessKey`. */
  secretAccessKey: z.string().optional(),
  datasetsBucket: checked(bucketProblem).default("datasets"),
  artifactsBucket: checked(bucketProblem).default("artifacts"),
  /** Size of MinIO's PVC, 1Gi to 100Ti. */
  minioStorage: quantity.superRefine(sizeWithin("minioStorage", 2 ** 30, 100 * 2 ** 40)).default("20Gi"),
});

const trainer = z.strictObject({
  /** Trainer image repository; on aws default is the stack's ECR repository. */
  repository: checked(repositoryProblem).optional(),
  tag: imageTag.default(trainerVersion()),
  /** GPUs a run asks for unless the user says otherwise. */
  defaultGpus: z.number().int().min(0).max(64).default(1),
});

const accountant = z.strictObject({
  /** Run kiln-accountant (usage records for `kubectl kiln ls/usage`, team budgets). Default true. */
  enabled: z.boolean().default(true),
  /** Accountant image repository; default on aws the stack's ECR repository `<cluster>/accountant`, on local the trainer's sibling (`.../trainer` -> `.../accountant`). */
  repository: checked(repositoryProblem).optional(),
  tag: imageTag.default(KILN_VERSION),
  /** Seconds between passes. Default 30. */
  intervalSeconds: z.number().int().min(5).max(3600).default(30),
  /** Days a final per-Job usage record is kept once its month is rolled up: the accountant's own field. Default 35. */
  recordRetentionDays: settingsSchema.shape.recordRetentionDays,
  /** Port of its /healthz and /readyz (the Deployment's probes): the accountant's own field. Default 8080. */
  healthPort: settingsSchema.shape.healthPort,
  /** `host:port` its pod reaches the API server at, when the kubernetes Service is not routed (no kube-proxy). */
  apiServer: z
    .string()
    .regex(/^[a-z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. 10.250.0.1:6443")
    .optional(),
  /** Where its pod runs, replacing the platform's system-node placement (e.g. a local cluster's real node). */
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(["Exists", "Equal"]).default("Equal"),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
      }),
    )
    .optional(),
  /** AWS region whose grid intensity turns kWh into CO2e; default the cluster's region (aws) or us-east-1. */
  gridRegion: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region such as us-east-1")
    .optional(),
});

const kueue = z.strictObject({
  /** Queue training Jobs with Kueue. */
  enabled: z.boolean().default(true),
  /** `chart`: install Kueue's Helm chart; `external`: Kueue is already running, only create queues. */
  install: z.enum(["chart", "external"]).default("chart"),
  /** Kueue Helm chart version. */
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, `must be an exact chart version such as ${KUEUE_CHART_VERSION}`)
    .default(KUEUE_CHART_VERSION),
});

const jobset = z.strictObject({
  /** Run multi-node workloads as JobSets (the controller and its CRD). Default true. */
  enabled: z.boolean().default(true),
  /** `chart`: install JobSet's Helm chart; `external`: JobSet already runs (local test clusters). */
  install: z.enum(["chart", "external"]).default("chart"),
  /** JobSet Helm chart version. */
  version: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/, `must be an exact chart version such as ${JOBSET_CHART_VERSION}`)
    .default(JOBSET_CHART_VERSION),
});

const topology = z.strictObject({
  /** Kueue TopologyAwareScheduling: the Topology object and topology-aware flavors. Default true. */
  enabled: z.boolean().default(true),
  /** GPU pools whose flavors are topology-aware; default: every pool on local, none on aws (see README). */
  pools: z.array(z.string()).max(50).optional(),
});

/** Every `kiln:` key, each validated on its own. Keys are flat so `pulumi config set kiln:<key>` works for the simple ones. */
const fieldSchema = z.strictObject({
  platform: z.enum(["aws", "local"]).default("local"),
  clusterName: dnsLabel.optional(),
  tags: z
    .record(z.string(), z.string())
    .superRefine((tags, ctx) => {
      const entries = Object.entries(tags);
      if (entries.length > 40)
        ctx.addIssue({
          code: "custom",
          message: `has ${entries.length} tags; Kiln adds its own and AWS allows 50 per resource: keep at most 40`,
        });
      for (const [k, v] of entries.slice(0, 50)) {
        const p = awsTagProblem(k, v);
        if (p) ctx.addIssue({ code: "custom", path: [clip(k)], message: p });
      }
    })
    .default({}),
  kubernetesVersion: z
    .string()
    .regex(/^1\.\d+$/, "must look like 1.34")
    .refine((v) => SUPPORTED_MINORS.includes(Number(v.split(".")[1])), {
      error: (i) =>
        `'${String(i.input).slice(0, 20)}' is not a supported Kubernetes version (1.${SUPPORTED_MINORS[0]}-1.${SUPPORTED_MINORS.at(-1)}); a version written unquoted in YAML is a number (1.30 reads as 1.3): quote it, "1.30"`,
    })
    .default("1.34"),
  vpcCidr: checked((v) => cidrProblem(v) ?? vpcSizeProblem(v)).default("10.0.0.0/16"),
  azCount: z.number().int().min(2, "must be >= 2 (EKS needs two AZs)").max(6).default(3),
  privateSubnetPrefix: z.number().int().min(16).max(28).default(19),
  publicSubnetPrefix: z.number().int().min(16).max(28).default(24),
  natGateways: z.enum(["single", "perAz"]).default("single"),
  publicAccessCidrs: z.array(checked(cidrProblem)).max(40, "EKS accepts at most 40 public access CIDRs").default([]),
  /** The share of IPv4 (percent) publicAccessCidrs may open beyond Kiln's bounds (a /8 per range, 1/256 in all); 0: none. */
  [ACKNOWLEDGE_KEY]: z
    .number()
    .min(0, "must be >= 0 (a percentage of IPv4; 0 acknowledges nothing)")
    .lt(100, "must be < 100: the API server is never open to the whole internet")
    .default(0),
  adminRoleArns: z.array(z.string().regex(/^arn:aws:iam::\d{12}:role\/.+$/, "must be an IAM role ARN")).default([]),
  systemNodes: systemNodes.prefault({}),
  gpuPools: z.array(gpuPool).max(50, "at most 50 GPU pools").default([]),
  teams: z.array(team).max(100, "at most 100 teams").default([]),
  storage: storage.prefault({}),
  objectStore: objectStore.prefault({}),
  trainer: trainer.prefault({}),
  kueue: kueue.prefault({}),
  jobset: jobset.prefault({}),
  topology: topology.prefault({}),
  accountant: accountant.prefault({}),
  gpuServices: z.enum(["device-plugin", "operator", "none"]).default("device-plugin"),
  /** The Prometheus Operator CRDs exist in the cluster: create a ServiceMonitor for the DCGM exporter. */
  prometheusOperator: z.boolean().default(false),
});

type Parsed = z.output<typeof fieldSchema>;

/** A rule over several keys; it runs only when each of `fields` passed its own checks. */
interface CrossFieldRule {
  readonly fields: readonly (keyof Parsed)[];
  check(c: Parsed, issue: (path: (string | number)[], message: string) => void): void;
}

const CROSS_FIELD_RULES: readonly CrossFieldRule[] = [
  {
    fields: ["vpcCidr", "azCount", "privateSubnetPrefix", "publicSubnetPrefix"],
    check(c, issue) {
      const vpc = parseCidr(c.vpcCidr);
      if (vpc && !layoutSubnets(c.vpcCidr, c.azCount, c.privateSubnetPrefix, c.publicSubnetPrefix))
        issue(
          ["vpcCidr"],
          `${c.vpcCidr} cannot hold ${c.azCount} private /${c.privateSubnetPrefix} and ${c.azCount} public /${c.publicSubnetPrefix} subnets: use a larger VPC, fewer AZs or longer subnet prefixes`,
        );
    },
  },
  {
    fields: ["publicAccessCidrs", "publicAccessAcknowledgedPercent"],
    check(c, issue) {
      // Each entry is canonical here (the schema refused the rest), so the numbers are what EKS would get.
      for (const p of exposureProblems(c.publicAccessCidrs, c.publicAccessAcknowledgedPercent || undefined))
        issue(p.index === undefined ? ["publicAccessCidrs"] : ["publicAccessCidrs", p.index], p.message);
    },
  },
  {
    fields: ["systemNodes"],
    check(c, issue) {
      if (c.systemNodes.minSize > c.systemNodes.desiredSize || c.systemNodes.desiredSize > c.systemNodes.maxSize)
        issue(["systemNodes"], "must satisfy minSize <= desiredSize <= maxSize");
    },
  },
  {
    fields: ["gpuPools", "teams", "platform"],
    check(c, issue) {
      const poolNames = new Map<string, number>();
      c.gpuPools.forEach((p, i) => {
        const first = poolNames.get(p.name);
        if (first !== undefined)
          issue(["gpuPools", i, "name"], `duplicate pool name '${p.name}' (also kiln:gpuPools[${first}].name)`);
        else poolNames.set(p.name, i);
        if (p.name === CPU_FLAVOR)
          issue(
            ["gpuPools", i, "name"],
            `'${CPU_FLAVOR}' is the name of Kiln's cpu/memory Kueue flavor: name the pool after its GPUs, e.g. a10g`,
          );
        const families = p.instanceFamilies ?? [];
        const types = p.instanceTypes ?? [];
        if (c.platform === "aws" && families.length === 0 && types.length === 0)
          issue(["gpuPools", i], `pool '${p.name}' needs instanceFamilies or instanceTypes`);
        if (families.length > 0 && types.length > 0)
          issue(["gpuPools", i], `pool '${p.name}' sets both instanceFamilies and instanceTypes: choose one`);
        families.forEach((f, j) => {
          if (!isKnownFamily(f))
            issue(
              ["gpuPools", i, "instanceFamilies", j],
              `unknown GPU instance family '${f}' (known: ${knownFamilies()})`,
            );
        });
        types.slice(0, 100).forEach((t, j) => {
          const problem = checkInstanceType(t, "gpu").problem;
          if (problem) issue(["gpuPools", i, "instanceTypes", j], problem);
        });
      });

      const teamNames = new Map<string, number>();
      /** Namespace -> the key that gave it to a team. */
      const namespaces = new Map<string, string>();
      c.teams.forEach((t, i) => {
        const first = teamNames.get(t.name);
        if (first !== undefined)
          issue(["teams", i, "name"], `duplicate team name '${t.name}' (also kiln:teams[${first}].name)`);
        else teamNames.set(t.name, i);
        const ns = t.namespace ?? `kiln-${t.name}`;
        const key =
          t.namespace !== undefined ? `kiln:teams[${i}].namespace` : `kiln:teams[${i}].name (namespace kiln-${t.name})`;
        const field = t.namespace !== undefined ? "namespace" : "name";
        const owner = reservedNamespaceOwner(ns);
        if (owner) issue(["teams", i, field], `namespace '${ns}' belongs to ${owner}: give the team another ${field}`);
        const other = namespaces.get(ns);
        // A duplicate name is reported above; its derived namespace collides for the same reason.
        if (other && !(first !== undefined && t.namespace === undefined))
          issue(["teams", i, field], `namespace '${ns}' is also given by ${other}: ${key} collides with it`);
        else if (!other) namespaces.set(ns, key);
        const pools = t.pools ?? c.gpuPools.map((p) => p.name);
        (t.pools ?? []).forEach((name, j) => {
          if (!poolNames.has(name))
            issue(
              ["teams", i, "pools", j],
              `team '${t.name}' uses unknown GPU pool '${name}' (pools: ${[...poolNames.keys()].join(", ") || "none"})`,
            );
        });
        const capacity = c.gpuPools.filter((p) => pools.includes(p.name)).reduce((sum, p) => sum + p.maxGpus, 0);
        if (t.gpuQuota > capacity)
          issue(
            ["teams", i, "gpuQuota"],
            `team '${t.name}' gpuQuota ${t.gpuQuota} is larger than its pools can ever hold (${capacity} GPUs): lower it or raise the pools' maxGpus`,
          );
      });
    },
  },
  {
    fields: ["platform", "objectStore", "trainer", "kueue", "gpuPools"],
    check(c, issue) {
      if (c.platform === "local" && c.objectStore.mode === "external") {
        for (const key of ["endpoint", "accessKeyId", "secretAccessKey"] as const)
          if (!c.objectStore[key]) issue(["objectStore", key], `is required when objectStore.mode is external`);
      }
      if (c.platform === "local" && !c.trainer.repository)
        issue(
          ["trainer", "repository"],
          "is required on the local platform (there is no registry to default to): pulumi config set --path kiln:trainer.repository <registry>/kiln/trainer",
        );
      const largestNode = Math.max(0, ...c.gpuPools.slice(0, 50).map((p) => p.gpusPerNode));
      if (c.gpuPools.length > 0 && c.trainer.defaultGpus > largestNode)
        issue(
          ["trainer", "defaultGpus"],
          `a run of ${c.trainer.defaultGpus} GPUs fits on no node: the largest pool node has ${largestNode} (kiln:gpuPools[].gpusPerNode)`,
        );
      if (c.platform === "aws" && c.trainer.defaultGpus === 0)
        issue(
          ["trainer", "defaultGpus"],
          "must be >= 1 on the aws platform: its only training capacity is the GPU pools, so a CPU run would never schedule",
        );
      if (c.platform === "aws" && c.kueue.install === "external")
        issue(["kueue", "install"], "'external' is for local test clusters; the aws platform installs Kueue's chart");
    },
  },
  {
    fields: ["platform", "jobset"],
    check(c, issue) {
      if (c.platform === "aws" && c.jobset.install === "external")
        issue(["jobset", "install"], "'external' is for local test clusters; the aws platform installs JobSet's chart");
    },
  },
  {
    fields: ["platform", "topology", "gpuPools", "kueue"],
    check(c, issue) {
      const pools = new Map(c.gpuPools.map((p) => [p.name, p]));
      const seen = new Set<string>();
      (c.topology.pools ?? []).forEach((name, i) => {
        const pool = pools.get(name);
        if (seen.has(name)) issue(["topology", "pools", i], `pool '${name}' is listed twice`);
        seen.add(name);
        if (!pool) {
          issue(
            ["topology", "pools", i],
            `unknown GPU pool '${name}' (pools: ${[...pools.keys()].join(", ") || "none"})`,
          );
          return;
        }
        const shape = [...(pool.instanceFamilies ?? []), ...(pool.instanceTypes ?? [])];
        if (c.platform === "aws" && !hasInstanceTopology(shape))
          issue(
            ["topology", "pools", i],
            `pool '${name}' (${shape.join(", ")}) has instance types without EC2 instance topology labels (topology.k8s.aws/network-node-layer-*), so Kueue would see none of its nodes: list only pools of p4d, p4de, p5, p5e or g6e`,
          );
      });
      if (c.topology.pools?.length && !c.topology.enabled)
        issue(
          ["topology", "pools"],
          "lists pools but kiln:topology.enabled is false: remove the list or enable topology",
        );
      if (c.topology.pools?.length && !c.kueue.enabled)
        issue(
          ["topology", "pools"],
          "topology-aware placement is Kueue's: set kiln:kueue.enabled true or remove the list",
        );
    },
  },
  {
    fields: ["accountant", "teams", "kueue"],
    check(c, issue) {
      c.teams.slice(0, 100).forEach((t, i) => {
        if (!t.budget) return;
        if (!c.accountant.enabled)
          issue(
            ["teams", i, "budget"],
            `team '${t.name}' has a budget, which kiln-accountant enforces: set kiln:accountant.enabled true or remove the budget`,
          );
        if (!c.kueue.enabled)
          issue(
            ["teams", i, "budget"],
            `team '${t.name}' has a budget, which holds its Kueue ClusterQueue: set kiln:kueue.enabled true or remove the budget`,
          );
      });
    },
  },
];

/** Adds the cross-field rules to a schema, each guarded by its fields' own validity. */
function withCrossFieldRules<T extends z.ZodType<Parsed>>(schema: T): T {
  let out = schema;
  for (const rule of CROSS_FIELD_RULES)
    out = out.superRefine(
      (c, ctx) => rule.check(c, (path, message) => ctx.addIssue({ code: "custom", path, message })),
      { when: (payload) => !payload.issues.some((i) => rule.fields.includes(i.path?.[0] as keyof Parsed)) },
    ) as T;
  return out;
}

/** Every `kiln:` key with its own checks and the cross-field rules. */
export const configSchema = withCrossFieldRules(fieldSchema);

function knownFamilies(): string {
  return Object.keys(GPU_FAMILIES).join(", ");
}

export interface GpuPoolConfig extends Readonly<z.output<typeof gpuPool>> {}

export interface TeamConfig extends Readonly<Omit<z.output<typeof team>, "namespace" | "pools">> {
  readonly namespace: string;
  readonly pools: readonly string[];
}

export type KilnConfig = Readonly<
  Omit<Parsed, "clusterName" | "teams"> & {
    stack: string;
    project: string;
    clusterName: string;
    teams: readonly TeamConfig[];
    subnets: SubnetLayout;
    /** Valid but worth saying (e.g. an instance type without a price); the program logs them. */
    warnings: readonly string[];
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/**
 * Raw config as Pulumi hands it over: `{"kiln:azCount": "3", "kiln:gpuPools": "[...]"}`.
 * Keys of other namespaces (aws:region, ...) are ignored; unknown `kiln:` keys, case variants of the
 * namespace and keys with extra segments are errors naming the nearest known key.
 */
export function parseConfig(raw: Readonly<Record<string, string>>, stack: string, project = "kiln"): KilnConfig {
  const input: Record<string, unknown> = {};
  const keyProblems: string[] = [];
  /** Keys refused before validation: what the schema would say about their absence is not the problem. */
  const skipped = new Set<string>();
  for (const [key, value] of Object.entries(raw)) {
    const problem = configKeyProblem(key, project);
    if (problem) {
      keyProblems.push(`${clip(key, 60)}: ${problem}`);
      continue;
    }
    const colon = key.indexOf(":");
    const [ns, name] = [key.slice(0, colon), key.slice(colon + 1)];
    if (ns !== project && ns !== "kiln") continue;
    if (value === "") continue; // declared in Pulumi.yaml with an empty default: unset
    const decoded = isTextKey(name) ? value : decode(value);
    const deep = nestingPath(decoded);
    if (deep !== undefined) {
      skipped.add(name);
      keyProblems.push(
        `${keyPath([name])}: nested more than ${MAX_CONFIG_NESTING} levels deep (at ${clip(`kiln:${name}${deep}`, 80)}); Kiln's config is at most 3 levels deep: check the value's brackets`,
      );
      continue;
    }
    input[name] = decoded;
  }
  const result = configSchema.safeParse(normalize(input), { reportInput: true });
  if (!result.success || keyProblems.length > 0) {
    const issues = (result.error?.issues ?? []).filter((i) => !skipped.has(String(i.path[0])));
    throw new ConfigError([...keyProblems, ...issues.flatMap(problemLines)]);
  }
  const c = result.data;
  return {
    ...c,
    warnings: instanceTypeWarnings(c),
    stack,
    project,
    clusterName: c.clusterName ?? `kiln-${stack}`,
    teams: c.teams.map((t) => ({
      ...t,
      namespace: t.namespace ?? `kiln-${t.name}`,
      pools: t.pools ?? c.gpuPools.map((p) => p.name),
    })),
    subnets: layoutSubnets(c.vpcCidr, c.azCount, c.privateSubnetPrefix, c.publicSubnetPrefix)!,
  };
}

/** What is valid but the plan cannot price: a warning per unpriced instance type. */
function instanceTypeWarnings(c: Parsed): string[] {
  const warnings: [string, string | undefined][] = c.systemNodes.instanceTypes.map((t, j) => [
    `kiln:systemNodes.instanceTypes[${j}]`,
    checkInstanceType(t, "system").warning,
  ]);
  for (const [i, p] of c.gpuPools.entries()) {
    for (const [j, t] of (p.instanceTypes ?? []).entries())
      warnings.push([`kiln:gpuPools[${i}].instanceTypes[${j}]`, checkInstanceType(t, "gpu").warning]);
  }
  return warnings.filter(([, w]) => w).map(([key, w]) => `${key}: ${w}`);
}

/**
 * The one normalisation, before validation: every string is trimmed, so the value a check passes is the
 * value the program uses (canonical forms are the schema's: a CIDR must already be canonical).
 */
function normalize(value: unknown): unknown {
  if (typeof value === "string") return value.trim();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

/** Keys whose schema is a string or enum: their text is the value ("1.34" stays a string). */
export function isTextKey(name: string): boolean {
  let schema = (fieldSchema.shape as Record<string, z.ZodType | undefined>)[name];
  while (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional || schema instanceof z.ZodPrefault)
    schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodString || schema instanceof z.ZodEnum;
}

/** Pulumi stores structured and numeric values as JSON text; plain strings stay strings. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function keyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "stack config";
  const [head, ...rest] = path;
  let out = `kiln:${String(head ?? "")}`;
  for (const p of rest) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** Why a raw config key cannot be read (infra/lib/config-keys.ts), or undefined: the project's declared keys. */
export function configKeyProblem(key: string, project = "kiln"): string | undefined {
  return keyProblem(key, project, Object.keys(fieldSchema.shape));
}

/** One line per problem of an issue, each starting with the key it is about. */
function problemLines(issue: z.core.$ZodIssue): string[] {
  if (issue.code === "unrecognized_keys") {
    const known = objectFieldsAt(fieldSchema, issue.path);
    const where = issue.path.length ? ` of ${keyPath(issue.path)}` : "";
    return issue.keys.slice(0, 10).map((k) => {
      const meant = nearest(k, known);
      return `${keyPath([...issue.path, clip(k)])}: unknown field${meant ? `: did you mean ${meant}?` : ""} (fields${where}: ${known.join(", ")})`;
    });
  }
  return [`${keyPath(issue.path)}: ${describe(issue)}`];
}

function describe(issue: z.core.$ZodIssue): string {
  // `pulumi config set --path k.n 5` stores the text "5": say how to store a number.
  if (
    issue.code === "invalid_type" &&
    (issue.expected === "number" || issue.expected === "boolean") &&
    typeof issue.input === "string"
  )
    return `is the text '${clip(issue.input)}', not a ${issue.expected}: set it with --type ${issue.expected === "number" ? "float (or int)" : "bool"} (pulumi config set --path <key> <value> --type ...) or write it unquoted in the stack file`;
  return issue.message;
}

/** Reads this stack's config from the Pulumi engine (or the test mocks) and validates it. */
export function loadConfig(): KilnConfig {
  const config = parseConfig(pulumi.runtime.allConfig(), pulumi.getStack(), pulumi.getProject());
  for (const w of config.warnings) void pulumi.log.warn(w);
  return config;
}
