/**
 * infra/config.ts: every rule rejects bad input with a message naming the key, the bad value and
 * the fix; good input gets its defaults. Config errors stop the program before any resource.
 */
import { ConfigError, type KilnConfig, parseConfig } from "../../infra/config";
import { KilnMocks } from "../../scripts/plan/engine/mocks";
import { runStack } from "./cluster/support";

/** The image repository every local stack must name (there is no registry to default to). */
const REPOSITORY = "registry.test/kiln/trainer";

/** Raw config as the engine hands it over: every value a string, structures as JSON. */
function raw(config: Record<string, unknown>): Record<string, string> {
  return rawAsIs({ ...config, trainer: { repository: REPOSITORY, ...(config.trainer as object | undefined) } });
}

function rawAsIs(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [
      k.includes(":") ? k : `kiln:${k}`,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  );
}

const LOCAL_POOLS = [
  { name: "a10g", maxGpus: 16 },
  { name: "h100", maxGpus: 8 },
];
const AWS_POOL = { name: "gpu", instanceFamilies: ["g5"], maxGpus: 8 };

function parse(config: Record<string, unknown>, stack = "test"): KilnConfig {
  return parseConfig(raw(config), stack);
}

/** The problems parseConfig reports for `config` (fails the test if it accepts it). */
function problems(config: Record<string, unknown>): string[] {
  try {
    parse(config);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error(`config was accepted: ${JSON.stringify(config)}`);
}

/** Asserts `config` is rejected with exactly one problem equal to `expected`. */
function rejects(config: Record<string, unknown>, expected: string | RegExp): void {
  const found = problems(config);
  expect(found).toHaveLength(1);
  if (typeof expected === "string") expect(found[0]).toBe(expected);
  else expect(found[0]).toMatch(expected);
}

describe("defaults", () => {
  test("an empty config is a valid local stack with every default filled in", () => {
    const c = parse({}, "lab");
    expect(c.platform).toBe("local");
    expect(c.clusterName).toBe("kiln-lab");
    expect(c.gpuServices).toBe("device-plugin");
    expect(c.kueue).toEqual({ enabled: true, install: "chart", version: "0.14.8" });
    expect(c.objectStore).toMatchObject({
      mode: "minio",
      region: "us-east-1",
      datasetsBucket: "datasets",
      artifactsBucket: "artifacts",
      minioStorage: "20Gi",
    });
    expect(c.trainer).toEqual({ repository: REPOSITORY, tag: "0.1.0", defaultGpus: 1 });
    expect(c.systemNodes).toEqual({
      instanceTypes: ["m7i.large"],
      minSize: 2,
      desiredSize: 2,
      maxSize: 4,
      diskGiB: 50,
    });
    expect(c.subnets.private).toHaveLength(3);
  });

  test("a team's namespace defaults to kiln-<team> and its pools to all pools", () => {
    const c = parse({ gpuPools: LOCAL_POOLS, teams: [{ name: "research", gpuQuota: 4 }] });
    expect(c.teams[0]).toMatchObject({
      namespace: "kiln-research",
      pools: ["a10g", "h100"],
      cpuQuota: "64",
      memoryQuota: "512Gi",
    });
  });

  test("a pool defaults to spot capacity and 8 GPUs per node", () => {
    expect(parse({ gpuPools: LOCAL_POOLS }).gpuPools[0]).toMatchObject({ capacityTypes: ["spot"], gpusPerNode: 8 });
  });

  test("keys of other namespaces are ignored; the project's own namespace counts as kiln", () => {
    const c = parseConfig(
      { "aws:region": "us-west-2", "kubernetes:context": "lab", "kiln:platform": "aws", "kiln:azCount": "2" },
      "test",
    );
    expect(c.azCount).toBe(2);
    expect(parseConfig({ "forge:platform": "aws", "forge:azCount": "4" }, "test", "forge").azCount).toBe(4);
  });

  test("numbers and structures arrive as JSON text, plain strings stay strings", () => {
    const c = parseConfig(
      { "kiln:platform": "aws", "kiln:azCount": "2", "kiln:natGateways": "perAz", "kiln:tags": '{"team":"ml"}' },
      "test",
    );
    expect([c.azCount, c.natGateways, c.tags]).toEqual([2, "perAz", { team: "ml" }]);
  });
});

describe("the whole config is checked at once", () => {
  test("every problem is listed, each with its key", () => {
    let error: ConfigError | undefined;
    try {
      parse({ azCount: 1, natGateways: "none", gpuServices: "all" });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(3);
    expect(error!.message).toMatch(/^Invalid stack config \(3 problems\):\n {2}- kiln:azCount: /);
    expect(error!.problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual([
      "kiln:azCount",
      "kiln:natGateways",
      "kiln:gpuServices",
    ]);
  });

  test("one problem is reported in the singular", () => {
    expect(() => parse({ azCount: 7 })).toThrow(/^Invalid stack config \(1 problem\):/);
  });
});

describe("field rules", () => {
  test("unknown top-level keys are rejected, pointing at Pulumi.yaml", () => {
    rejects({ gpuPool: [] }, "kiln:gpuPool: unknown key: did you mean kiln:gpuPools? (Pulumi.yaml declares every key)");
  });

  test("unknown nested keys are rejected with their path", () => {
    rejects(
      { gpuPools: [{ name: "a", maxGpus: 1, maxGPUs: 2 }] },
      /^kiln:gpuPools\[0\]\.maxGPUs: unknown field: did you mean maxGpus\? \(fields of kiln:gpuPools\[0\]: name, instanceFamilies/,
    );
    rejects(
      { trainer: { repo: "x" } },
      "kiln:trainer.repo: unknown field: did you mean repository? (fields of kiln:trainer: repository, tag, defaultGpus)",
    );
  });

  test("platform must be aws or local", () => {
    rejects({ platform: "gcp" }, /^kiln:platform: /);
  });

  test("names are DNS labels", () => {
    const msg = "must be a DNS label: lowercase letters, digits and '-', at most 32 characters";
    rejects({ clusterName: "Kiln_Dev" }, `kiln:clusterName: ${msg}`);
    rejects({ gpuPools: [{ name: "A100", maxGpus: 1 }] }, `kiln:gpuPools[0].name: ${msg}`);
    rejects({ teams: [{ name: "r&d", gpuQuota: 0 }] }, `kiln:teams[0].name: ${msg}`);
    rejects({ teams: [{ name: "ok", namespace: "-bad", gpuQuota: 0 }] }, `kiln:teams[0].namespace: ${msg}`);
    rejects({ teams: [{ name: "a".repeat(33), gpuQuota: 0 }] }, `kiln:teams[0].name: ${msg}`);
  });

  test("kubernetesVersion looks like 1.34", () => {
    rejects({ kubernetesVersion: "v1.34.1" }, "kiln:kubernetesVersion: must look like 1.34");
  });

  test("azCount is 2 to 6 (EKS needs two AZs)", () => {
    rejects({ azCount: 1 }, "kiln:azCount: must be >= 2 (EKS needs two AZs)");
    rejects({ azCount: 7 }, /^kiln:azCount: /);
    rejects({ azCount: 2.5 }, /^kiln:azCount: /);
  });

  test("subnet prefixes are 16 to 28", () => {
    // (The layout check then also reports the VPC cannot hold such subnets.)
    expect(problems({ privateSubnetPrefix: 15 })[0]).toBe(
      "kiln:privateSubnetPrefix: Too small: expected number to be >=16",
    );
    expect(problems({ privateSubnetPrefix: 29 })[0]).toBe(
      "kiln:privateSubnetPrefix: Too big: expected number to be <=28",
    );
    rejects({ publicSubnetPrefix: 29 }, "kiln:publicSubnetPrefix: Too big: expected number to be <=28");
  });

  test("natGateways is single or perAz", () => {
    rejects({ natGateways: "none" }, /^kiln:natGateways: /);
  });

  test("adminRoleArns are IAM role ARNs", () => {
    rejects(
      { adminRoleArns: ["arn:aws:iam::123456789012:user/alice"] },
      "kiln:adminRoleArns[0]: must be an IAM role ARN",
    );
  });

  test("system nodes: at least one instance type, sizes >= 1, disks >= 20 GiB", () => {
    rejects({ systemNodes: { instanceTypes: [] } }, /^kiln:systemNodes\.instanceTypes: /);
    rejects({ systemNodes: { minSize: 0 } }, /^kiln:systemNodes\.minSize: /);
    rejects({ systemNodes: { diskGiB: 10 } }, /^kiln:systemNodes\.diskGiB: /);
  });

  test("a pool's capacity types are spot or on-demand, at least one", () => {
    rejects(
      { gpuPools: [{ name: "a", maxGpus: 1, capacityTypes: ["reserved"] }] },
      /^kiln:gpuPools\[0\]\.capacityTypes\[0\]: /,
    );
    rejects({ gpuPools: [{ name: "a", maxGpus: 1, capacityTypes: [] }] }, /^kiln:gpuPools\[0\]\.capacityTypes: /);
  });

  test("a pool's maxGpus is a whole number >= 0 and gpusPerNode 1 to 16", () => {
    rejects({ gpuPools: [{ name: "a", maxGpus: -1 }] }, "kiln:gpuPools[0].maxGpus: must be >= 0");
    rejects({ gpuPools: [{ name: "a", maxGpus: 1.5 }] }, /^kiln:gpuPools\[0\]\.maxGpus: /);
    rejects({ gpuPools: [{ name: "a", maxGpus: 8, gpusPerNode: 0 }] }, /^kiln:gpuPools\[0\]\.gpusPerNode: /);
    rejects({ gpuPools: [{ name: "a", maxGpus: 8, gpusPerNode: 17 }] }, /^kiln:gpuPools\[0\]\.gpusPerNode: /);
  });

  test("a team's gpuQuota is a whole number >= 0; cpu and memory quotas are Kubernetes quantities", () => {
    rejects({ teams: [{ name: "a", gpuQuota: -1 }] }, /^kiln:teams\[0\]\.gpuQuota: /);
    const msg = "must be a Kubernetes quantity such as 64, 500m or 256Gi";
    rejects({ teams: [{ name: "a", gpuQuota: 0, cpuQuota: "lots" }] }, `kiln:teams[0].cpuQuota: ${msg}`);
    rejects({ teams: [{ name: "a", gpuQuota: 0, memoryQuota: "512GB" }] }, `kiln:teams[0].memoryQuota: ${msg}`);
    rejects({ objectStore: { minioStorage: "20 Gi" } }, `kiln:objectStore.minioStorage: ${msg}`);
  });

  test("storage: retention days >= 1, FSx at least 1200 GiB of a known deployment type", () => {
    rejects({ storage: { checkpointVersionDays: 0 } }, /^kiln:storage\.checkpointVersionDays: /);
    rejects({ storage: { noncurrentVersionDays: 0 } }, /^kiln:storage\.noncurrentVersionDays: /);
    rejects(
      { storage: { fsx: { enabled: true, storageCapacityGiB: 1000 } } },
      /^kiln:storage\.fsx\.storageCapacityGiB: /,
    );
    rejects({ storage: { fsx: { deploymentType: "PERSISTENT_1" } } }, /^kiln:storage\.fsx\.deploymentType: /);
  });

  test("objectStore: mode minio or external, endpoint a URL", () => {
    rejects({ objectStore: { mode: "s3" } }, /^kiln:objectStore\.mode: /);
    rejects({ objectStore: { endpoint: "not a url" } }, /^kiln:objectStore\.endpoint: /);
    rejects(
      { objectStore: { endpoint: "ftp://store.example" } },
      "kiln:objectStore.endpoint: must be an http(s) URL such as https://s3.example.com",
    );
  });

  test("the trainer tag is pinned: empty, latest and main are rejected", () => {
    for (const tag of ["latest", "main", "LATEST", "Main", " latest "])
      rejects(
        { trainer: { tag } },
        /^kiln:trainer\.tag: '(latest|main|LATEST|Main)' moves with every push: pin a release tag such as 0\.1\.0/,
      );
    rejects({ trainer: { tag: "" } }, /^kiln:trainer\.tag: /);
    rejects({ trainer: { defaultGpus: -1 } }, /^kiln:trainer\.defaultGpus: /);
  });

  test("kueue: install chart or external, version exact", () => {
    rejects({ kueue: { install: "operator" } }, /^kiln:kueue\.install: /);
    rejects({ kueue: { version: "0.14" } }, "kiln:kueue.version: must be an exact chart version such as 0.14.8");
  });

  test("gpuServices is device-plugin, operator or none", () => {
    rejects({ gpuServices: "gpu-operator" }, /^kiln:gpuServices: /);
  });
});

describe("security refusals hold on the value the program uses", () => {
  test("every string is trimmed before it is checked, and the trimmed value is what the program gets", () => {
    const c = parse({
      clusterName: " kiln-lab ",
      teams: [{ name: " ml ", gpuQuota: 0 }],
      trainer: { repository: " localhost:5000/kiln/trainer ", tag: " 0.2.0 " },
    });
    expect(c.clusterName).toBe("kiln-lab");
    expect(c.teams[0]).toMatchObject({ name: "ml", namespace: "kiln-ml" });
    expect(c.trainer).toMatchObject({ repository: "localhost:5000/kiln/trainer", tag: "0.2.0" });
  });

  test.each([" 0.0.0.0/0", "0.0.0.0/0 ", "0.0.0.0/00", "00.0.0.0/0", "000.000.000.000/0", "0.0.0.0/000"])(
    "the API server is never opened to the internet by %j",
    (cidr) => {
      const found = problems({ publicAccessCidrs: ["203.0.113.0/24", cidr] });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /^kiln:publicAccessCidrs\[1\]: ('0\.0\.0\.0\/0' opens the API server to the internet|'[0.]+\/0+' has leading zeros: write it as 0\.0\.0\.0\/0|'0\.0\.0\.0\/000' is not an IPv4 CIDR)/,
      );
    },
  );

  test("a list that together covers every address is refused too", () => {
    rejects(
      { publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] },
      /^kiln:publicAccessCidrs: together, 0\.0\.0\.0\/1, 128\.0\.0\.0\/1 cover every IPv4 address/,
    );
    rejects(
      { publicAccessCidrs: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "203.0.113.0/24"] },
      /cover every IPv4 address/,
    );
    rejects(
      { publicAccessCidrs: ["0.0.0.0/1", "203.0.113.0/24"] },
      /^kiln:publicAccessCidrs\[0\]: '0\.0\.0\.0\/1' opens 50 % of IPv4/,
    );
    const acknowledged = parse({
      publicAccessCidrs: ["0.0.0.0/1", "203.0.113.0/24"],
      publicAccessAcknowledgedPercent: 51,
    });
    expect(acknowledged.publicAccessCidrs).toEqual(["0.0.0.0/1", "203.0.113.0/24"]);
  });

  test("the trainer image follows the OCI reference grammar: repository and pinned tag, no digest smuggled in", () => {
    const repo = "localhost:5000/kiln/trainer";
    rejects(
      { trainer: { repository: repo, tag: "0.1.0@sha256:abc" } },
      /^kiln:trainer\.tag: '0\.1\.0@sha256:abc' is not a tag/,
    );
    rejects(
      { trainer: { repository: "kiln/trainer@sha256:abc" } },
      /^kiln:trainer\.repository: 'kiln\/trainer@sha256:abc' holds a digest/,
    );
    rejects(
      { trainer: { repository: "kiln/trainer:0.1.0" } },
      /^kiln:trainer\.repository: 'kiln\/trainer:0\.1\.0' holds a tag/,
    );
    rejects(
      { trainer: { repository: "Kiln/Trainer" } },
      /^kiln:trainer\.repository: 'Kiln\/Trainer' is not an image repository/,
    );
    rejects({ trainer: { repository: "kiln//trainer" } }, /is not an image repository/);
    rejects({ trainer: { repository: repo, tag: ".hidden" } }, /^kiln:trainer\.tag: '\.hidden' is not an image tag/);
    rejects(
      { trainer: { repository: repo, tag: "x".repeat(129) } },
      /^kiln:trainer\.tag: 'x{60}\.\.\.' is not an image tag/,
    );
    for (const repository of [
      repo,
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer",
      "kiln/trainer",
      "registry.example/a__b/c-d.e",
    ])
      expect(parse({ trainer: { repository, tag: "v1.2.3_rc-1" } }).trainer.repository).toBe(repository);
  });

  test.each([
    ["kube-system", "Kubernetes (kube-* namespaces are the system's)"],
    ["kube-anything", "Kubernetes (kube-* namespaces are the system's)"],
    ["default", "Kubernetes (the default namespace)"],
    ["kueue-system", "Kueue"],
    ["kiln-system", "Kiln's system services"],
    ["kiln-gpu", "Kiln's GPU services"],
    ["kiln-accountant", "Kiln's accountant"],
  ])("a team may not take the namespace %s", (ns, owner) => {
    rejects(
      { teams: [{ name: "t", namespace: ns, gpuQuota: 0 }] },
      `kiln:teams[0].namespace: namespace '${ns}' belongs to ${owner}: give the team another namespace`,
    );
  });

  test("a team name whose derived namespace is reserved is refused naming the name", () => {
    rejects(
      { teams: [{ name: "gpu", gpuQuota: 0 }] },
      "kiln:teams[0].name: namespace 'kiln-gpu' belongs to Kiln's GPU services: give the team another name",
    );
    rejects(
      { teams: [{ name: "system", gpuQuota: 0 }] },
      "kiln:teams[0].name: namespace 'kiln-system' belongs to Kiln's system services: give the team another name",
    );
  });

  test("a GPU pool may not take the name of Kiln's cpu flavor", () => {
    rejects(
      { gpuPools: [{ name: "cpu", maxGpus: 8 }] },
      "kiln:gpuPools[0].name: 'cpu' is the name of Kiln's cpu/memory Kueue flavor: name the pool after its GPUs, e.g. a10g",
    );
  });

  test("cross-field rules run only on fields valid on their own: a huge azCount is refused at once, without laying out subnets", () => {
    const t0 = Date.now();
    expect(problems({ azCount: 1e9 })).toEqual(["kiln:azCount: Too big: expected number to be <=6"]);
    expect(problems({ azCount: 1e9, vpcCidr: "10.0.0.0/24" })).toEqual([
      "kiln:azCount: Too big: expected number to be <=6",
    ]);
    expect(Date.now() - t0).toBeLessThan(5000);
    // An invalid field does not hide the problems of other, valid fields.
    expect(problems({ azCount: 1e9, systemNodes: { minSize: 3, desiredSize: 2 } })).toEqual([
      "kiln:azCount: Too big: expected number to be <=6",
      "kiln:systemNodes: must satisfy minSize <= desiredSize <= maxSize",
    ]);
  });
});

describe("bounds and formats AWS or Kubernetes would enforce later are checked up front", () => {
  test("a VPC is a /16 to /28 block", () => {
    rejects({ vpcCidr: "10.0.0.0/8" }, "kiln:vpcCidr: '10.0.0.0/8' is a /8; a VPC is a /16 to /28 block");
    rejects({ vpcCidr: "10.0.0.0/29" }, "kiln:vpcCidr: '10.0.0.0/29' is a /29; a VPC is a /16 to /28 block");
  });

  test("tag keys and values follow AWS's rules", () => {
    rejects(
      { tags: { "aws:owner": "x" } },
      "kiln:tags.aws:owner: tag keys starting with 'aws:' (in any case) are reserved by AWS: rename the tag",
    );
    rejects(
      { tags: { team: "a;b" } },
      "kiln:tags.team: a tag value may hold letters, digits, spaces and _ . : / = + - @ only",
    );
    rejects({ tags: { ["k".repeat(129)]: "v" } }, /^kiln:tags\.k{40}\.\.\.: a tag key is 1-128 characters$/);
    rejects({ tags: { note: "v".repeat(257) } }, "kiln:tags.note: the value is 257 characters; AWS allows 256");
    rejects(
      { tags: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`k${i}`, "v"])) },
      /^kiln:tags: has 41 tags/,
    );
    expect(parse({ tags: { "cost-center": "ML 42", owner: "team@example.com" } }).tags).toEqual({
      "cost-center": "ML 42",
      owner: "team@example.com",
    });
  });

  test("bucket names follow S3's rules", () => {
    rejects(
      { objectStore: { datasetsBucket: "Data_Sets" } },
      /^kiln:objectStore\.datasetsBucket: 'Data_Sets' is not an S3 bucket name/,
    );
    rejects(
      { objectStore: { artifactsBucket: "a..b" } },
      /^kiln:objectStore\.artifactsBucket: 'a\.\.b' is not an S3 bucket name \(no '\.\.'/,
    );
    rejects({ objectStore: { artifactsBucket: "192.168.1.1" } }, /IP-address form/);
  });

  test("the Kubernetes version is one EKS runs; an unquoted 1.30 (read by YAML as 1.3) is explained", () => {
    rejects(
      { kubernetesVersion: "1.3" },
      /^kiln:kubernetesVersion: '1\.3' is not a supported Kubernetes version \(1\.28-1\.34\); a version written unquoted in YAML is a number \(1\.30 reads as 1\.3\): quote it/,
    );
    expect(parse({ kubernetesVersion: "1.30" }).kubernetesVersion).toBe("1.30");
  });

  test("a run's GPUs fit on the largest node", () => {
    rejects(
      { gpuPools: [{ name: "a10g", maxGpus: 16, gpusPerNode: 4 }], trainer: { repository: "r/t", defaultGpus: 8 } },
      "kiln:trainer.defaultGpus: a run of 8 GPUs fits on no node: the largest pool node has 4 (kiln:gpuPools[].gpusPerNode)",
    );
  });

  test("counts have sane upper bounds", () => {
    rejects({ gpuPools: [{ name: "a", maxGpus: 1e9 }] }, "kiln:gpuPools[0].maxGpus: must be <= 10000");
    rejects({ teams: [{ name: "t", gpuQuota: 1e9 }] }, "kiln:teams[0].gpuQuota: must be <= 10000");
    rejects(
      { gpuPools: Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, maxGpus: 1 })) },
      "kiln:gpuPools: at most 50 GPU pools",
    );
    rejects(
      { teams: Array.from({ length: 101 }, (_, i) => ({ name: `t${i}`, gpuQuota: 0 })) },
      "kiln:teams: at most 100 teams",
    );
    rejects({ systemNodes: { diskGiB: 1e6 } }, "kiln:systemNodes.diskGiB: must be <= 16384 (the largest EBS volume)");
  });

  test("an FSx capacity FSx cannot provision is a config error, before any resource", () => {
    rejects(
      { storage: { fsx: { enabled: true, storageCapacityGiB: 1300 } } },
      "kiln:storage.fsx.storageCapacityGiB: FSx for Lustre takes 1200 or a multiple of 2400 GiB",
    );
    expect(
      parse({ storage: { fsx: { enabled: true, storageCapacityGiB: 4800 } } }).storage.fsx.storageCapacityGiB,
    ).toBe(4800);
  });
});

