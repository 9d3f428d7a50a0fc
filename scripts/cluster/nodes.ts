/**
 * Simulated nodes for the local cluster harness, as a Kubernetes `List` (JSON on stdout):
 * ceil(maxGpus / gpusPerNode) GPU nodes per `kiln:gpuPools` entry of a stack config, plus CPU nodes.
 * KWOK manages every node carrying the annotation `kwok.x-k8s.io/node: fake`; GPU nodes also carry
 * SIMULATED_TAINT, so only pods that ask for a simulated node get one.
 *
 *   ts-node scripts/cluster/nodes.ts [--config Pulumi.local.yaml] [--cpu-nodes 3] [--pool name=COUNTxGPUS]...
 *   ts-node scripts/cluster/nodes.ts --simulated-toleration
 *   ts-node scripts/cluster/nodes.ts --contract        # GPU_RESOURCE=... GPU_POOL_LABEL=... for the shell scripts
 */
import * as fs from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import YAML from "yaml";
import { GPU_POOL_LABEL, GPU_PRESENT_LABEL, GPU_RESOURCE, GPU_TAINT } from "../../contract/gpu";
import { parseConfig } from "../../infra/config";
import { CAPACITY_TYPE_LABEL, INSTANCE_TYPE_LABEL, SIMULATED_NODE_ANNOTATION } from "../../contract/accounting/keys";
import { LOCAL_TOPOLOGY_LEVELS } from "../../contract/workload";
import { CPU_NODE_LABEL } from "../../contract/names";

/** One pool of identical simulated GPU nodes. */
export interface SimulatedPool {
  readonly name: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
  /** What the nodes are labelled as (node.kubernetes.io/instance-type, karpenter.sh/capacity-type), for pricing. */
  readonly instanceType?: string;
  readonly capacityType?: string;
}

/** Node shapes (allocatable) of the simulated machines. */
export const GPU_NODE_SHAPE = { cpu: "96", memory: "768Gi", pods: "110", ephemeralStorage: "1Ti" } as const;
export const CPU_NODE_SHAPE = { cpu: "32", memory: "128Gi", pods: "110", ephemeralStorage: "500Gi" } as const;

export const KWOK_ANNOTATION = SIMULATED_NODE_ANNOTATION;
/**
 * Taint of the simulated GPU nodes (KWOK's own convention). GPU pods land on the real node unless they
 * tolerate it, so a training run is never silently simulated; tests and the bench that want simulated
 * GPU nodes add SIMULATED_TOLERATION and the nodeSelector `type: kwok`.
 */
export const SIMULATED_TAINT = { key: KWOK_ANNOTATION, value: "fake", effect: "NoSchedule" } as const;
export const SIMULATED_TOLERATION = { ...SIMULATED_TAINT, operator: "Equal" } as const;

/** Pools from a stack config file's kiln:gpuPools (validated by infra/config's schema). */
export function poolsFromStackConfig(text: string, file = "stack config"): SimulatedPool[] {
  const doc = (YAML.parse(text) ?? {}) as { config?: Record<string, unknown> };
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    // Encrypted values (`secure:`) do not matter for node shapes; keep every other key as Pulumi would.
    if (v && typeof v === "object" && "secure" in (v as object)) continue;
    raw[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(raw, "local");
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return config.gpuPools.map((p) => ({
    name: p.name,
    nodes: Math.ceil(p.maxGpus / p.gpusPerNode),
    gpusPerNode: p.gpusPerNode,
    instanceType: p.instanceTypes?.[0],
    capacityType: p.capacityTypes[0],
  }));
}

/** "bench=100x8" -> { name: "bench", nodes: 100, gpusPerNode: 8 } */
export function parsePoolSpec(spec: string): SimulatedPool {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)=(\d+)x(\d+)$/.exec(spec);
  if (!m) throw new Error(`--pool '${spec}': expected NAME=COUNTxGPUS, e.g. bench=100x8`);
  const nodes = Number(m[3]);
  const gpusPerNode = Number(m[4]);
  if (gpusPerNode < 1) throw new Error(`--pool '${spec}': GPUS per node must be >= 1`);
  return { name: m[1], nodes, gpusPerNode };
}

/**
 * The synthetic topology of simulated GPU nodes, for Kueue's TopologyAwareScheduling: within a pool,
 * consecutive nodes share a rack of RACK_NODES, and consecutive racks a block of BLOCK_RACKS.
 */
