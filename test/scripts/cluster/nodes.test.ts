import * as fs from "node:fs";
import * as path from "node:path";
import { GPU_TAINT } from "../../../contract/gpu";
import {
  BLOCK_RACKS,
  parsePoolSpec,
  poolsFromStackConfig,
  RACK_NODES,
  SIMULATED_TAINT,
  simulatedNodes,
} from "../../../scripts/cluster/nodes";

const ROOT = path.resolve(__dirname, "../../..");

type Node = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints?: unknown[] };
  status: { allocatable: Record<string, string> };
};

describe("simulated nodes of the local cluster harness", () => {
  it("registers ceil(maxGpus / gpusPerNode) nodes per pool of Pulumi.local.yaml", () => {
    const text = `config:\n  kiln:trainer: {repository: registry.test/kiln/trainer}\n  kiln:gpuPools:\n    - {name: a10g, maxGpus: 17, gpusPerNode: 8, instanceTypes: [g5.48xlarge], capacityTypes: [on-demand]}\n    - {name: h100, maxGpus: 8}\n    - {name: off, maxGpus: 0}\n`;
    expect(poolsFromStackConfig(text)).toEqual([
      { name: "a10g", nodes: 3, gpusPerNode: 8, instanceType: "g5.48xlarge", capacityType: "on-demand" },
      { name: "h100", nodes: 1, gpusPerNode: 8, instanceType: undefined, capacityType: "spot" },
      { name: "off", nodes: 0, gpusPerNode: 8, instanceType: undefined, capacityType: "spot" },
    ]);
  });

  it("GPU nodes are labelled with their pool's instance and capacity type, so runs on them are priced", () => {
    const { items } = simulatedNodes(
      [{ name: "a10g", nodes: 1, gpusPerNode: 8, instanceType: "g5.48xlarge", capacityType: "on-demand" }],
      0,
    ) as unknown as { items: Node[] };
    expect(items[0].metadata.labels).toMatchObject({
      "node.kubernetes.io/instance-type": "g5.48xlarge",
      "karpenter.sh/capacity-type": "on-demand",
    });
  });

  it("reads the committed local stack's pools", () => {
    const pools = poolsFromStackConfig(fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8"));
    expect(pools.length).toBeGreaterThan(0);
    for (const p of pools) expect(p.nodes * p.gpusPerNode).toBeGreaterThanOrEqual(1);
  });

  it("rejects an invalid stack config with the config error", () => {
    expect(() =>
      poolsFromStackConfig(`config:\n  kiln:gpuPools:\n    - {name: Bad_Name, maxGpus: -1}\n`, "x.yaml"),
    ).toThrow(/x\.yaml: Invalid stack config[\s\S]*kiln:gpuPools\[0\]\.maxGpus: must be >= 0/);
  });

  it("GPU nodes carry the pool label, the nvidia.com/gpu taint, the simulated-node taint, allocatable GPUs and the KWOK annotation", () => {
    const { items } = simulatedNodes([{ name: "a10g", nodes: 2, gpusPerNode: 4 }], 1) as unknown as { items: Node[] };
    expect(items.map((n) => n.metadata.name)).toEqual(["kiln-a10g-0", "kiln-a10g-1", "kiln-cpu-0"]);
    const gpu = items[0];
    expect(gpu.metadata.labels["kiln.dev/gpu-pool"]).toBe("a10g");
    expect(gpu.metadata.annotations["kwok.x-k8s.io/node"]).toBe("fake");
    expect(gpu.spec.taints).toEqual([GPU_TAINT, { key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }]);
    expect(SIMULATED_TAINT).toEqual({ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" });
    expect(gpu.status.allocatable["nvidia.com/gpu"]).toBe("4");
  });

  it("CPU nodes have no GPUs, no taint and no pool label", () => {
    const cpu = (simulatedNodes([], 2) as unknown as { items: Node[] }).items[1];
    expect(cpu.metadata.name).toBe("kiln-cpu-1");
    expect(cpu.status.allocatable["nvidia.com/gpu"]).toBeUndefined();
    expect(cpu.spec.taints).toBeUndefined();
    expect(cpu.metadata.labels["kiln.dev/gpu-pool"]).toBeUndefined();
  });

  it("rejects duplicate pool names", () => {
    expect(() =>
      simulatedNodes(
        [
          { name: "a", nodes: 1, gpusPerNode: 8 },
          { name: "a", nodes: 1, gpusPerNode: 8 },
        ],
        0,
      ),
    ).toThrow("GPU pool 'a' is listed twice");
  });

  it("parses --pool NAME=COUNTxGPUS and names the bad value", () => {
    expect(parsePoolSpec("bench=100x8")).toEqual({ name: "bench", nodes: 100, gpusPerNode: 8 });
    expect(() => parsePoolSpec("bench=100")).toThrow("--pool 'bench=100': expected NAME=COUNTxGPUS");
    expect(() => parsePoolSpec("b=1x0")).toThrow("GPUS per node must be >= 1");
  });
});

describe("the synthetic topology of the simulated nodes", () => {
  it("puts RACK_NODES consecutive nodes of a pool in a rack and BLOCK_RACKS racks in a block; CPU nodes get places too", () => {
    const { items } = simulatedNodes(
      [{ name: "topo", nodes: 2 * BLOCK_RACKS * RACK_NODES + 1, gpusPerNode: 1 }],
      2,
    ) as unknown as { items: Node[] };
    const place = (n: Node) => [
      n.metadata.labels["kiln.dev/topology-block"],
      n.metadata.labels["kiln.dev/topology-rack"],
    ];
    const gpu = items.filter((n) => n.metadata.labels["kiln.dev/gpu-pool"] === "topo");
    expect(place(gpu[0])).toEqual(["topo-b0", "topo-r0"]);
    expect(place(gpu[RACK_NODES - 1])).toEqual(["topo-b0", "topo-r0"]);
    expect(place(gpu[RACK_NODES])).toEqual(["topo-b0", "topo-r1"]);
    expect(place(gpu[BLOCK_RACKS * RACK_NODES])).toEqual(["topo-b1", `topo-r${BLOCK_RACKS}`]);
    expect(place(gpu[2 * BLOCK_RACKS * RACK_NODES])).toEqual(["topo-b2", `topo-r${2 * BLOCK_RACKS}`]);
    const cpu = items.filter((n) => n.metadata.labels["kiln.dev/node-role"] === "cpu");
    expect(cpu.map(place)).toEqual([
      ["cpu-b0", "cpu-r0"],
      ["cpu-b0", "cpu-r0"],
    ]);
  });
});