describe("cross-field rules", () => {
  test("vpcCidr must be an IPv4 CIDR", () => {
    rejects({ vpcCidr: "10.0.0.0" }, "kiln:vpcCidr: '10.0.0.0' is not an IPv4 CIDR such as 10.0.0.0/16");
    rejects({ vpcCidr: "10.0.0.1/16" }, "kiln:vpcCidr: '10.0.0.1/16' has host bits set: the network is 10.0.0.0/16");
    rejects({ vpcCidr: "010.0.0.0/16" }, "kiln:vpcCidr: '010.0.0.0/16' has leading zeros: write it as 10.0.0.0/16");
  });

  test("the VPC must hold every subnet", () => {
    rejects(
      { vpcCidr: "10.0.0.0/20", azCount: 3 },
      "kiln:vpcCidr: 10.0.0.0/20 cannot hold 3 private /19 and 3 public /24 subnets: use a larger VPC, fewer AZs or longer subnet prefixes",
    );
  });

  test("publicAccessCidrs are CIDRs and never the whole internet", () => {
    rejects(
      { publicAccessCidrs: ["office"] },
      "kiln:publicAccessCidrs[0]: 'office' is not an IPv4 CIDR such as 10.0.0.0/16",
    );
    rejects(
      { publicAccessCidrs: ["203.0.113.0/24", "0.0.0.0/0"] },
      "kiln:publicAccessCidrs[1]: '0.0.0.0/0' opens the API server to the internet (100 % of IPv4): list your office/VPN ranges",
    );
  });

  test("system node sizes satisfy min <= desired <= max", () => {
    rejects(
      { systemNodes: { minSize: 3, desiredSize: 2 } },
      "kiln:systemNodes: must satisfy minSize <= desiredSize <= maxSize",
    );
    rejects(
      { systemNodes: { desiredSize: 5, maxSize: 4 } },
      "kiln:systemNodes: must satisfy minSize <= desiredSize <= maxSize",
    );
  });

  test("pool names are unique", () => {
    rejects(
      { gpuPools: [LOCAL_POOLS[0], LOCAL_POOLS[0]] },
      "kiln:gpuPools[1].name: duplicate pool name 'a10g' (also kiln:gpuPools[0].name)",
    );
  });

  test("on aws a pool needs instance families or types, not both", () => {
    rejects(
      { platform: "aws", gpuPools: [{ name: "a", maxGpus: 8 }] },
      "kiln:gpuPools[0]: pool 'a' needs instanceFamilies or instanceTypes",
    );
    rejects(
      {
        platform: "aws",
        gpuPools: [{ name: "a", maxGpus: 8, instanceFamilies: ["g5"], instanceTypes: ["g5.xlarge"] }],
      },
      "kiln:gpuPools[0]: pool 'a' sets both instanceFamilies and instanceTypes: choose one",
    );
    expect(parse({ gpuPools: [{ name: "a", maxGpus: 8 }] }).gpuPools[0].name).toBe("a"); // local needs neither
  });

  test("instance families and types must be known GPU families", () => {
    rejects(
      { platform: "aws", gpuPools: [{ ...AWS_POOL, instanceFamilies: ["m7i"] }] },
      /^kiln:gpuPools\[0\]\.instanceFamilies\[0\]: unknown GPU instance family 'm7i' \(known: .*g5.*\)$/,
    );
    rejects(
      { platform: "aws", gpuPools: [{ name: "a", maxGpus: 8, instanceTypes: ["m7i.large"] }] },
      /^kiln:gpuPools\[0\]\.instanceTypes\[0\]: 'm7i\.large' is not of a family Kiln knows for GPU pools \(a CPU family/,
    );
    rejects(
      { platform: "aws", gpuPools: [{ name: "a", maxGpus: 8, instanceTypes: ["g5"] }] },
      /^kiln:gpuPools\[0\]\.instanceTypes\[0\]: 'g5' is not an EC2 instance type name/,
    );
  });

  test("team names are unique and no two teams share a namespace", () => {
    rejects(
      {
        teams: [
          { name: "a", gpuQuota: 0 },
          { name: "a", gpuQuota: 0 },
        ],
      },
      "kiln:teams[1].name: duplicate team name 'a' (also kiln:teams[0].name)",
    );
    // Both colliding keys are named: the explicit namespace and the name it was derived from.
    rejects(
      {
        teams: [
          { name: "a", gpuQuota: 0 },
          { name: "b", namespace: "kiln-a", gpuQuota: 0 },
        ],
      },
      "kiln:teams[1].namespace: namespace 'kiln-a' is also given by kiln:teams[0].name (namespace kiln-a): kiln:teams[1].namespace collides with it",
    );
    rejects(
      {
        teams: [
          { name: "x", namespace: "kiln-b", gpuQuota: 0 },
          { name: "b", gpuQuota: 0 },
        ],
      },
      "kiln:teams[1].name: namespace 'kiln-b' is also given by kiln:teams[0].namespace: kiln:teams[1].name (namespace kiln-b) collides with it",
    );
  });

  test("a team's pools must exist", () => {
    rejects(
      { gpuPools: LOCAL_POOLS, teams: [{ name: "vision", gpuQuota: 4, pools: ["a10g", "a100"] }] },
      "kiln:teams[0].pools[1]: team 'vision' uses unknown GPU pool 'a100' (pools: a10g, h100)",
    );
    rejects(
      { teams: [{ name: "vision", gpuQuota: 0, pools: ["a100"] }] },
      "kiln:teams[0].pools[0]: team 'vision' uses unknown GPU pool 'a100' (pools: none)",
    );
  });

  test("a team's gpuQuota cannot exceed what its pools can ever hold", () => {
    rejects(
      { gpuPools: LOCAL_POOLS, teams: [{ name: "research", gpuQuota: 25 }] },
      "kiln:teams[0].gpuQuota: team 'research' gpuQuota 25 is larger than its pools can ever hold (24 GPUs): lower it or raise the pools' maxGpus",
    );
    rejects(
      { gpuPools: LOCAL_POOLS, teams: [{ name: "vision", gpuQuota: 9, pools: ["h100"] }] },
      "kiln:teams[0].gpuQuota: team 'vision' gpuQuota 9 is larger than its pools can ever hold (8 GPUs): lower it or raise the pools' maxGpus",
    );
    expect(parse({ gpuPools: LOCAL_POOLS, teams: [{ name: "research", gpuQuota: 24 }] }).teams[0].gpuQuota).toBe(24);
  });

  test("an external object store on local needs endpoint and both keys", () => {
    const found = problems({ objectStore: { mode: "external" } });
    expect(found).toEqual([
      "kiln:objectStore.endpoint: is required when objectStore.mode is external",
      "kiln:objectStore.accessKeyId: is required when objectStore.mode is external",
      "kiln:objectStore.secretAccessKey: is required when objectStore.mode is external",
    ]);
  });

  test("the local platform needs a trainer repository; aws defaults to its ECR repository", () => {
    expect(() => parseConfig(rawAsIs({ gpuPools: LOCAL_POOLS }), "t")).toThrow(
      "kiln:trainer.repository: is required on the local platform (there is no registry to default to): pulumi config set --path kiln:trainer.repository <registry>/kiln/trainer",
    );
    expect(parseConfig(rawAsIs({ platform: "aws", gpuPools: [AWS_POOL] }), "t").trainer.repository).toBeUndefined();
  });

  test("string keys keep their text: kubernetesVersion 1.30 is not the number 1.3", () => {
    expect(parseConfig(rawAsIs({ platform: "aws", kubernetesVersion: "1.30" }), "t").kubernetesVersion).toBe("1.30");
  });

  test("an empty value (Pulumi.yaml's default for optional keys) means unset", () => {
    expect(parse({ clusterName: "" }, "lab").clusterName).toBe("kiln-lab");
  });

  test("on aws a default run asks for at least one GPU (there is no CPU training pool)", () => {
    rejects(
      { platform: "aws", trainer: { defaultGpus: 0 } },
      "kiln:trainer.defaultGpus: must be >= 1 on the aws platform: its only training capacity is the GPU pools, so a CPU run would never schedule",
    );
    expect(parse({ trainer: { defaultGpus: 0 } }).trainer.defaultGpus).toBe(0);
  });

  test("kueue install external is for local clusters only", () => {
    rejects(
      { platform: "aws", kueue: { install: "external" } },
      "kiln:kueue.install: 'external' is for local test clusters; the aws platform installs Kueue's chart",
    );
  });
});

describe("config errors stop the program before any resource is registered", () => {
  async function registeredBy(overrides: Record<string, unknown>): Promise<{ error: unknown; registered: number }> {
    const spy = jest.spyOn(KilnMocks.prototype, "newResource");
    let error: unknown;
    try {
      await runStack("local", overrides);
    } catch (e) {
      error = e;
    }
    await new Promise((r) => setTimeout(r, 200));
    const registered = spy.mock.calls.length;
    spy.mockRestore();
    return { error, registered };
  }

  test("a team quota larger than all pools together", async () => {
    const { error, registered } = await registeredBy({ "kiln:teams": [{ name: "research", gpuQuota: 100 }] });
    expect(error).toBeInstanceOf(Error);
    expect((error as ConfigError).problems).toEqual([
      "kiln:teams[0].gpuQuota: team 'research' gpuQuota 100 is larger than its pools can ever hold (24 GPUs): lower it or raise the pools' maxGpus",
    ]);
    expect(registered).toBe(0);
  }, 60_000);

  test("an unknown pool in a team", async () => {
    const { error, registered } = await registeredBy({
      "kiln:teams": [{ name: "vision", gpuQuota: 8, pools: ["a100"] }],
    });
    expect((error as Error).message).toContain(
      "kiln:teams[0].pools[0]: team 'vision' uses unknown GPU pool 'a100' (pools: a10g, h100)",
    );
    expect(registered).toBe(0);
  }, 60_000);

  test("(control) a valid stack does register resources through the same spy", async () => {
    const { error, registered } = await registeredBy({});
    expect(error).toBeUndefined();
    expect(registered).toBeGreaterThan(10);
  }, 60_000);
});

describe("budgets and the accountant", () => {
  const team = (budget: unknown) => ({ gpuPools: LOCAL_POOLS, teams: [{ name: "vision", gpuQuota: 8, budget }] });

  test("a budget is GPU-hours or dollars a month, exactly one", () => {
    expect(parse(team({ gpuHours: 500 })).teams[0].budget).toEqual({ gpuHours: 500 });
    expect(parse(team({ usd: 1000 })).teams[0].budget).toEqual({ usd: 1000 });
    rejects(
      team({ gpuHours: 5, usd: 5 }),
      "kiln:teams[0].budget: set exactly one of gpuHours or usd (a monthly amount)",
    );
    rejects(team({}), "kiln:teams[0].budget: set exactly one of gpuHours or usd (a monthly amount)");
    rejects(team({ gpuHours: 0 }), "kiln:teams[0].budget.gpuHours: must be > 0");
    expect(problems(team({ eur: 5 }))).toEqual([
      "kiln:teams[0].budget.eur: unknown field (fields of kiln:teams[0].budget: gpuHours, usd)",
      "kiln:teams[0].budget: set exactly one of gpuHours or usd (a monthly amount)",
    ]);
  });

  test("a budget needs the accountant and Kueue, which enforce it", () => {
    rejects(
      { ...team({ gpuHours: 5 }), accountant: { enabled: false } },
      "kiln:teams[0].budget: team 'vision' has a budget, which kiln-accountant enforces: set kiln:accountant.enabled true or remove the budget",
    );
    rejects(
      { ...team({ gpuHours: 5 }), kueue: { enabled: false } },
      "kiln:teams[0].budget: team 'vision' has a budget, which holds its Kueue ClusterQueue: set kiln:kueue.enabled true or remove the budget",
    );
  });

  test("the accountant's settings are checked like every key", () => {
    expect(parse({}).accountant).toEqual({
      enabled: true,
      tag: "0.1.0",
      intervalSeconds: 30,
      recordRetentionDays: 35,
      healthPort: 8080,
    });
    rejects({ accountant: { recordRetentionDays: 0 } }, /^kiln:accountant\.recordRetentionDays: /);
    rejects({ accountant: { healthPort: 80 } }, /^kiln:accountant\.healthPort: /);
    rejects({ accountant: { intervalSeconds: 1 } }, /^kiln:accountant\.intervalSeconds: /);
    rejects(
      { accountant: { gridRegion: "mars" } },
      "kiln:accountant.gridRegion: must be an AWS region such as us-east-1",
    );
    rejects({ accountant: { tag: "latest" } }, /^kiln:accountant\.tag: /);
  });
});
