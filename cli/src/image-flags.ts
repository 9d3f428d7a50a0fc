/**
 * The flags of a run with your own image (`submit --image`), checked before anything is read or sent:
 * each refusal is a UsageError (exit 2) that names the flag, the bad value and the fix. Pure.
 */
import { imageReferenceProblem } from "../../contract/oci";
import {
  AWS_TOPOLOGY_LEVELS,
  FRAMEWORK_ENV,
  LOCAL_TOPOLOGY_LEVELS,
  RESERVED_ENV_PREFIXES,
  topologyLevelAlias,
} from "../../contract/workload";
import { parseQuantity } from "../../trainer-image/src/api";
import { UsageError } from "./errors";

/** A C identifier: what a POSIX shell and every framework's launcher can read back. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const clip = (v: string, max = 60) => (v.length > max ? `${v.slice(0, max)}...` : v);

/** Why `name` may not be set with --env, or undefined. */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name))
    return `"${clip(name)}" is not an environment variable name: letters, digits and '_', not starting with a digit`;
  const prefix = RESERVED_ENV_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `${name} is reserved: Kiln sets the ${prefix}* variables of a run (docs/workloads.md)`;
  if ((FRAMEWORK_ENV as readonly string[]).includes(name))
    return `${name} is reserved: Kiln sets it for every rank from the run's shape (${FRAMEWORK_ENV.join(", ")})`;
  return undefined;
}

/** `--env K=V` flags (in order) -> name/value pairs; a name given twice is refused. */
export function parseEnvFlags(flags: readonly string[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq < 0) throw new UsageError(`--env "${clip(flag)}" must be NAME=VALUE`);
    const name = flag.slice(0, eq);
    const problem = envNameProblem(name);
    if (problem) throw new UsageError(`--env ${problem}`);
    if (out.some((e) => e.name === name)) throw new UsageError(`--env ${name} is given twice: keep one`);
    out.push({ name, value: flag.slice(eq + 1) });
  }
  return out;
}

/** Throws a UsageError naming --image unless `ref` is a pinned OCI image reference. */
export function validateImage(ref: string): void {
  const problem = imageReferenceProblem(ref);
  if (problem) throw new UsageError(`--image ${problem}`);
}

/** The container command after `--`: at least the program. */
export function validateCommand(command: readonly string[]): void {
  if (command.length === 0 || command[0].trim() === "") {
    throw new UsageError(
      "--image needs a command: kubectl kiln submit --image IMAGE [flags] -- PROGRAM ARGS... (the image's own entrypoint is not used)",
    );
  }
}

export interface TopologyFlag {
  readonly mode: "required" | "preferred";
  /** As the user wrote it: a node label or its alias (rack, block, host, layer-1..3). */
  readonly level: string;
}

/** `required:LEVEL` or `preferred:LEVEL`. */
export function parseTopologyFlag(text: string): TopologyFlag {
  const m = /^(required|preferred):(.+)$/.exec(text);
  if (!m)
    throw new UsageError(`--topology "${clip(text)}" must be required:LEVEL or preferred:LEVEL (e.g. required:rack)`);
  return { mode: m[1] as TopologyFlag["mode"], level: m[2] };
}

/** `alias (label)` for each level. */
export const describeLevels = (levels: readonly string[]) =>
  levels.map((l) => (topologyLevelAlias(l) === l ? l : `${topologyLevelAlias(l)} (${l})`)).join(", ");

/** The node label of `level` (a label or an alias) among the cluster's topology levels, else a UsageError naming them. */
export function resolveTopologyLevel(level: string, levels: readonly string[], source: string): string {
  const found = levels.find((l) => l === level) ?? levels.find((l) => topologyLevelAlias(l) === level);
  if (found) return found;
  throw new UsageError(
    `--topology: ${source} has no level "${clip(level)}"; it has: ${describeLevels(levels) || "none"}`,
  );
}

/** The levels of Kiln's own topologies (contract/workload.ts), for a client dry run that cannot read the cluster's. */
export const KNOWN_TOPOLOGY_LEVELS: readonly string[] = [
  ...new Set([...AWS_TOPOLOGY_LEVELS, ...LOCAL_TOPOLOGY_LEVELS]),
];

/** Bounds of --cpus (cores) and --memory (bytes) per node: a quantity outside them is a typo, not a node. */
export const RESOURCE_BOUNDS = {
  cpu: { min: 0.001, max: 1024, unit: "cores" },
  memory: { min: 2 ** 20, max: 64 * 2 ** 40, unit: "bytes" },
} as const;

/** `--cpus 1.5|500m` or `--memory 8Gi`: a Kubernetes quantity within RESOURCE_BOUNDS, returned as given; else a UsageError naming the flag. */
export function parseResourceFlag(flag: "--cpus" | "--memory", text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const q = text.trim();
  const value = parseQuantity(q);
  const b = flag === "--cpus" ? RESOURCE_BOUNDS.cpu : RESOURCE_BOUNDS.memory;
  const example = flag === "--cpus" ? "2, 1.5 or 500m" : "512Mi, 8Gi or 1Ti";
  if (q === "" || Number.isNaN(value))
    throw new UsageError(`${flag} "${text}" is not a Kubernetes quantity (e.g. ${example})`);
  if (value < b.min || value > b.max)
    throw new UsageError(
      `${flag} "${text}" is ${value} ${b.unit} per node: give ${example} (from ${b.min} to ${b.max} ${b.unit})`,
    );
  return q;
}
