/**
 * `kubectl kiln submit --image IMAGE [--nodes N] ... -- COMMAND ARGS...`: a run with your own image, on
 * one node or many (cli/src/jobset.ts builds it). Flags are checked first (exit 2); then the template,
 * the artifacts bucket, the nodes' GPUs and the cluster's topology levels are read; then the JobSet and
 * its peers' NetworkPolicy are created.
 */
import type { Command } from "commander";
import type { V1ConfigMap, V1CronJob, V1Node } from "@kubernetes/client-node";
import { parseYamlDocuments, parseYaml } from "../../../trainer-image/src/api";
import { GPU_RESOURCE } from "../../../contract/gpu";
import { TOPOLOGY_NAME } from "../../../contract/workload";
import { type Deps, globalsOf, Session } from "../context";
import { CliError, explainApiError, statusCode, UsageError } from "../errors";
import {
  describeLevels,
  KNOWN_TOPOLOGY_LEVELS,
  parseEnvFlags,
  parseResourceFlag,
  parseTopologyFlag,
  resolveTopologyLevel,
  validateCommand,
  validateImage,
} from "../image-flags";
import { generateRunName, trainerContainer, validateDnsLabel } from "../job";
import {
  imageRunFromTemplate,
  MAX_IMAGE_RUN_NAME,
  MAX_NODES,
  ownedBy,
  type ImageRun,
  type JobSet,
  type TopologyRequest,
} from "../jobset";
import { dryRunSuffix, formatObject, type DryRun, type OutputFormat } from "../output";
import { intFlag, loadTemplate, readInputFile } from "./common";

/** Largest --max-restarts: a run that fails more often than this has a bug, not bad luck. */
export const MAX_RESTARTS = 100;

export interface ImageFlags {
  readonly image: string;
  readonly nodes?: string;
  readonly gpus?: string;
  readonly cpus?: string;
  readonly memory?: string;
  readonly env: readonly string[];
  readonly maxRestarts?: string;
  readonly topology?: string;
  readonly queue?: string;
  readonly name?: string;
  readonly template?: string;
  readonly dryRun: DryRun;
  readonly output: OutputFormat;
}

const RUN_SPEC_ENV = "KILN_RUN_SPEC";

/** The bucket of an `s3://bucket/...` URI, else a CliError saying where the URI came from. */
export function bucketOfUri(uri: unknown, source: string): string {
  const m = typeof uri === "string" ? /^s3:\/\/([^/]+)(\/.*)?$/.exec(uri) : null;
  if (!m)
    throw new CliError(
      `${source}: output.uri ${JSON.stringify(uri)} is not an s3:// URI, so there is no artifacts bucket for KILN_OUTPUT_URI; fix the chart's runSpec.output.uri (kiln:objectStore.artifactsBucket)`,
    );
  return m[1];
}

/**
 * The artifacts bucket: the bucket of the default run spec's `output.uri` (the program sets it to
 * kiln:objectStore.artifactsBucket, infra/cluster/trainer-release.ts). The template's KILN_RUN_SPEC names
 * where that spec is: inline, or a key of a ConfigMap (the chart's kiln-run-spec), read from the cluster
 * or, with --template, from the same manifest.
 */
export async function artifactsBucket(
  session: Session,
  template: V1CronJob,
  templateFile: string | undefined,
): Promise<string> {
  const c = trainerContainer(template.spec!.jobTemplate.spec!.template.spec!);
  const env = c.env?.find((e) => e.name === RUN_SPEC_ENV);
  if (env?.value !== undefined)
    return bucketOfUri(
      (parseYaml(env.value) as { output?: { uri?: unknown } } | null)?.output?.uri,
      `the template's ${RUN_SPEC_ENV}`,
    );
  const ref = env?.valueFrom?.configMapKeyRef;
  if (!ref?.name)
    throw new CliError(
      `the Job template has no ${RUN_SPEC_ENV} (inline or from a ConfigMap), so the artifacts bucket is unknown; reinstall charts/trainer`,
    );
  const source = `ConfigMap ${ref.name} key ${ref.key}`;
  let cm: V1ConfigMap | undefined;
  if (templateFile) {
    const docs = parseYamlDocuments(readInputFile("--template", templateFile)) as V1ConfigMap[];
    cm = docs.find((d) => d && d.kind === "ConfigMap" && d.metadata?.name === ref.name);
    if (!cm)
      throw new UsageError(
        `--template ${templateFile}: no ${source} in it (the default run spec, whose output.uri names the artifacts bucket); render the whole chart: helm template kiln-trainer charts/trainer`,
      );
  } else {
    const api = session.api;
    try {
      cm = await api.getConfigMap(session.namespace, ref.name);
    } catch (err) {
      throw explainApiError(err, {
        attempting: `reading the default run spec (${source}) for the artifacts bucket`,
        server: api.server,
        namespace: session.namespace,
      });
    }
  }
  const text = cm.data?.[ref.key];
  if (text === undefined) throw new CliError(`${source} is missing; reinstall charts/trainer`);
  return bucketOfUri((parseYaml(text) as { output?: { uri?: unknown } } | null)?.output?.uri, source);
}

