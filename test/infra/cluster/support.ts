/** Small readers over recorded resources, shared by the cluster and local tests. */
import type { RecordedResource } from "../../../scripts/plan/engine/mocks";
import type { ProgramRun } from "../../../scripts/plan/engine/program";

/** The program under mocks for a stack (runProgram, under the name these suites use). */
export { runProgram as runStack } from "../../../scripts/plan/engine/program";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when a recorded input is a Pulumi secret. */
export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The plain value of a recorded input, secret or not. */
export function reveal<T = unknown>(value: unknown): T {
  return (isSecret(value) ? (value as { value: unknown }).value : value) as T;
}

/** Kubernetes objects of `kind` (any API group) in `namespace` (or all namespaces). */
export function objects(run: ProgramRun, kind: string, namespace?: string): RecordedResource[] {
  return run.resources.filter(
    (r) =>
      r.type.startsWith("kubernetes:") &&
      r.type.endsWith(`:${kind}`) &&
      (namespace === undefined || r.inputs.metadata?.namespace === namespace),
  );
}

/** The one Kubernetes object of `kind` named `name` (in `namespace` when given). */
export function object(run: ProgramRun, kind: string, name: string, namespace?: string): RecordedResource {
  const found = objects(run, kind, namespace).filter((r) => r.inputs.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? ""}/${name}, found ${found.length}`);
  return found[0];
}

/** Helm releases by release name (and namespace). */
export function releases(run: ProgramRun, name: string, namespace?: string): RecordedResource[] {
  return run
    .ofType("kubernetes:helm.sh/v3:Release")
    .filter((r) => r.inputs.name === name && (namespace === undefined || r.inputs.namespace === namespace));
}

/** Sum of nominal GPU quota per flavor over all ClusterQueues. */
export function gpuNominalByFlavor(run: ProgramRun): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const cq of objects(run, "ClusterQueue")) {
    for (const group of cq.inputs.spec.resourceGroups) {
      for (const flavor of group.flavors) {
        for (const res of flavor.resources) {
          // The cpu flavor of a topology-aware queue covers GPUs with quota 0: not a pool.
          if (res.name === "nvidia.com/gpu" && flavor.name !== "cpu")
            sums[flavor.name] = (sums[flavor.name] ?? 0) + Number(res.nominalQuota);
        }
      }
    }
  }
  return sums;
}