export const RACK_NODES = 4;
export const BLOCK_RACKS = 2;
export interface TopologyPlace {
  readonly block: string;
  readonly rack: string;
}
export function topologyPlace(pool: string, index: number): TopologyPlace {
  const rack = Math.floor(index / RACK_NODES);
  return { block: `${pool}-b${Math.floor(rack / BLOCK_RACKS)}`, rack: `${pool}-r${rack}` };
}
/** The node labels of a place: LOCAL_TOPOLOGY_LEVELS without the host name (the node's own label). */
export function topologyLabels(place: TopologyPlace): Record<string, string> {
  const [block, rack] = LOCAL_TOPOLOGY_LEVELS;
  return { [block]: place.block, [rack]: place.rack };
}

type NodeObject = Record<string, unknown>;

function nodeObject(
  name: string,
  labels: Record<string, string>,
  shape: typeof GPU_NODE_SHAPE | typeof CPU_NODE_SHAPE,
  gpus: number,
): NodeObject {
  const allocatable: Record<string, string> = {
    cpu: shape.cpu,
    memory: shape.memory,
    pods: shape.pods,
    "ephemeral-storage": shape.ephemeralStorage,
  };
  if (gpus > 0) allocatable[GPU_RESOURCE] = String(gpus);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [KWOK_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        ...labels,
      },
    },
    spec: gpus > 0 ? { taints: [{ ...GPU_TAINT }, { ...SIMULATED_TAINT }] } : {},
    status: { allocatable, capacity: { ...allocatable }, phase: "Running" },
  };
}

/** The Node objects for the given pools plus `cpuNodes` CPU-only nodes. Names are stable per index. */
export function simulatedNodes(
  pools: readonly SimulatedPool[],
  cpuNodes: number,
): { apiVersion: "v1"; kind: "List"; items: NodeObject[] } {
  const seen = new Set<string>();
  const items: NodeObject[] = [];
  for (const pool of pools) {
    if (seen.has(pool.name)) throw new Error(`GPU pool '${pool.name}' is listed twice; pool names must be unique`);
    seen.add(pool.name);
    for (let i = 0; i < pool.nodes; i++) {
      items.push(
        nodeObject(
          `kiln-${pool.name}-${i}`,
          {
            [GPU_POOL_LABEL]: pool.name,
            [GPU_PRESENT_LABEL.key]: GPU_PRESENT_LABEL.value,
            [INSTANCE_TYPE_LABEL]: pool.instanceType ?? `kwok-gpu-${pool.gpusPerNode}`,
            ...(pool.capacityType ? { [CAPACITY_TYPE_LABEL]: pool.capacityType } : {}),
            ...topologyLabels(topologyPlace(pool.name, i)),
          },
          GPU_NODE_SHAPE,
          pool.gpusPerNode,
        ),
      );
    }
  }
  for (let i = 0; i < cpuNodes; i++) {
    items.push(
      nodeObject(
        `kiln-cpu-${i}`,
        {
          [CPU_NODE_LABEL.key]: CPU_NODE_LABEL.value,
          [INSTANCE_TYPE_LABEL]: "kwok-cpu",
          ...topologyLabels(topologyPlace("cpu", i)),
        },
        CPU_NODE_SHAPE,
        0,
      ),
    );
  }
  return { apiVersion: "v1", kind: "List", items };
}

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be an integer >= 0, got '${v}'`);
    return n;
  };
}

export function main(argv: string[]): void {
  const program = new Command("nodes")
    .description("Print the simulated Node objects (a JSON List) for the local cluster harness")
    .option("--config <file>", "stack config whose kiln:gpuPools decide the GPU nodes (omit for none)")
    .option("--cpu-nodes <n>", "CPU-only nodes", intArg("--cpu-nodes"), 3)
    .option(
      "--pool <NAME=COUNTxGPUS>",
      "extra GPU pool (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--simulated-toleration", "print only the toleration of the simulated GPU nodes' taint (JSON)")
    .option("--contract", "print the GPU contract's resource name and pool label as shell assignments")
    .parse(argv);
  const opts = program.opts<{
    config?: string;
    cpuNodes: number;
    pool: string[];
    simulatedToleration?: boolean;
    contract?: boolean;
  }>();
  if (opts.contract) {
    process.stdout.write(`GPU_RESOURCE='${GPU_RESOURCE}'\nGPU_POOL_LABEL='${GPU_POOL_LABEL}'\n`);
    return;
  }
  if (opts.simulatedToleration) {
    process.stdout.write(`${JSON.stringify(SIMULATED_TOLERATION)}\n`);
    return;
  }
  const pools: SimulatedPool[] = [];
  if (opts.config) {
    if (!fs.existsSync(opts.config)) throw new Error(`--config ${opts.config}: file not found`);
    pools.push(...poolsFromStackConfig(fs.readFileSync(opts.config, "utf8"), opts.config));
  }
  pools.push(...opts.pool.map(parsePoolSpec));
  process.stdout.write(`${JSON.stringify(simulatedNodes(pools, opts.cpuNodes))}\n`);
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (e) {
    process.stderr.write(`nodes: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
