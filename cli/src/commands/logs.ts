/** `kubectl kiln logs RUN [-f] [--index I] [--raw]`: the trainer's JSON lines as a progress table. */
import { Command } from "commander";
import type { V1Pod } from "@kubernetes/client-node";
import { Deps, globalsOf, Session } from "../context";
import { CliError, explainApiError } from "../errors";
import { containerState, followRunLog, newestFirst } from "../follow";
import { LABEL_JOB_NAME, TRAINER_CONTAINER, validateRunName } from "../job";
import type { KubeApi } from "../kube";
import { ProgressRenderer } from "../progress";
import { intFlag } from "./common";

interface LogsFlags {
  follow?: boolean;
  index?: string;
  raw?: boolean;
}

export function registerLogs(program: Command, deps: Deps): void {
  program
    .command("logs")
    .description("print a run's training progress (the trainer's JSON log lines as a table)")
    .argument("<run>", "run (Job) name")
    .option("-f, --follow", "wait for the trainer to start, then stream its log until the run ends, resuming a broken stream and following a retried pod (Ctrl-C stops)")
    .option("--index <i>", "sweep: the grid point (JOB_COMPLETION_INDEX) to show; default the newest pod")
    .option("--raw", "print the log lines as they are")
    .action(async (run: string, flags: LogsFlags, cmd: Command) => {
      validateRunName(run);
      const index = intFlag("--index", flags.index, 0, 100000);
      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      const api = session.api;
      const renderer = new ProgressRenderer();
      const print = (line: string) => deps.io.out(flags.raw ? `${line}\n` : renderer.render(line));
      const selector = `${LABEL_JOB_NAME}=${run}${index !== undefined ? `,batch.kubernetes.io/job-completion-index=${index}` : ""}`;
      const attempting = `reading logs of run ${run} in namespace ${ns}`;
      const ctx = { attempting, server: api.server, namespace: ns, notFound: `no run ${run} in namespace ${ns} (kubectl kiln ls -n ${ns})` };

      let interrupted = false;
      let stop: () => void = () => undefined;
      const removeHandler = deps.onInterrupt(() => {
        interrupted = true;
        stop();
      });
      try {
        if (flags.follow) {
          const job = await api.getJob(ns, run).catch((err) => {
            throw explainApiError(err, ctx);
          });
          const end = await followRunLog({
            api,
            namespace: ns,
            job: run,
            selector,
            container: TRAINER_CONTAINER,
            onLine: print,
            onNote: (note) => deps.io.err(`${note}\n`),
            // A sweep's pods are its grid points, not retries of one another: follow one index only.
            followRetries: index !== undefined || job.spec?.completionMode !== "Indexed",
            interrupted: () => interrupted,
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
            onStream: (abort) => {
              stop = abort;
              if (interrupted) abort();
            },
          }).catch((err) => {
            throw explainApiError(err, ctx);
          });
          if (end.kind === "run-ended" && end.state === "Failed") deps.io.err(`run ${run} failed: kubectl kiln status ${run} -n ${ns}\n`);
          return;
        }
        const pod = await findStartedPod(api, ns, run, selector, ctx);
        const text = await api.readLog(ns, pod.metadata!.name!, TRAINER_CONTAINER).catch((err) => {
          throw explainApiError(err, ctx);
        });
        text.split("\n").forEach((l) => l !== "" && print(l));
      } finally {
        removeHandler();
      }
    });
}

/** The newest pod of the run whose trainer container has started (running or ended); else a CliError saying why. */
async function findStartedPod(api: KubeApi, ns: string, run: string, selector: string, ctx: Parameters<typeof explainApiError>[1]): Promise<V1Pod> {
  let pods: V1Pod[];
  try {
    await api.getJob(ns, run);
    pods = newestFirst(await api.listPods(ns, selector));
  } catch (err) {
    throw explainApiError(err, ctx);
  }
  const started = pods.find((p) => containerState(p, TRAINER_CONTAINER).kind !== "waiting");
  if (started) return started;
  if (pods.length) {
    const state = containerState(pods[0], TRAINER_CONTAINER);
    throw new CliError(`run ${run}: pod ${pods[0].metadata?.name} has not started yet (${state.kind === "waiting" ? state.reason : "Pending"}); use -f to wait for it`);
  }
  throw new CliError(`run ${run} has no pods yet (queued or suspended?); use -f to wait, or kubectl kiln status ${run}`);
}