/** Largest allocatable GPUs of a node, and whether GPU nodes come and go (Karpenter), from the nodes. */
export function nodeGpuCapacity(nodes: readonly V1Node[]): { largest: number; autoscaled: boolean } {
  let largest = 0;
  let autoscaled = false;
  for (const n of nodes) {
    const g = Number(n.status?.allocatable?.[GPU_RESOURCE] ?? 0);
    if (g > largest) largest = g;
    if (n.metadata?.labels?.["karpenter.sh/nodepool"] !== undefined) autoscaled = true;
  }
  return { largest, autoscaled };
}

/** Refuses --gpus above the largest node when the cluster's nodes can be read and are fixed; otherwise says why it was not checked. */
async function checkGpus(session: Session, gpus: number, note: (s: string) => void): Promise<void> {
  let nodes: V1Node[];
  try {
    nodes = await session.api.listNodes();
  } catch (err) {
    note(
      `note: --gpus ${gpus} not checked against node sizes: cannot list nodes (${explainApiError(err, { attempting: "listing nodes", server: session.api.server, namespace: session.namespace }).message})\n`,
    );
    return;
  }
  const { largest, autoscaled } = nodeGpuCapacity(nodes);
  if (gpus <= largest) return;
  if (autoscaled || largest === 0) {
    note(
      `note: --gpus ${gpus} is more than any node up now has (${largest}); GPU nodes are provisioned on demand, so it is not refused here\n`,
    );
    return;
  }
  throw new UsageError(
    `--gpus ${gpus} is more than the largest node has: ${largest} ${GPU_RESOURCE} allocatable; a pod runs on one node (use --nodes for more)`,
  );
}

/** The node label of --topology's level, read from the cluster's Kueue Topology (or Kiln's own levels for an offline dry run). */
async function topologyLevel(
  session: Session | undefined,
  text: string,
  note: (s: string) => void,
): Promise<TopologyRequest> {
  const flag = parseTopologyFlag(text);
  if (!session) {
    note(
      `note: --topology not checked against the cluster (client dry run from --template): Kiln's levels are ${describeLevels(KNOWN_TOPOLOGY_LEVELS)}\n`,
    );
    return { mode: flag.mode, level: resolveTopologyLevel(flag.level, KNOWN_TOPOLOGY_LEVELS, "Kiln's topologies") };
  }
  const api = session.api;
  let levels: string[];
  try {
    levels = ((await api.getTopology(TOPOLOGY_NAME)).spec?.levels ?? []).map((l) => l.nodeLabel);
  } catch (err) {
    if (statusCode(err) === 404)
      throw new UsageError(
        `--topology: this cluster has no Kueue Topology ${TOPOLOGY_NAME} (no topology-aware GPU pool); submit without --topology`,
      );
    throw explainApiError(err, {
      attempting: `reading Kueue Topology ${TOPOLOGY_NAME} for --topology`,
      server: api.server,
      namespace: session.namespace,
    });
  }
  return { mode: flag.mode, level: resolveTopologyLevel(flag.level, levels, `Topology ${TOPOLOGY_NAME}`) };
}

