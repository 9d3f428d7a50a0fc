/**
 * What the cluster bench submits and where (pure: tested in test/scripts/bench/plan.test.ts): the runs,
 * their teams, GPU counts and node counts, and the Kueue objects (ResourceFlavors, one ClusterQueue per
 * team in one cohort with borrowing, one LocalQueue per team) that admit them. Every object is named
 * bench-* and labelled BENCH_LABEL, so cleanup removes exactly what the bench made.
 */
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../contract/gpu";
import { mulberry32 } from "../../trainer-image/src/api";

export const BENCH_LABEL = { key: "kiln.dev/bench", value: "true" } as const;
export const BENCH_COHORT = "bench";
/**
 * The JSON patch that releases a held ClusterQueue. Holding the queues while submitting, then releasing
 * them all at once, measures Kueue's admission rate on a full queue (as Kueue's own performance test
 * does: workloads first, then admission) apart from the plugin's submission rate.
 */
export const HOLD_RELEASE = [{ op: "replace", path: "/spec/stopPolicy", value: "None" }] as const;

/** Share of single-node runs by GPUs per run (most runs are small; 8-GPU runs fill a node). */
export const GPU_MIX: readonly { readonly gpus: number; readonly weight: number }[] = [
  { gpus: 1, weight: 40 },
  { gpus: 2, weight: 25 },
  { gpus: 4, weight: 20 },
  { gpus: 8, weight: 15 },
];
/** Nodes of a multi-node run (8 GPUs each, one pod per node). */
export const MULTI_NODE_SIZES: readonly number[] = [2, 4];

export interface BenchPlanInput {
  readonly runs: number;
  readonly teams: number;
  /** Share of runs that are multi-node (0..1). */
  readonly multiNodeShare: number;
  readonly seed: number;
}

export interface PlannedRun {
  readonly name: string;
  readonly team: number;
  /** GPUs per pod. */
  readonly gpus: number;
  /** Pods (nodes); > 1 is a multi-node JobSet run. */
  readonly nodes: number;
}

export const teamName = (i: number) => `bench-team-${i}`;
export const teamNamespace = (i: number) => `kiln-bench-${i}`;
export const clusterQueueName = (i: number) => `bench-cq-${i}`;
export const localQueueName = (i: number) => `bench-lq-${i}`;
export const runName = (i: number) => `bench-${String(i).padStart(5, "0")}`;

export function validatePlanInput(p: BenchPlanInput): void {
  if (!Number.isInteger(p.runs) || p.runs < 1) throw new Error(`BENCH_RUNS=${p.runs}: expected an integer >= 1`);
  if (!Number.isInteger(p.teams) || p.teams < 1 || p.teams > 50)
    throw new Error(`BENCH_TEAMS=${p.teams}: expected an integer from 1 to 50`);
  if (!(p.multiNodeShare >= 0 && p.multiNodeShare <= 1))
    throw new Error(`BENCH_MULTI_NODE_SHARE=${p.multiNodeShare}: expected a number from 0 to 1`);
}

/** The runs in submission order: teams round-robin, GPUs from GPU_MIX, a share multi-node. */
export function planRuns(p: BenchPlanInput): PlannedRun[] {
  validatePlanInput(p);
  // The trainer's seeded generator, so a plan is the same on every rerun.
  const random = mulberry32(p.seed);
  const total = GPU_MIX.reduce((a, m) => a + m.weight, 0);
  const pickGpus = () => {
    let r = random() * total;
    for (const m of GPU_MIX) {
      r -= m.weight;
      if (r < 0) return m.gpus;
    }
    return GPU_MIX[GPU_MIX.length - 1].gpus;
  };
  return Array.from({ length: p.runs }, (_, i) => {
    if (random() < p.multiNodeShare) {
      return {
        name: runName(i),
        team: i % p.teams,
        gpus: 8,
        nodes: MULTI_NODE_SIZES[Math.floor(random() * MULTI_NODE_SIZES.length)],
      };
    }
    return { name: runName(i), team: i % p.teams, gpus: pickGpus(), nodes: 1 };
  });
}

