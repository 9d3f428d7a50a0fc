/** `kubectl kiln logs RUN [-f] [--index I | --rank R] [--raw]`: the trainer's JSON lines as a progress table. */
import type { Command } from "commander";
import type { V1Pod } from "@kubernetes/client-node";
import { type Deps, globalsOf, Session } from "../context";
import { CliError, explainApiError, UsageError } from "../errors";
import { containerState, followRunLog, jobEnd, newestFirst } from "../follow";
import { validateRunName } from "../job";
import { MAX_NODES } from "../jobset";
import { getRun, isJobSet, nodesOf, podSelector, type RunObject } from "../runs";
import { runPhase } from "../rows";
import type { KubeApi } from "../kube";
import { ProgressRenderer } from "../progress";
import { intFlag } from "./common";
import { TRAINER_CONTAINER } from "../../../contract/labels";

interface LogsFlags {
  follow?: boolean;
  index?: string;
  rank?: string;
  raw?: boolean;
}

export function registerLogs(program: Command, deps: Deps): void {
  program
    .command("logs")
    .description("print a run's training progress (the trainer's JSON log lines as a table)")
    .argument("<run>", "run (Job) name")
    .option(
      "-f, --follow",
      "wait for the trainer to start, then stream its log until the run ends, resuming a broken stream and following a retried pod (Ctrl-C stops)",
    )
    .option("--index <i>", "sweep: the grid point (JOB_COMPLETION_INDEX) to show; default the newest pod")
    .option("--rank <r>", "run with your own image: the node (rank) to show, in the current restart attempt; default 0")
    .option("--raw", "print the log lines as they are")
    .action(async (run: string, flags: LogsFlags, cmd: Command) => {
      validateRunName(run);
      const index = intFlag("--index", flags.index, 0, 100000);
      const rank = intFlag("--rank", flags.rank, 0, MAX_NODES - 1);
      if (index !== undefined && rank !== undefined)
        throw new UsageError(
          "--index (a sweep's grid point) and --rank (a node of a run with your own image) are exclusive",
        );
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      const api = session.api;
      const renderer = new ProgressRenderer();
      const print = (line: string) => deps.io.out(flags.raw ? `${line}\n` : renderer.render(line));
      const attempting = `reading logs of run ${run} in namespace ${ns}`;
      const ctx = {
        attempting,
        server: api.server,
        namespace: ns,
        notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})`,
      };
      const first = await getRun(api, ns, run, ctx);
      const which = { index, rank };
      logSelector(first, which);

      let interrupted = false;
      let stop: () => void = () => undefined;
      const removeHandler = deps.onInterrupt(() => {
        interrupted = true;
        stop();
      });
      try {
        if (flags.follow) {
          const end = await followRunLog({
            api,
            namespace: ns,
            job: run,
            // Read again on every look: a JobSet's restart attempt moves on.
            selector: isJobSet(first)
              ? async () => logSelector(await getRun(api, ns, run, ctx), which)
              : logSelector(first, which),
            runEnd: async () => runEnd(await getRun(api, ns, run, ctx)),
            container: TRAINER_CONTAINER,
            onLine: print,
            onNote: (note) => deps.io.err(`${note}\n`),
            // A sweep's pods are its grid points, not retries of one another: follow one index only.
            followRetries: isJobSet(first) || index !== undefined || first.spec?.completionMode !== "Indexed",
            interrupted: () => interrupted,
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
            onStream: (abort) => {
              stop = abort;
              if (interrupted) abort();
            },
          }).catch((err) => {
            throw explainApiError(err, ctx);
          });
          if (end.kind === "run-ended" && end.state === "Failed")
            deps.io.err(`run ${run} failed: kubectl kiln status ${run} -n ${ns}\n`);
          return;
        }
        const pod = await findStartedPod(api, ns, run, logSelector(first, which), ctx);
        const text = await api.readLog(ns, pod.metadata!.name!, TRAINER_CONTAINER).catch((err) => {
          throw explainApiError(err, ctx);
        });
        for (const l of text.split("\n")) if (l !== "") print(l);
      } finally {
        removeHandler();
      }
    });
}

/** A run's end: a Job's Complete/Failed condition, a JobSet's Completed/Failed. */
function runEnd(run: RunObject): "Complete" | "Failed" | undefined {
  if (!isJobSet(run)) return jobEnd(run);
  const phase = runPhase(run);
  return phase === "Succeeded" ? "Complete" : phase === "Failed" ? "Failed" : undefined;
}

/**
 * The label selector of the pods to read: a Job's (a sweep point with --index); a JobSet's rank (--rank,
 * default 0) in its current restart attempt. --rank on a trainer Job, or --index on a JobSet, is refused.
 */
export function logSelector(run: RunObject, opts: { index?: number; rank?: number }): string {
  const name = run.metadata?.name;
  if (isJobSet(run)) {
    if (opts.index !== undefined)
      throw new UsageError(`--index is for sweeps; run ${name} runs your image on ${nodesOf(run)} node(s): use --rank`);
    if (opts.rank !== undefined && opts.rank >= nodesOf(run))
      throw new UsageError(`--rank ${opts.rank}: run ${name} has ranks 0..${nodesOf(run) - 1}`);
    return podSelector(run, opts.rank ?? 0);
  }
  if (opts.rank !== undefined)
    throw new UsageError(
      `--rank is for runs with your own image; run ${name} is a trainer Job${run.spec?.completionMode === "Indexed" ? " (a sweep: use --index)" : ""}`,
    );
  return podSelector(run, opts.index);
}

/** The newest pod of the run whose trainer container has started (running or ended); else a CliError saying why. */
async function findStartedPod(
  api: KubeApi,
  ns: string,
  run: string,
  selector: string,
  ctx: Parameters<typeof explainApiError>[1],
): Promise<V1Pod> {
  let pods: V1Pod[];
  try {
    pods = newestFirst(await api.listPods(ns, selector));
  } catch (err) {
    throw explainApiError(err, ctx);
  }
  const started = pods.find((p) => containerState(p, TRAINER_CONTAINER).kind !== "waiting");
  if (started) return started;
  if (pods.length) {
    const state = containerState(pods[0], TRAINER_CONTAINER);
    throw new CliError(
      `run ${run}: pod ${pods[0].metadata?.name} has not started yet (${state.kind === "waiting" ? state.reason : "Pending"}); use -f to wait for it`,
    );
  }
  throw new CliError(
    `run ${run} has no pods yet (queued or suspended?); use -f to wait, or kubectl kiln status ${run}`,
  );
}
