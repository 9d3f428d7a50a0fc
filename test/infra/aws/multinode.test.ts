/**
 * Multi-node runs on the aws stack, through the real program under the mocks: JobSet, Kueue's manager
 * config, topology-aware pools, EFA for p-family pools.
 */
import YAML from "yaml";
import { efaPools } from "../../../infra/aws/efa";
import { KUEUE_WAIT_FOR_PODS_READY } from "../../../contract/workload";
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { object, objects, releases } from "../cluster/support";
import { runStack } from "./harness";

const H100 = { name: "h100", instanceTypes: ["p5.48xlarge"], capacityTypes: ["on-demand"], maxGpus: 16 };
const A10G = { name: "a10g-l4-spot", instanceFamilies: ["g5", "g6"], capacityTypes: ["spot"], maxGpus: 8 };

let dev: ProgramRun;
let p5: ProgramRun;
beforeAll(async () => {
  dev = await runStack("dev");
  p5 = await runStack("dev", {
    "kiln:gpuPools": [A10G, H100],
    "kiln:teams": [
      { name: "research", gpuQuota: 16 },
      { name: "infra", gpuQuota: 16, pools: ["h100"] },
    ],
    "kiln:topology": { pools: ["h100"] },
  });
}, 180_000);

describe("JobSet", () => {
  test("the JobSet chart is installed from its OCI registry at the pinned version, image pinned, on the system nodes", () => {
    const [jobset] = releases(dev, "jobset");
    expect(jobset.inputs).toMatchObject({
      chart: "oci://registry.k8s.io/jobset/charts/jobset",
      version: "0.12.0",
      namespace: "jobset-system",
    });
    expect(jobset.inputs.values.image).toEqual({
      repository: "registry.k8s.io/jobset/jobset",
      tag: "v0.12.0",
      pullPolicy: "IfNotPresent",
    });
    expect(jobset.inputs.values.controller).toEqual({
      nodeSelector: { "kiln.dev/node-role": "system" },
      tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }],
    });
  });

  test("Kueue's release waits for JobSet (its integration needs the CRD)", () => {
    const queues = dev.resources.find((r) => r.type === "kiln:cluster:Queues")!;
    expect(queues.dependencies).toContain(releases(dev, "jobset")[0].urn);
  });

  test("kiln:jobset.enabled false: no JobSet release, and Kueue does not manage JobSets", async () => {
    const run = await runStack("dev", { "kiln:jobset": { enabled: false } });
    expect(releases(run, "jobset")).toEqual([]);
    const cfg = YAML.parse(releases(run, "kueue")[0].inputs.values.managerConfig.controllerManagerConfigYaml);
    expect(cfg.integrations.frameworks).toEqual(["batch/job"]);
  });
});

describe("Kueue manager config", () => {
  const config = (run: ProgramRun) =>
    YAML.parse(releases(run, "kueue")[0].inputs.values.managerConfig.controllerManagerConfigYaml);

  test("Kueue manages Jobs and JobSets (a JobSet is one Workload: gang admission)", () => {
    expect(config(dev).integrations.frameworks).toEqual(["batch/job", "jobset.x-k8s.io/jobset"]);
  });

  test("waitForPodsReady evicts a run whose pods are not all Ready in time and requeues it with backoff: the contract's numbers", () => {
    expect(config(dev).waitForPodsReady).toEqual({
      enable: true,
      timeout: "10m",
      recoveryTimeout: "10m",
      blockAdmission: false,
      requeuingStrategy: {
        timestamp: "Creation",
        backoffLimitCount: 5,
        backoffBaseSeconds: 60,
        backoffMaxSeconds: 1800,
      },
    });
    expect(config(dev).waitForPodsReady).toEqual(KUEUE_WAIT_FOR_PODS_READY);
  });

  test("the chart's own settings are kept and the controller stays on the system nodes", () => {
    const cfg = config(dev);
    expect(cfg).toMatchObject({
      apiVersion: "config.kueue.x-k8s.io/v1beta1",
      kind: "Configuration",
      webhook: { port: 9443 },
      leaderElection: { leaderElect: true },
    });
    expect(releases(dev, "kueue")[0].inputs.values.controllerManager.nodeSelector).toEqual({
      "kiln.dev/node-role": "system",
    });
  });
});

describe("topology on aws", () => {
  test("the Topology lists EC2 instance topology levels then the host", () => {
    const topo = object(dev, "Topology", "kiln-topology").inputs;
    expect(topo.apiVersion).toBe("kueue.x-k8s.io/v1beta1");
    expect(topo.spec.levels.map((l: { nodeLabel: string }) => l.nodeLabel)).toEqual([
      "topology.k8s.aws/network-node-layer-1",
      "topology.k8s.aws/network-node-layer-2",
      "topology.k8s.aws/network-node-layer-3",
      "kubernetes.io/hostname",
    ]);
  });

  test("by default no aws pool is topology-aware (Kueue 0.14 places by topology only onto existing nodes)", () => {
    expect(objects(dev, "ResourceFlavor").every((f) => f.inputs.spec.topologyName === undefined)).toBe(true);
    expect(
      object(dev, "ClusterQueue", "kiln-research").inputs.spec.resourceGroups.map((g: any) => g.coveredResources),
    ).toEqual([["cpu", "memory"], ["nvidia.com/gpu"]]);
  });

  test("a pool listed in kiln:topology.pools gets topologyName; its teams' queues cover cpu, memory and GPUs in one group", () => {
    expect(object(p5, "ResourceFlavor", "h100").inputs.spec.topologyName).toBe("kiln-topology");
    expect(object(p5, "ResourceFlavor", "a10g-l4-spot").inputs.spec.topologyName).toBeUndefined();
    expect(object(p5, "ResourceFlavor", "cpu").inputs.spec).toEqual({});
    const flavors = (team: string) =>
      object(p5, "ClusterQueue", `kiln-${team}`).inputs.spec.resourceGroups.map((g: any) => [
        g.coveredResources,
        g.flavors.map((f: any) => f.name),
      ]);
    // Mixed pools: the non-topology cpu flavor stays for CPU runs; runs asking for a topology get h100 only.
    expect(flavors("research")).toEqual([
      [
        ["cpu", "memory", "nvidia.com/gpu"],
        ["cpu", "a10g-l4-spot", "h100"],
      ],
    ]);
    // Only topology-aware pools: no cpu flavor, so the queue is topology-only and unannotated runs are placed too.
    expect(flavors("infra")).toEqual([[["cpu", "memory", "nvidia.com/gpu"], ["h100"]]]);
  });

  test("topology-aware flavors wait for the Topology", () => {
    const topo = object(p5, "Topology", "kiln-topology");
    expect(object(p5, "ResourceFlavor", "h100").dependencies).toContain(topo.urn);
  });
});

