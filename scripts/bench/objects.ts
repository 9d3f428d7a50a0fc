/**
 * The bench's cluster objects as a JSON List on stdout, for scripts/bench/cluster.sh to apply:
 *   ts-node scripts/bench/objects.ts nodes  --nodes 1000 --pools 2 --gpus 8
 *   ts-node scripts/bench/objects.ts kueue  --nodes 1000 --pools 2 --gpus 8 --teams 4 [--hold]
 *   ts-node scripts/bench/objects.ts pools  --nodes 1000 --pools 2 --gpus 8     # pool names, comma separated
 */
import { Command, InvalidArgumentError } from "commander";
import { GPU_NODE_SHAPE, SIMULATED_TOLERATION, simulatedNodes } from "../cluster/nodes";
import { BENCH_LABEL, kueueObjects, planPools, teamNamespace } from "./plan";

function intArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1, got '${v}'`);
    return n;
  };
}

export function main(argv: string[]): void {
  const o = new Command("objects")
    .argument("<what>", "nodes | kueue | pools | namespaces")
    .requiredOption("--nodes <n>", "simulated GPU nodes in all", intArg("--nodes"))
    .requiredOption("--pools <n>", "GPU pools (ResourceFlavors)", intArg("--pools"))
    .requiredOption("--gpus <n>", "GPUs per node", intArg("--gpus"))
    .option("--teams <n>", "teams (ClusterQueues in one cohort)", intArg("--teams"), 4)
    .option("--hold", "create the ClusterQueues held (stopPolicy Hold)")
    .parse(argv);
  const what = o.args[0];
  const opts = o.opts<{ nodes: number; pools: number; gpus: number; teams: number; hold?: boolean }>();
  const pools = planPools(opts.nodes, opts.pools, opts.gpus);
  const list = (items: unknown[]) =>
    process.stdout.write(`${JSON.stringify({ apiVersion: "v1", kind: "List", items })}\n`);
  if (what === "pools") process.stdout.write(`${pools.map((p) => p.name).join(",")}\n`);
  else if (what === "nodes") list(simulatedNodes(pools, 0).items);
  else if (what === "kueue")
    list(kueueObjects(pools, opts.teams, { ...SIMULATED_TOLERATION }, GPU_NODE_SHAPE, opts.hold));
  else if (what === "namespaces") {
    list(
      Array.from({ length: opts.teams }, (_, t) => ({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: teamNamespace(t), labels: { [BENCH_LABEL.key]: BENCH_LABEL.value } },
      })),
    );
  } else throw new InvalidArgumentError(`'${what}': expected nodes, kueue, pools or namespaces`);
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (e) {
    process.stderr.write(`bench objects: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
