/**
 * The local kube-scheduler's KubeSchedulerConfiguration, printed as YAML for scripts/cluster/up.sh: its
 * kubeconfig and client rate, no leader election, and GPUs bin-packed. The default scoring
 * (LeastAllocated) spreads 1- and 2-GPU pods over every node, so an 8-GPU pod that Kueue has admitted
 * finds no free node while its quota is held; MostAllocated on the GPU resource fills nodes one by one
 * (Kubernetes' "resource bin packing").
 *
 *   ts-node scripts/cluster/scheduler-config.ts --kubeconfig FILE
 */
import { Command } from "commander";
import YAML from "yaml";
import { GPU_RESOURCE } from "../../contract/gpu";

/**
 * The harness's control-plane clients' rate (kube-scheduler here; up.sh gives kube-controller-manager and
 * JobSet the same, and a test ties them): client-go's default 5-50 qps throttles them at the bench's scale.
 */
export const HARNESS_CLIENT_RATE = { qps: 200, burst: 400 } as const;

/** GPUs outweigh CPU and memory when the scheduler scores nodes for a pod. */
export const GPU_PACKING_WEIGHT = 5;

export function localSchedulerConfig(kubeconfig: string): Record<string, unknown> {
  return {
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig, ...HARNESS_CLIENT_RATE },
    leaderElection: { leaderElect: false },
    profiles: [
      {
        schedulerName: "default-scheduler",
        pluginConfig: [
          {
            name: "NodeResourcesFit",
            args: {
              scoringStrategy: {
                type: "MostAllocated",
                resources: [
                  { name: GPU_RESOURCE, weight: GPU_PACKING_WEIGHT },
                  { name: "cpu", weight: 1 },
                  { name: "memory", weight: 1 },
                ],
              },
            },
          },
        ],
      },
    ],
  };
}

export function main(argv: string[]): void {
  const o = new Command("scheduler-config")
    .requiredOption("--kubeconfig <file>", "the scheduler's kubeconfig")
    .parse(argv)
    .opts<{ kubeconfig: string }>();
  process.stdout.write(YAML.stringify(localSchedulerConfig(o.kubeconfig)));
}

if (require.main === module) main(process.argv);