describe("EFA", () => {
  test("only p-family pools get EFA, with the interfaces of their nodes", () => {
    expect(
      efaPools([
        { ...A10G, gpusPerNode: 8 } as any,
        { ...H100, gpusPerNode: 8 } as any,
        { name: "a100", instanceFamilies: ["p4d", "p5"], capacityTypes: ["spot"], maxGpus: 8, gpusPerNode: 8 },
      ]),
    ).toEqual({
      h100: { interfacesPerNode: 32 },
      a100: { interfacesPerNode: 4 },
    });
    expect(
      efaPools([
        { name: "mixed", instanceFamilies: ["p5", "g5"], capacityTypes: ["spot"], maxGpus: 8, gpusPerNode: 8 },
      ]),
    ).toEqual({});
  });

  test("no EFA pool, no EFA: no security group, no device plugin, one node class", () => {
    expect(releases(dev, "aws-efa-k8s-device-plugin")).toEqual([]);
    expect(dev.ofType("aws:ec2/securityGroup:SecurityGroup").filter((sg) => sg.name.includes("efa"))).toEqual([]);
    expect(dev.ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass").map((n) => n.inputs.metadata.name)).toEqual([
      "kiln-gpu",
    ]);
  });

  test("an EFA pool: a security group allowing all traffic within itself only, on the EFA node class next to the cluster SG", () => {
    const [sg] = p5.ofType("aws:ec2/securityGroup:SecurityGroup").filter((s) => s.name === "kiln-dev-efa-sg");
    const self = { protocol: "-1", fromPort: 0, toPort: 0, self: true };
    expect(sg.inputs.ingress).toEqual([expect.objectContaining(self)]);
    expect(sg.inputs.egress).toEqual([expect.objectContaining(self)]);
    for (const rule of [...sg.inputs.ingress, ...sg.inputs.egress]) expect(rule.cidrBlocks).toBeUndefined();
    const classes = Object.fromEntries(
      p5.ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass").map((n) => [n.inputs.metadata.name, n.inputs.spec]),
    );
    expect(Object.keys(classes).sort()).toEqual(["kiln-gpu", "kiln-gpu-efa"]);
    expect(classes["kiln-gpu"].securityGroupSelectorTerms).toHaveLength(1);
    expect(classes["kiln-gpu-efa"].securityGroupSelectorTerms).toHaveLength(2);
    // Same hardening as the plain class.
    expect(classes["kiln-gpu-efa"].metadataOptions).toEqual(classes["kiln-gpu"].metadataOptions);
    expect(classes["kiln-gpu-efa"].blockDeviceMappings).toEqual(classes["kiln-gpu"].blockDeviceMappings);
  });

  test("the EFA device plugin: pinned chart and image, on EFA nodes past the GPU taint", () => {
    const [plugin] = releases(p5, "aws-efa-k8s-device-plugin");
    expect(plugin.inputs).toMatchObject({
      chart: "aws-efa-k8s-device-plugin",
      version: "v0.5.30",
      namespace: "kube-system",
      repositoryOpts: { repo: "https://aws.github.io/eks-charts" },
    });
    expect(plugin.inputs.values.image.tag).toBe("v0.5.20");
    expect(plugin.inputs.values.nodeSelector).toEqual({ "kiln.dev/efa": "true" });
    expect(plugin.inputs.values.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  test("the gpuPools output and each team's kiln-pools ConfigMap say which pools have EFA and topology", () => {
    expect(p5.outputs.gpuPools).toEqual([
      expect.objectContaining({ name: "a10g-l4-spot", gpusPerNode: 8 }),
      expect.objectContaining({
        name: "h100",
        gpusPerNode: 8,
        efa: { resource: "vpc.amazonaws.com/efa", interfacesPerNode: 32 },
        topology: { name: "kiln-topology", levels: expect.arrayContaining(["kubernetes.io/hostname"]) },
      }),
    ]);
    expect((p5.outputs.gpuPools as any[])[0].efa).toBeUndefined();
    const infra = JSON.parse(object(p5, "ConfigMap", "kiln-pools", "kiln-infra").inputs.data["pools.json"]);
    expect(infra.map((p: { name: string }) => p.name)).toEqual(["h100"]);
    expect(infra[0].efa).toEqual({ resource: "vpc.amazonaws.com/efa", interfacesPerNode: 32 });
  });
});