export interface BenchPool {
  readonly name: string;
  readonly nodes: number;
  readonly gpusPerNode: number;
}

/** BENCH_NODES split over BENCH_POOLS pools named bench-a, bench-b, ...: the first pools take the remainder. */
export function planPools(nodes: number, pools: number, gpusPerNode: number): BenchPool[] {
  if (!Number.isInteger(pools) || pools < 2 || pools > 26)
    throw new Error(`BENCH_POOLS=${pools}: expected an integer from 2 to 26 (the issue asks for at least two pools)`);
  if (!Number.isInteger(nodes) || nodes < pools)
    throw new Error(`BENCH_NODES=${nodes}: expected an integer >= BENCH_POOLS (${pools})`);
  return Array.from({ length: pools }, (_, i) => ({
    name: `bench-${String.fromCharCode(97 + i)}`,
    nodes: Math.floor(nodes / pools) + (i < nodes % pools ? 1 : 0),
    gpusPerNode,
  }));
}

type Obj = Record<string, unknown>;

/** Quota a of total split over n teams: the first teams take the remainder, so the sum is the total. */
export function splitQuota(total: number, teams: number, team: number): number {
  return Math.floor(total / teams) + (team < total % teams ? 1 : 0);
}

/**
 * The Kueue objects: a ResourceFlavor per pool (its node label, and the simulated nodes' toleration so the
 * template needs no edit), a ClusterQueue per team in cohort BENCH_COHORT with the pool's GPUs split
 * evenly as nominal quota and no borrowing limit (an idle team's GPUs go to the others), a LocalQueue per
 * team. One resource group covers cpu, memory and GPUs, so every flavor carries its own cpu and memory.
 * With `hold`, the ClusterQueues start with stopPolicy Hold (see HOLD_RELEASE).
 */
export function kueueObjects(
  pools: readonly BenchPool[],
  teams: number,
  toleration: Obj,
  nodeShape: { cpu: string; memory: string },
  hold = false,
): Obj[] {
  const labels = { [BENCH_LABEL.key]: BENCH_LABEL.value };
  const memGi = (m: string) => Number(/^(\d+)Gi$/.exec(m)?.[1] ?? NaN);
  if (Number.isNaN(memGi(nodeShape.memory))) throw new Error(`node memory ${nodeShape.memory}: expected NGi`);
  const flavors: Obj[] = pools.map((p) => ({
    apiVersion: "kueue.x-k8s.io/v1beta1",
    kind: "ResourceFlavor",
    metadata: { name: p.name, labels },
    spec: { nodeLabels: { [GPU_POOL_LABEL]: p.name }, tolerations: [toleration] },
  }));
  const queues: Obj[] = [];
  for (let t = 0; t < teams; t++) {
    queues.push({
      apiVersion: "kueue.x-k8s.io/v1beta1",
      kind: "ClusterQueue",
      metadata: { name: clusterQueueName(t), labels },
      spec: {
        cohort: BENCH_COHORT,
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": teamNamespace(t) } },
        queueingStrategy: "BestEffortFIFO",
        // Held: runs queue up without being admitted until the bench releases the queues (HOLD_RELEASE).
        ...(hold ? { stopPolicy: "Hold" } : {}),
        resourceGroups: [
          {
            coveredResources: ["cpu", "memory", GPU_RESOURCE],
            flavors: pools.map((p) => ({
              name: p.name,
              resources: [
                { name: "cpu", nominalQuota: splitQuota(p.nodes * Number(nodeShape.cpu), teams, t) },
                { name: "memory", nominalQuota: `${splitQuota(p.nodes * memGi(nodeShape.memory), teams, t)}Gi` },
                { name: GPU_RESOURCE, nominalQuota: splitQuota(p.nodes * p.gpusPerNode, teams, t) },
              ],
            })),
          },
        ],
      },
    });
    queues.push({
      apiVersion: "kueue.x-k8s.io/v1beta1",
      kind: "LocalQueue",
      metadata: { name: localQueueName(t), namespace: teamNamespace(t), labels },
      spec: { clusterQueue: clusterQueueName(t) },
    });
  }
  return [...flavors, ...queues];
}
