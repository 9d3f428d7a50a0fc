/** Buckets, Lustre cache, trainer identity and registry of the AWS platform (real program, dev stack). */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { asArray, doc, inputsFrom, runStack } from "./harness";

let dev: ProgramRun;
let destroyable: ProgramRun;
let scratch: ProgramRun;
beforeAll(async () => {
  dev = await runStack("dev");
  destroyable = await runStack("dev", {
    "kiln:storage": { forceDestroy: true, checkpointVersionDays: 3, noncurrentVersionDays: 30 },
  });
  scratch = await runStack("dev", { "kiln:storage": { fsx: { enabled: true } } });
}, 120_000);

const bucket = (run: ProgramRun, role: "datasets" | "artifacts") =>
  run.named("aws:s3/bucket:Bucket", `kiln-dev-storage-${role}`);

describe("buckets", () => {
  test("there is a datasets bucket and an artifacts bucket, both versioned", () => {
    expect(
      dev
        .ofType("aws:s3/bucket:Bucket")
        .map((b) => b.name)
        .sort(),
    ).toEqual(["kiln-dev-storage-artifacts", "kiln-dev-storage-datasets"]);
    for (const v of dev.ofType("aws:s3/bucketVersioning:BucketVersioning"))
      expect(v.inputs.versioningConfiguration.status).toBe("Enabled");
    expect(dev.ofType("aws:s3/bucketVersioning:BucketVersioning").length).toBe(2);
  });

  test("forceDestroy follows kiln:storage.forceDestroy (off in dev)", () => {
    for (const role of ["datasets", "artifacts"] as const) {
      expect(bucket(dev, role).inputs.forceDestroy).toBe(false);
      expect(bucket(destroyable, role).inputs.forceDestroy).toBe(true);
    }
    expect(dev.ofType("aws:ecr/repository:Repository")[0].inputs.forceDelete).toBe(false);
    expect(destroyable.ofType("aws:ecr/repository:Repository")[0].inputs.forceDelete).toBe(true);
  });

  test("old checkpoint versions under runs/ expire after checkpointVersionDays, other versions after noncurrentVersionDays", () => {
    const rules = (run: ProgramRun, role: string) =>
      run.named("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `kiln-dev-storage-${role}`).inputs
        .rules;
    const days = (run: ProgramRun, role: string, prefix: string | undefined) =>
      rules(run, role).find((r: any) => r.noncurrentVersionExpiration && r.filter?.prefix === prefix)
        ?.noncurrentVersionExpiration.noncurrentDays;
    expect(days(dev, "artifacts", "runs/")).toBe(7);
    expect(days(dev, "artifacts", undefined)).toBe(90);
    expect(days(dev, "datasets", undefined)).toBe(90);
    expect(days(destroyable, "artifacts", "runs/")).toBe(3);
    expect(days(destroyable, "artifacts", undefined)).toBe(30);
    for (const role of ["datasets", "artifacts"]) for (const r of rules(dev, role)) expect(r.status).toBe("Enabled");
  });
});

describe("FSx for Lustre", () => {
  test("is absent unless kiln:storage.fsx.enabled", () => {
    expect(dev.ofType("aws:fsx/lustreFileSystem:LustreFileSystem")).toEqual([]);
    expect(dev.resources.filter((r) => r.type === "kiln:aws:DatasetCache")).toEqual([]);
  });

  test("when enabled, SCRATCH_2 imports the datasets bucket into one private subnet", () => {
    const fs = scratch.ofType("aws:fsx/lustreFileSystem:LustreFileSystem");
    expect(fs.length).toBe(1);
    expect(fs[0].inputs).toMatchObject({
      deploymentType: "SCRATCH_2",
      storageCapacity: 1200,
      importPath: `s3://${scratch.outputs.datasetsBucket}`,
    });
    const subnets = inputsFrom(scratch, fs[0], "aws:ec2/subnet:Subnet");
    expect(subnets).toContain("kiln-dev-network-private-us-west-2a");
    expect(subnets.every((n) => n.includes("-private-"))).toBe(true);
    // The storage key lets FSx's S3 link (its service-linked role) read SSE-KMS objects.
    const keyPolicy = doc(scratch.named("aws:kms/key:Key", "kiln-dev-storage-key").inputs.policy).Statement;
    expect(keyPolicy.map((s) => s.Sid)).toContain("FsxLustreS3Link");
    expect(
      doc(dev.named("aws:kms/key:Key", "kiln-dev-storage-key").inputs.policy).Statement.map((s) => s.Sid),
    ).not.toContain("FsxLustreS3Link");
  });
});

describe("FSx for Lustre is mounted where training runs", () => {
  const k8s = (run: ProgramRun, kind: string) =>
    run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.endsWith(`:${kind}`));

  test("with the cache on, the FSx CSI driver add-on is installed (no AWS role: static volumes only); off, it is not", () => {
    const addon = scratch.ofType("aws:eks/addon:Addon").find((a) => a.inputs.addonName === "aws-fsx-csi-driver");
    expect(addon).toBeDefined();
    expect(addon!.inputs.podIdentityAssociations).toBeUndefined();
    expect(dev.ofType("aws:eks/addon:Addon").map((a) => a.inputs.addonName)).not.toContain("aws-fsx-csi-driver");
  });

  test("each team gets a read-only PersistentVolume on the file system, bound only to its kiln-datasets claim", () => {
    const fsName = scratch.ofType("aws:fsx/lustreFileSystem:LustreFileSystem")[0].name;
    const [pv] = k8s(scratch, "PersistentVolume");
    expect(pv.inputs.metadata.name).toBe("kiln-datasets-research");
    expect(pv.inputs.spec).toMatchObject({
      accessModes: ["ReadOnlyMany"],
      capacity: { storage: "1200Gi" },
      persistentVolumeReclaimPolicy: "Retain",
      claimRef: { namespace: "kiln-research", name: "kiln-datasets" },
      csi: {
        driver: "fsx.csi.aws.com",
        readOnly: true,
        volumeAttributes: { dnsname: `fs-${fsName}.fsx.us-west-2.amazonaws.com`, mountname: "abcdefgh" },
      },
    });
    const [pvc] = k8s(scratch, "PersistentVolumeClaim");
    expect(pvc.inputs.metadata).toMatchObject({ name: "kiln-datasets", namespace: "kiln-research" });
    expect(pvc.inputs.spec).toMatchObject({
      accessModes: ["ReadOnlyMany"],
      volumeName: "kiln-datasets-research",
      storageClassName: "",
    });
    expect(k8s(dev, "PersistentVolume")).toEqual([]);
  });

  test("the team's trainer chart mounts the claim read-only at /datasets (SCRATCH_2: the bucket is the file system's root)", () => {
    const release = scratch.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kiln-trainer")!;
    expect(release.inputs.values.datasetCache).toEqual({
      claimName: "kiln-datasets",
      subPath: "",
      mountPath: "/datasets",
    });
    // The release waits for the claim (a dependency on a component is one on its children).
    const component = scratch.resources.find((r) => r.urn === release.parent)!;
    expect(component.dependencies).toContain(k8s(scratch, "PersistentVolumeClaim")[0].urn);
    expect(
      dev.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kiln-trainer")!.inputs.values
        .datasetCache,
    ).toBeUndefined();
  });

  test("PERSISTENT_2 links the bucket under /datasets of the file system, so the mount takes that subPath", async () => {
    const persistent = await runStack("dev", {
      "kiln:storage": { fsx: { enabled: true, deploymentType: "PERSISTENT_2", storageCapacityGiB: 2400 } },
    });
    expect(
      persistent.ofType("aws:fsx/dataRepositoryAssociation:DataRepositoryAssociation")[0].inputs.fileSystemPath,
    ).toBe("/datasets");
    const release = persistent.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === "kiln-trainer")!;
    expect(release.inputs.values.datasetCache).toEqual({
      claimName: "kiln-datasets",
      subPath: "datasets",
      mountPath: "/datasets",
    });
  });
});

