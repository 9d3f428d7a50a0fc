/**
 * Security rules of the AWS platform, checked on the real program (infra/index.ts) with the dev
 * stack's config, and on a variant that turns every optional AWS feature on.
 */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { asArray, doc, inputsFrom, isTaggable, runStack } from "./harness";

/** Every optional AWS feature on: FSx (persistent, KMS), public endpoint, admins, 2 AZs, NAT per AZ. */
const ALL_FEATURES = {
  "kiln:azCount": 2,
  "kiln:natGateways": "perAz",
  "kiln:publicAccessCidrs": ["203.0.113.0/24"],
  "kiln:adminRoleArns": ["arn:aws:iam::123456789012:role/platform/Admin"],
  "kiln:storage": {
    forceDestroy: true,
    fsx: { enabled: true, deploymentType: "PERSISTENT_2", storageCapacityGiB: 2400 },
  },
};

let dev: ProgramRun;
let full: ProgramRun;
beforeAll(async () => {
  dev = await runStack("dev");
  full = await runStack("dev", ALL_FEATURES);
}, 120_000);

/** Allow statements of every identity policy (managed and inline) the program creates. */
function identityStatements(run: ProgramRun): Array<{ owner: string; s: Record<string, any> }> {
  const policies = [...run.ofType("aws:iam/policy:Policy"), ...run.ofType("aws:iam/rolePolicy:RolePolicy")];
  return policies.flatMap((p) =>
    doc(p.inputs.policy)
      .Statement.filter((s) => s.Effect === "Allow")
      .map((s) => ({ owner: p.name, s })),
  );
}

