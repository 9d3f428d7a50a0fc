/** The whole program (infra/index.ts) on the dev stack (aws): outputs and platform -> cluster wiring. */
import type { ProgramRun } from "../../scripts/plan/engine/program";
import { runStack } from "./aws/harness";

let run: ProgramRun;
beforeAll(async () => {
  run = await runStack("dev");
}, 120_000);

test("the dev stack exports cluster, region, buckets, image repository, trainer role and GPU pools", () => {
  const o = run.outputs;
  expect(o.platformName).toBe("aws");
  expect(o.clusterName).toBe("kiln-dev");
  expect(o.region).toBe("us-west-2");
  expect(o.datasetsBucket).toMatch(/^kiln-dev-storage-datasets-/);
  expect(o.artifactsBucket).toMatch(/^kiln-dev-storage-artifacts-/);
  expect(o.imageRepositoryUrl).toBe("123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer");
  expect(o.trainerImage).toBe(`${o.imageRepositoryUrl}:0.1.0`);
  expect(o.trainerRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/kiln-dev-trainer-role-/);
  expect(o.objectStoreEndpoint).toBeUndefined();
  // No EFA (g5/g6) and no topology (aws pools opt in by kiln:topology.pools): neither key is present.
  expect(o.gpuPools).toEqual([
    {
      name: "a10g-l4-spot",
      maxGpus: 8,
      gpusPerNode: 8,
      instanceFamilies: ["g5", "g6"],
      instanceTypes: undefined,
      capacityTypes: ["spot"],
    },
  ]);
});

test("every Kubernetes object of the program targets the EKS cluster through the one kubeconfig provider", () => {
  const providers = run.ofType("pulumi:providers:kubernetes");
  expect(providers.map((p) => p.name)).toEqual(["kiln-dev-k8s"]);
  const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:"));
  expect(objects.length).toBeGreaterThan(10);
  for (const r of objects)
    expect({ name: r.name, provider: r.provider?.split("::")[3] }).toEqual({ name: r.name, provider: "kiln-dev-k8s" });
});

test("cluster services wait for the system nodes, add-ons, Karpenter and the GPU NodePools", () => {
  const ready = [
    ...run.ofType("aws:eks/nodeGroup:NodeGroup"),
    ...run.ofType("aws:eks/addon:Addon").filter((a) => ["coredns", "aws-ebs-csi-driver"].includes(a.inputs.addonName)),
    ...run.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.inputs.name === "karpenter"),
    ...run.ofType("kubernetes:karpenter.sh/v1:NodePool"),
  ].map((r) => r.urn);
  expect(ready.length).toBe(5);
  const services = run.resources.find((r) => r.type === "kiln:cluster:Services");
  expect(services).toBeDefined();
  const components = run.resources.filter((r) => r.parent === services!.urn && !r.custom);
  expect(components.length).toBeGreaterThan(2);
  for (const c of components)
    expect({ component: c.name, waitsFor: ready.filter((u) => c.dependencies.includes(u)) }).toEqual({
      component: c.name,
      waitsFor: ready,
    });
});
