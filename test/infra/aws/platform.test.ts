/**
 * AwsPlatform built directly under the mocks (no cluster layer): the PlatformOutputs contract, and
 * the components' own validation.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  Cluster,
  DatasetCache,
  GpuNodePools,
  Karpenter,
  Network,
  Registry,
  Storage,
  SystemNodes,
} from "../../../infra/aws";
import { roleSlug } from "../../../infra/aws/cluster";
import { nodePoolSpec } from "../../../infra/aws/gpu-pools";
import { trainerStatements } from "../../../infra/aws/identity";
import { gpuNamesOf } from "../../../contract/catalog/gpu-families";
import { KilnMocks, promiseOf } from "../../../scripts/plan/engine/mocks";
import { type AwsRun, buildAws } from "./harness";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

describe("platform outputs (dev stack)", () => {
  let run: AwsRun;
  beforeAll(async () => {
    run = await buildAws();
  }, 60_000);

  test("object storage is S3 in the stack's region, reached over 443 at the region's S3 ranges only", async () => {
    const store = run.platform.objectStore;
    expect(await promiseOf(store.region)).toBe("us-west-2");
    expect(await promiseOf(store.datasetsBucket)).toMatch(/^kiln-dev-storage-datasets-/);
    expect(await promiseOf(store.artifactsBucket)).toMatch(/^kiln-dev-storage-artifacts-/);
    expect(store.endpoint).toBeUndefined();
    expect(store.credentials).toBeUndefined();
    expect(store.egress).toMatchObject({ kind: "cidrs", port: 443 });
    const cidrs = store.egress.kind === "cidrs" ? await promiseOf(store.egress.cidrs) : [];
    // The mocks' prefix list for com.amazonaws.us-west-2.s3, sorted; never the whole internet.
    expect(cidrs).toEqual([
      "18.34.244.0/22",
      "18.34.48.0/20",
      "3.5.76.0/22",
      "3.5.80.0/21",
      "52.218.128.0/17",
      "52.92.128.0/17",
    ]);
  });

  test("the trainer uses Pod Identity (no ServiceAccount annotations) and the stack's ECR image at kiln:trainer.tag", async () => {
    expect(run.platform.trainerServiceAccountAnnotations).toEqual({});
    expect(await promiseOf(run.platform.imageRepositoryUrl)).toBe(
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer",
    );
    expect(await promiseOf(run.platform.trainerImage)).toBe(
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer:0.1.0",
    );
    expect(await promiseOf(run.platform.trainerRoleArn)).toMatch(
      /^arn:aws:iam::123456789012:role\/kiln-dev-trainer-role-/,
    );
    expect(await promiseOf(run.platform.clusterName)).toBe("kiln-dev");
  });

  test("the kubeconfig is secret and authenticates with `aws eks get-token`, never a static credential", async () => {
    const provider = run.ofType("pulumi:providers:kubernetes");
    expect(provider.length).toBe(1);
    const raw = provider[0].inputs.kubeconfig;
    expect(raw[SIG_KEY]).toBe(SECRET_SIG);
    const kc = JSON.parse(raw.value);
    expect(kc.users[0].user.exec).toMatchObject({
      command: "aws",
      args: ["eks", "get-token", "--cluster-name", "kiln-dev", "--region", "us-west-2", "--output", "json"],
    });
    expect(kc.users[0].user.token).toBeUndefined();
    expect(kc.clusters[0].cluster.server).toMatch(/^https:\/\/.*eks\.amazonaws\.com$/);
    expect(pulumi.Output.isInstance(run.platform.kubeconfig)).toBe(true);
  });

  test("in-cluster objects use the cluster's provider, and clusterReady holds nodes, add-ons, Karpenter and NodePools", () => {
    const providerUrn = run.ofType("pulumi:providers:kubernetes")[0].urn;
    for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:")))
      expect(r.provider?.startsWith(providerUrn)).toBe(true);
    const ready = run.platform.clusterReady;
    const types = ready.map((r) => (r as unknown as { __pulumiType: string }).__pulumiType);
    expect(types).toEqual(
      expect.arrayContaining([
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:karpenter.sh/v1:NodePool",
      ]),
    );
  });

  test("every AWS and Kubernetes resource belongs to a kiln:aws component named after the cluster", () => {
    const components = run.resources.filter((r) => !r.custom);
    expect(components.every((c) => c.type.startsWith("kiln:aws:") && c.name.startsWith("kiln-dev"))).toBe(true);
    const componentUrns = new Set(components.map((c) => c.urn));
    for (const r of run.resources.filter((x) => x.custom)) {
      expect({ name: r.name, parentIsComponent: r.parent !== undefined && componentUrns.has(r.parent) }).toEqual({
        name: r.name,
        parentIsComponent: true,
      });
      expect(r.name.startsWith("kiln-dev-")).toBe(true);
    }
  });
});

test("kiln:trainer.repository replaces the ECR image, keeping kiln:trainer.tag", async () => {
  const run = await buildAws({ "kiln:trainer": { repository: "ghcr.io/acme/kiln-trainer", tag: "1.2.3" } });
  expect(await promiseOf(run.platform.trainerImage)).toBe("ghcr.io/acme/kiln-trainer:1.2.3");
}, 60_000);

describe("component validation names the field, the bad value and the fix", () => {
  const mocks = new KilnMocks();
  beforeAll(async () => {
    await pulumi.runtime.setMocks(mocks, "kiln", "dev", true);
  });
  afterAll(async () => {
    // Every rejection above happened before the component registered itself or any child.
    await new Promise((r) => setTimeout(r, 50));
    expect(mocks.resources).toEqual([]);
  });
  const tags = { "kiln:cluster": "c", "kiln:stack": "s" };
  const account = { accountId: "123456789012", region: "us-west-2", partition: "aws" };

  test("Network rejects a subnet layout with fewer than two AZs", () => {
    expect(
      () =>
        new Network("n", {
          vpcCidr: "10.0.0.0/16",
          subnets: { private: ["10.0.0.0/19"], public: ["10.0.96.0/24"] },
          clusterName: "c",
          region: "us-west-2",
          tags,
        }),
    ).toThrow(/same number \(>= 2\).*1 private and 1 public.*kiln:azCount/);
  });

  test("Cluster refuses a public endpoint open to the internet", () => {
    expect(
      () =>
        new Cluster("c", {
          clusterName: "c",
          kubernetesVersion: "1.34",
          subnetIds: [],
          publicAccessCidrs: ["0.0.0.0/0"],
          account,
          tags,
        }),
    ).toThrow(/publicAccessCidrs: '0\.0\.0\.0\/0' opens the API server to the internet.*office\/VPN/);
  });

  test("SystemNodes rejects sizes out of order", () => {
    expect(
      () =>
        new SystemNodes("s", { clusterName: "c", subnetIds: [], minSize: 3, desiredSize: 2, partition: "aws", tags }),
    ).toThrow(/minSize <= desiredSize <= maxSize, got 3 \/ 2 \/ 4.*kiln:systemNodes/);
  });

  test("Storage rejects non-positive retention days", () => {
    expect(() => new Storage("st", { checkpointVersionDays: 0, account, tags })).toThrow(
      /kiln:storage\.checkpointVersionDays is 0.*>= 1/,
    );
  });

  test("DatasetCache rejects a Lustre capacity FSx cannot provision", () => {
    expect(
      () =>
        new DatasetCache("d", {
          vpcId: "v",
          vpcCidr: "10.0.0.0/16",
          subnetId: "s",
          datasetsBucket: "b",
          kmsKeyArn: "k",
          storageCapacityGiB: 1300,
          tags,
        }),
    ).toThrow(/storageCapacityGiB is 1300.*1200 or a multiple of 2400/);
  });

  test("Karpenter rejects an unpinned chart version", () => {
    const provider = undefined as never;
    expect(
      () =>
        new Karpenter("k", {
          clusterName: "c",
          eksCluster: "c",
          clusterEndpoint: "https://x",
          account,
          provider,
          version: "latest",
          tags,
        }),
    ).toThrow(/version 'latest' must be an exact chart version/);
  });

  test("GpuNodePools rejects duplicate pools, pools without instances and a malformed AMI alias", () => {
    const base = { clusterName: "c", nodeRoleName: "r", securityGroupId: "sg", provider: undefined as never, tags };
    const pool = { name: "p", instanceFamilies: ["g5"], capacityTypes: ["spot" as const], maxGpus: 1, gpusPerNode: 1 };
    expect(() => new GpuNodePools("g1", { ...base, pools: [pool, pool] })).toThrow(/duplicate pool name 'p'.*unique/);
    expect(() => new GpuNodePools("g2", { ...base, pools: [{ ...pool, instanceFamilies: [] }] })).toThrow(
      /pool 'p' needs instanceFamilies or instanceTypes/,
    );
    expect(() => new GpuNodePools("g3", { ...base, pools: [pool], amiAlias: "al2@latest" })).toThrow(
      /amiAlias 'al2@latest' must be al2023@latest or al2023@vYYYYMMDD/,
    );
  });

  test("Registry rejects an invalid repository name", () => {
    expect(() => new Registry("r", { repositoryName: "Kiln/Trainer", tags })).toThrow(
      /'Kiln\/Trainer' is not a valid ECR repository name/,
    );
  });
});

describe("pure pieces", () => {
  test("GPU names come from the catalog for families and types, and unknown families are named", () => {
    expect(gpuNamesOf(["g5", "g6.12xlarge", "g5.xlarge"])).toEqual(["a10g", "l4"]);
    expect(() => gpuNamesOf(["m7i"])).toThrow(/unknown GPU instance family 'm7i'.*known: g4dn/);
  });

  test("a pool with maxGpus 0 is limited to zero GPUs (disabled), not unlimited", () => {
    const spec = nodePoolSpec(
      { name: "off", instanceFamilies: ["g5"], capacityTypes: ["spot"], maxGpus: 0, gpusPerNode: 1 },
      "kiln-gpu",
      "10m",
    ) as any;
    expect(spec.limits).toEqual({ "nvidia.com/gpu": 0 });
  });

  test("admin access entries are named from the role's account and name", () => {
    expect(roleSlug("arn:aws:iam::123456789012:role/path/to/Team_Admin")).toBe("123456789012-team-admin");
    expect(() => roleSlug("arn:aws:iam::123456789012:user/bob")).toThrow(/not an IAM role ARN/);
  });

  test("the trainer policy has no wildcard resource and no wildcard action", () => {
    const s = trainerStatements({
      datasetsBucketArn: "arn:aws:s3:::d",
      artifactsBucketArn: "arn:aws:s3:::a",
      keyArn: "arn:aws:kms:us-west-2:1:key/k",
    });
    for (const x of s) {
      for (const r of [x.Resource].flat()) expect(r).not.toBe("*");
      for (const a of [x.Action].flat()) expect(a).not.toMatch(/\*/);
    }
  });
});