/** Creates the JobSet, then its NetworkPolicy owned by it (the JobSet is deleted again if that fails). */
async function create(session: Session, run: ImageRun, dryRun: DryRun): Promise<ImageRun> {
  if (dryRun === "client") return run;
  const api = session.api;
  const ns = run.jobSet.metadata.namespace!;
  const name = run.jobSet.metadata.name!;
  let jobSet: JobSet;
  try {
    jobSet = await api.createJobSet(ns, run.jobSet, dryRun === "server");
  } catch (err) {
    throw explainApiError(err, {
      attempting: `creating JobSet ${name} in namespace ${ns}`,
      server: api.server,
      namespace: ns,
      notFound: `no JobSet API (jobset.x-k8s.io) in this cluster, or namespace ${ns} does not exist; runs with --image need JobSet installed`,
      conflict: `a run named ${name} already exists in namespace ${ns}; choose another --name (kubectl kiln ls -n ${ns})`,
    });
  }
  if (!run.networkPolicy) return { jobSet };
  try {
    const networkPolicy = await api.createNetworkPolicy(ns, ownedBy(run.networkPolicy, jobSet), dryRun === "server");
    return { jobSet, networkPolicy };
  } catch (err) {
    const e = explainApiError(err, {
      attempting: `creating NetworkPolicy ${run.networkPolicy.metadata.name} (the run's pods reaching each other)`,
      server: api.server,
      namespace: ns,
    });
    if (dryRun === "none") await api.deleteJobSet(ns, name, false).catch(() => undefined);
    throw new CliError(`${e.message}${dryRun === "none" ? `; JobSet ${name} was deleted again` : ""}`, e.exitCode);
  }
}

export async function submitImage(
  deps: Deps,
  cmd: Command,
  flags: ImageFlags,
  command: readonly string[],
): Promise<void> {
  // parse -> validate: nothing is read before every flag is known good.
  validateImage(flags.image);
  validateCommand(command);
  const nodes = intFlag("--nodes", flags.nodes, 1, MAX_NODES) ?? 1;
  const gpus = intFlag("--gpus", flags.gpus, 0, 64);
  const cpus = parseResourceFlag("--cpus", flags.cpus);
  const memory = parseResourceFlag("--memory", flags.memory);
  const maxRestarts = intFlag("--max-restarts", flags.maxRestarts, 0, MAX_RESTARTS);
  const env = parseEnvFlags(flags.env);
  if (flags.topology !== undefined) parseTopologyFlag(flags.topology);
  if (flags.queue !== undefined) validateDnsLabel("--queue", flags.queue);
  const name = flags.name ?? generateRunName(deps.now(), deps.random);
  validateDnsLabel("--name", name, MAX_IMAGE_RUN_NAME);

  const session = new Session(deps, globalsOf(cmd));
  const note = (s: string) => deps.io.err(s);
  // A client dry run from a file needs no cluster: its checks against the cluster are skipped, and said so.
  const offline = flags.template !== undefined && flags.dryRun === "client";
  const template = await loadTemplate(session, flags.template);
  const bucket = await artifactsBucket(session, template, flags.template);
  if (gpus !== undefined && gpus > 0) {
    if (offline) note(`note: --gpus ${gpus} not checked against node sizes (client dry run from --template)\n`);
    else await checkGpus(session, gpus, note);
  }
  const topology =
    flags.topology !== undefined ? await topologyLevel(offline ? undefined : session, flags.topology, note) : undefined;
  const built = imageRunFromTemplate(template, {
    name,
    namespace: session.namespace,
    image: flags.image,
    command,
    nodes,
    gpus,
    cpus,
    memory,
    env,
    maxRestarts,
    topology,
    queue: flags.queue,
    artifactsBucket: bucket,
  });
  const result = await create(session, built, flags.dryRun);

  const ns = session.namespace;
  const suffix = dryRunSuffix(flags.dryRun);
  if (flags.output === "table") {
    deps.io.out(`jobset.jobset.x-k8s.io/${name} created${suffix}\n`);
    if (result.networkPolicy)
      deps.io.out(`networkpolicy.networking.k8s.io/${result.networkPolicy.metadata.name} created${suffix}\n`);
    if (flags.dryRun === "none")
      deps.io.err(`Follow it: kubectl kiln logs ${name} -f -n ${ns}  (rank 0; --rank R for another node)\n`);
    return;
  }
  const objects = result.networkPolicy
    ? { apiVersion: "v1", kind: "List", items: [result.jobSet, result.networkPolicy] }
    : result.jobSet;
  deps.io.out(formatObject(objects, flags.output));
  if (flags.dryRun !== "none") deps.io.err(`jobset.jobset.x-k8s.io/${name}${suffix}\n`);
}