describe("trainer identity", () => {
  const trainerPolicy = () =>
    doc(dev.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "kiln-dev-trainer-storage")!.inputs.policy)
      .Statement;
  const datasetsArn = () => `arn:aws:s3:::${dev.outputs.datasetsBucket}`;
  const artifactsArn = () => `arn:aws:s3:::${dev.outputs.artifactsBucket}`;

  test("the trainer role is assumed through Pod Identity by kiln-trainer in every team namespace", () => {
    const role = dev.named("aws:iam/role:Role", "kiln-dev-trainer-role");
    expect(doc(role.inputs.assumeRolePolicy).Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
      },
    ]);
    const assocs = dev
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .filter((a) => a.inputs.serviceAccount === "kiln-trainer");
    expect(assocs.map((a) => [a.name, a.inputs.namespace])).toEqual([["kiln-dev-trainer-research", "kiln-research"]]);
    expect(assocs[0].inputs.roleArn).toBe(dev.outputs.trainerRoleArn);
  });

  test("the trainer may read the datasets bucket", () => {
    const s = trainerPolicy();
    const read = s.filter((x) => asArray(x.Resource).some((r: string) => r.startsWith(datasetsArn())));
    expect(read.flatMap((x) => asArray(x.Action)).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
    expect(read.flatMap((x) => asArray(x.Resource)).sort()).toEqual([datasetsArn(), `${datasetsArn()}/*`]);
  });

  test("the trainer may read and write only runs/* of the artifacts bucket, and list only under runs/", () => {
    const s = trainerPolicy().filter((x) => asArray(x.Resource).some((r: string) => r.startsWith(artifactsArn())));
    const objects = s.filter((x) => asArray(x.Action).includes("s3:PutObject"));
    expect(objects.length).toBe(1);
    expect(asArray(objects[0].Resource)).toEqual([`${artifactsArn()}/runs/*`]);
    expect(asArray(objects[0].Action)).toEqual(
      expect.arrayContaining(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
    );
    const list = s.find((x) => asArray(x.Action).includes("s3:ListBucket"))!;
    expect(list.Resource).toBe(artifactsArn());
    expect(list.Condition).toEqual({ StringLike: { "s3:prefix": ["runs/", "runs/*"] } });
    for (const x of s)
      for (const r of asArray<string>(x.Resource))
        expect(r === artifactsArn() || r.startsWith(`${artifactsArn()}/runs/`)).toBe(true);
  });

  test("the trainer may use the storage key and no other key, and nothing beyond S3 and KMS", () => {
    const s = trainerPolicy();
    const kms = s.filter((x) => asArray<string>(x.Action).some((a) => a.startsWith("kms:")));
    expect(kms.length).toBe(1);
    expect(asArray(kms[0].Action).sort()).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
    expect(kms[0].Resource).toBe("arn:aws:kms:us-west-2:123456789012:key/kiln-dev-storage-key-id");
    for (const x of s) for (const a of asArray<string>(x.Action)) expect(a).toMatch(/^(s3|kms):[A-Za-z]+$/);
    expect(
      dev
        .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((a) => a.name.startsWith("kiln-dev-trainer")),
    ).toEqual([]);
  });
});

describe("registry", () => {
  test("the trainer and accountant repositories have immutable tags, scan on push and expire untagged images", () => {
    const repo = dev.ofType("aws:ecr/repository:Repository");
    expect(repo.map((r) => r.inputs.name).sort()).toEqual(["kiln-dev/accountant", "kiln-dev/trainer"]);
    for (const r of repo)
      expect(r.inputs).toMatchObject({
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
      });
    const lifecycle = JSON.parse(dev.ofType("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0].inputs.policy);
    expect(lifecycle.rules).toEqual([
      expect.objectContaining({
        selection: expect.objectContaining({ tagStatus: "untagged", countType: "sinceImagePushed" }),
        action: { type: "expire" },
      }),
    ]);
  });
});
