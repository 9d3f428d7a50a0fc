/** `kubectl kiln logs RUN [-f] [--index I | --rank R] [--raw]`: the trainer's JSON lines as a progress table. */
import { Command } from "commander";
import type { V1Pod } from "@kubernetes/client-node";
import { Writable } from "stream";
import { Deps, globalsOf, Session } from "../context";
import { CliError, explainApiError, UsageError } from "../errors";
import { TRAINER_CONTAINER, validateRunName } from "../job";
import { MAX_NODES } from "../jobset";
import { getRun, isJobSet, nodesOf, podSelector, type RunObject } from "../runs";
import type { KubeApi } from "../kube";
import { ProgressRenderer } from "../progress";
import { intFlag } from "./common";

interface LogsFlags {
  follow?: boolean;
  index?: string;
  rank?: string;
  raw?: boolean;
}

/** Seconds between looks for a pod when following a run that has none running yet. */
const POLL_MS = 2000;

const newestFirst = (pods: V1Pod[]) => pods.sort((a, b) => new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime());
const hasStarted = (p: V1Pod) => p.status?.phase !== undefined && p.status.phase !== "Pending";

/** A Writable that hands complete lines to `onLine`. */
export function lineSplitter(onLine: (line: string) => void): Writable {
  let buffered = "";
  return new Writable({
    write(chunk, _enc, cb) {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      lines.forEach(onLine);
      cb();
    },
    final(cb) {
      if (buffered) onLine(buffered);
      cb();
    },
  });
}

export function registerLogs(program: Command, deps: Deps): void {
  program
    .command("logs")
    .description("print a run's training progress (the trainer's JSON log lines as a table)")
    .argument("<run>", "run (Job) name")
    .option("-f, --follow", "stream until the pod ends (Ctrl-C stops)")
    .option("--index <i>", "sweep: the grid point (JOB_COMPLETION_INDEX) to show; default the newest pod")
    .option("--rank <r>", "run with your own image: the node (rank) to show, in the current restart attempt; default 0")
    .option("--raw", "print the log lines as they are")
    .action(async (run: string, flags: LogsFlags, cmd: Command) => {
      validateRunName(run);
      const index = intFlag("--index", flags.index, 0, 100000);
      const rank = intFlag("--rank", flags.rank, 0, MAX_NODES - 1);
      if (index !== undefined && rank !== undefined) throw new UsageError("--index (a sweep's grid point) and --rank (a node of a run with your own image) are exclusive");
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      const api = session.api;
      const renderer = new ProgressRenderer();
      const print = (line: string) => deps.io.out(flags.raw ? `${line}\n` : renderer.render(line));
      const attempting = `reading logs of run ${run} in namespace ${ns}`;
      const ctx = { attempting, server: api.server, namespace: ns, notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})` };

      let interrupted = false;
      let stop: () => void = () => undefined;
      const removeHandler = deps.onInterrupt(() => {
        interrupted = true;
        stop();
      });
      try {
        const pod = await findPod(api, ns, run, { index, rank }, flags.follow === true, () => interrupted, deps, ctx);
        if (!pod) return;
        const podName = pod.metadata!.name!;
        if (!flags.follow) {
          const text = await api.readLog(ns, podName, TRAINER_CONTAINER).catch((err) => {
            throw explainApiError(err, ctx);
          });
          text.split("\n").forEach((l) => l !== "" && print(l));
          return;
        }
        const handle = await api.followLog(ns, podName, TRAINER_CONTAINER, lineSplitter(print)).catch((err) => {
          throw explainApiError(err, ctx);
        });
        stop = handle.abort;
        if (interrupted) handle.abort();
        await handle.done.catch((err) => {
          throw explainApiError(err, ctx);
        });
      } finally {
        removeHandler();
      }
    });
}

/**
 * The label selector of the pods to read: a Job's (a sweep point with --index); a JobSet's rank (--rank,
 * default 0) in its current restart attempt. --rank on a trainer Job, or --index on a JobSet, is refused.
 */
export function logSelector(run: RunObject, opts: { index?: number; rank?: number }): string {
  const name = run.metadata?.name;
  if (isJobSet(run)) {
    if (opts.index !== undefined) throw new UsageError(`--index is for sweeps; run ${name} runs your image on ${nodesOf(run)} node(s): use --rank`);
    if (opts.rank !== undefined && opts.rank >= nodesOf(run)) throw new UsageError(`--rank ${opts.rank}: run ${name} has ranks 0..${nodesOf(run) - 1}`);
    return podSelector(run, opts.rank ?? 0);
  }
  if (opts.rank !== undefined) throw new UsageError(`--rank is for runs with your own image; run ${name} is a trainer Job${run.spec?.completionMode === "Indexed" ? " (a sweep: use --index)" : ""}`);
  return podSelector(run, opts.index);
}

/** The newest pod of the run; with follow, waits until one has started (undefined if interrupted). */
async function findPod(api: KubeApi, ns: string, run: string, which: { index?: number; rank?: number }, follow: boolean, interrupted: () => boolean, deps: Deps, ctx: Parameters<typeof explainApiError>[1]): Promise<V1Pod | undefined> {
  let announced = false;
  for (;;) {
    let pods: V1Pod[];
    // Read again each time: a JobSet's restart attempt moves on.
    const selector = logSelector(await getRun(api, ns, run, ctx), which);
    try {
      pods = newestFirst(await api.listPods(ns, selector));
    } catch (err) {
      throw explainApiError(err, ctx);
    }
    const started = pods.find(hasStarted);
    if (started) return started;
    if (!follow) {
      throw new CliError(pods.length ? `run ${run}: pod ${pods[0].metadata?.name} has not started yet (Pending); use -f to wait for it` : `run ${run} has no pods yet (queued or suspended?); use -f to wait, or kubectl kiln status ${run}`);
    }
    if (!announced) {
      deps.io.err(`waiting for a pod of run ${run} to start (Ctrl-C to stop)...\n`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (interrupted()) return undefined;
  }
}