describe.each(["dev", "all features"])("AWS security rules (%s)", (label) => {
  const run = () => (label === "dev" ? dev : full);

  test("every S3 bucket encrypts with SSE-KMS under a customer key, bucket keys on", () => {
    const buckets = run().ofType("aws:s3/bucket:Bucket");
    expect(buckets.length).toBe(2);
    const keys = new Set(
      run()
        .ofType("aws:kms/key:Key")
        .map((k) => `arn:aws:kms:us-west-2:123456789012:key/${k.name}-id`),
    );
    for (const b of buckets) {
      const sse = run()
        .ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .find((c) => c.name === b.name);
      expect(sse).toBeDefined();
      const rule = sse!.inputs.rules[0];
      expect(rule.applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
      expect(keys.has(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId)).toBe(true);
      expect(rule.bucketKeyEnabled).toBe(true);
    }
  });

  test("every S3 bucket blocks all four kinds of public access", () => {
    for (const b of run().ofType("aws:s3/bucket:Bucket")) {
      const pab = run().named("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b.name).inputs;
      expect([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets]).toEqual([
        true,
        true,
        true,
        true,
      ]);
    }
  });

  test("every bucket policy denies requests that do not use TLS, on the bucket and its objects", () => {
    for (const b of run().ofType("aws:s3/bucket:Bucket")) {
      const statements = doc(run().named("aws:s3/bucketPolicy:BucketPolicy", b.name).inputs.policy).Statement;
      const deny = statements.find(
        (s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
      );
      expect(deny).toBeDefined();
      expect(asArray(deny!.Action)).toContain("s3:*");
      expect(deny!.Principal).toBe("*");
      expect(asArray(deny!.Resource).some((r: string) => r.endsWith("/*"))).toBe(true);
      expect(asArray(deny!.Resource).some((r: string) => !r.endsWith("/*"))).toBe(true);
    }
  });

  test("every KMS key rotates", () => {
    const keys = run().ofType("aws:kms/key:Key");
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const k of keys)
      expect({ key: k.name, rotation: k.inputs.enableKeyRotation }).toEqual({ key: k.name, rotation: true });
  });

  test("EKS secrets, control-plane logs, the ECR repository and SQS queue are encrypted", () => {
    const eks = run().ofType("aws:eks/cluster:Cluster")[0].inputs;
    expect(eks.encryptionConfig.resources).toEqual(["secrets"]);
    expect(eks.encryptionConfig.provider.keyArn).toMatch(/^arn:aws:kms:/);
    for (const lg of run().ofType("aws:cloudwatch/logGroup:LogGroup"))
      expect(lg.inputs.kmsKeyId).toMatch(/^arn:aws:kms:/);
    for (const repo of run().ofType("aws:ecr/repository:Repository"))
      expect(repo.inputs.encryptionConfigurations[0]).toMatchObject({
        encryptionType: "KMS",
        kmsKey: expect.stringMatching(/^arn:aws:kms:/),
      });
    for (const q of run().ofType("aws:sqs/queue:Queue"))
      expect(q.inputs.sqsManagedSseEnabled || q.inputs.kmsMasterKeyId).toBeTruthy();
  });

  test("launch templates require IMDSv2 with hop limit 1 and encrypted gp3 root volumes", () => {
    const lts = run().ofType("aws:ec2/launchTemplate:LaunchTemplate");
    expect(lts.length).toBeGreaterThan(0);
    for (const lt of lts) {
      expect(lt.inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
      for (const bdm of lt.inputs.blockDeviceMappings)
        expect(bdm.ebs).toMatchObject({ encrypted: "true", volumeType: "gp3" });
    }
  });

  test("the GPU EC2NodeClass requires IMDSv2 with hop limit 1 and encrypted gp3 volumes", () => {
    const classes = run().ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass");
    expect(classes.length).toBe(1);
    const spec = classes[0].inputs.spec;
    expect(spec.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(spec.blockDeviceMappings.length).toBeGreaterThan(0);
    for (const bdm of spec.blockDeviceMappings) expect(bdm.ebs).toMatchObject({ encrypted: true, volumeType: "gp3" });
  });

  test("IAM policies never grant s3:*, kms:* or *, nor s3/kms actions on '*' resources", () => {
    const statements = identityStatements(run());
    expect(statements.length).toBeGreaterThan(5);
    for (const { owner, s } of statements) {
      const actions = asArray<string>(s.Action);
      for (const a of actions)
        expect({ owner, action: a }).not.toMatchObject({ action: expect.stringMatching(/^(\*|s3:\*|kms:\*)$/) });
      if (actions.some((a) => /^(s3|kms):/.test(a))) {
        for (const r of asArray<string>(s.Resource))
          expect({ owner, sid: s.Sid, resource: r }).not.toEqual({ owner, sid: s.Sid, resource: "*" });
        expect(asArray<string>(s.Resource).length).toBeGreaterThan(0);
      }
    }
  });

  test("no security group accepts ingress from 0.0.0.0/0 or ::/0", () => {
    const groups = run().ofType("aws:ec2/securityGroup:SecurityGroup");
    expect(groups.length).toBeGreaterThan(0);
    for (const sg of groups)
      for (const rule of sg.inputs.ingress ?? []) {
        expect({ sg: sg.name, cidrs: rule.cidrBlocks ?? [] }).not.toEqual({
          sg: sg.name,
          cidrs: expect.arrayContaining(["0.0.0.0/0"]),
        });
        expect({ sg: sg.name, cidrs: rule.ipv6CidrBlocks ?? [] }).not.toEqual({
          sg: sg.name,
          cidrs: expect.arrayContaining(["::/0"]),
        });
      }
    for (const r of run().ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"))
      expect(r.inputs.cidrIpv4).not.toBe("0.0.0.0/0");
    // The VPC's default security group is emptied.
    for (const d of run().ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"))
      expect([d.inputs.ingress ?? [], d.inputs.egress ?? []]).toEqual([[], []]);
  });

  test("every taggable AWS resource carries kiln:cluster, kiln:stack and the stack's kiln:tags", () => {
    const taggable = run().resources.filter((r) => r.type.startsWith("aws:") && isTaggable(r.type));
    expect(taggable.length).toBeGreaterThan(40);
    const want = { "kiln:cluster": "kiln-dev", "kiln:stack": "dev", owner: "ml-platform", "cost-center": "research" };
    for (const r of taggable)
      expect({ resource: `${r.type} ${r.name}`, tags: r.inputs.tags ?? {} }).toEqual({
        resource: `${r.type} ${r.name}`,
        tags: expect.objectContaining(want),
      });
    // Instances, volumes and interfaces launched by node groups and Karpenter are tagged too.
    for (const lt of run().ofType("aws:ec2/launchTemplate:LaunchTemplate"))
      for (const spec of lt.inputs.tagSpecifications) expect(spec.tags).toMatchObject(want);
    for (const nc of run().ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"))
      expect(nc.inputs.spec.tags).toMatchObject(want);
  });
});

test("the tag rule knows which AWS types are taggable", () => {
  expect(isTaggable("aws:s3/bucket:Bucket")).toBe(true);
  expect(isTaggable("aws:eks/addon:Addon")).toBe(true);
  expect(isTaggable("aws:s3/bucketPolicy:BucketPolicy")).toBe(false);
  expect(isTaggable("aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toBe(false);
});

test("the API server endpoint is private-only by default and allow-listed when publicAccessCidrs is set", () => {
  const private_ = dev.ofType("aws:eks/cluster:Cluster")[0].inputs.vpcConfig;
  expect(private_).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
  expect(private_.publicAccessCidrs).toBeUndefined();
  const open = full.ofType("aws:eks/cluster:Cluster")[0].inputs.vpcConfig;
  expect(open).toMatchObject({
    endpointPrivateAccess: true,
    endpointPublicAccess: true,
    publicAccessCidrs: ["203.0.113.0/24"],
  });
});

test("FSx for Lustre PERSISTENT_2 is encrypted with the storage key and reachable from the VPC only", () => {
  const fsx = full.ofType("aws:fsx/lustreFileSystem:LustreFileSystem");
  expect(fsx.length).toBe(1);
  expect(fsx[0].inputs.kmsKeyId).toMatch(/^arn:aws:kms:/);
  const sgs = inputsFrom(full, fsx[0], "aws:ec2/securityGroup:SecurityGroup");
  expect(sgs).toEqual(["kiln-dev-lustre-sg"]);
  const ingress = full.named("aws:ec2/securityGroup:SecurityGroup", sgs[0]).inputs.ingress;
  expect(ingress.map((r: any) => [r.fromPort, r.toPort])).toEqual([
    [988, 988],
    [1018, 1023],
  ]);
  for (const rule of ingress) expect(rule.cidrBlocks).toEqual(["10.0.0.0/16"]);
});
