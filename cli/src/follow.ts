/**
 * Following a run's trainer log for real (`kubectl kiln logs -f`, and step 8 of `npm run local`):
 * wait until the container runs (or has ended) before asking for its log, resume a broken stream
 * where it stopped without printing a line twice, and follow a retried pod (after pod loss) until the
 * run ends. The decisions are pure functions of the pod's status; `followRunLog` drives them.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import type { KubeApi } from "./kube";

/** Where a pod's container is, as far as reading its log goes. */
export type ContainerState =
  /** Not started: the log cannot be read yet (`reason`: ContainerCreating, PodInitializing, Unschedulable...). */
  | { readonly kind: "waiting"; readonly reason: string }
  | { readonly kind: "running"; readonly restarts: number }
  /** Ended; `hasLog` is false when it never started (a pod that failed before its container ran). */
  | { readonly kind: "ended"; readonly restarts: number; readonly hasLog: boolean };

/** The state of `container` in `pod`, from its status. */
export function containerState(pod: V1Pod, container: string): ContainerState {
  const status = pod.status?.containerStatuses?.find((c) => c.name === container);
  const podEnded = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
  const restarts = status?.restartCount ?? 0;
  if (status?.state?.running) return { kind: "running", restarts };
  if (status?.state?.terminated) return { kind: "ended", restarts, hasLog: true };
  // Waiting after an earlier run (CrashLoopBackOff): the earlier run's log is readable.
  if (status?.lastState?.terminated && podEnded) return { kind: "ended", restarts, hasLog: true };
  if (podEnded) return { kind: "ended", restarts, hasLog: false };
  // A Running pod has at least one container running; without a status for ours, take it as that one.
  if (!status && pod.status?.phase === "Running") return { kind: "running", restarts };
  const unscheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  const reason =
    status?.state?.waiting?.reason ?? unscheduled?.reason ?? (pod.spec?.nodeName ? "ContainerCreating" : "Pending");
  return { kind: "waiting", reason };
}

/** The Job's end (`Complete` or `Failed`), or undefined while it runs. */
export function jobEnd(job: V1Job): "Complete" | "Failed" | undefined {
  const ended = job.status?.conditions?.find(
    (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
  );
  return ended?.type as "Complete" | "Failed" | undefined;
}

/** Pods newest first (by creation time). */
export function newestFirst(pods: readonly V1Pod[]): V1Pod[] {
  return [...pods].sort(
    (a, b) =>
      new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
  );
}

/**
 * A Writable that hands out the complete lines of a log stream after the first `skip` (those were
 * printed by an earlier stream of the same log); a last line without its newline is held back, since
 * a broken stream may have cut it. `count()` is how many complete lines the log has shown so far.
 */
export function lineCounter(skip: number, onLine: (line: string) => void): Writable & { count(): number } {
  let buffered = "";
  let seen = 0;
  const w = new Writable({
    write(chunk, _enc, cb) {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (++seen > skip) onLine(line);
      cb();
    },
  });
  return Object.assign(w, { count: () => Math.max(seen, skip) });
}

/** What `followRunLog` needs from the API (a subset of KubeApi, so tests can script it). */
export type FollowApi = Pick<KubeApi, "getJob" | "listPods" | "readLog" | "followLog">;

export interface FollowOptions {
  readonly api: FollowApi;
  readonly namespace: string;
  readonly job: string;
  /** Label selector of the run's pods (the Job's, and a sweep's index); a function is asked again on every look (a JobSet's restart attempt moves on). */
  readonly selector: string | (() => Promise<string>);
  /** The run's end, when it has one; default: the Job `job`'s Complete/Failed condition. */
  readonly runEnd?: () => Promise<"Complete" | "Failed" | undefined>;
  readonly container: string;
  readonly onLine: (line: string) => void;
  /** Progress notes for the user ("waiting for ... ContainerCreating"). */
  readonly onNote: (note: string) => void;
  /** After a pod ends with the run unfinished, follow its replacement (a retry after pod loss). */
  readonly followRetries: boolean;
  readonly interrupted: () => boolean;
  readonly sleep: (ms: number) => Promise<void>;
  /** Registers the abort of the current stream (Ctrl-C). */
  readonly onStream?: (abort: () => void) => void;
  /** Milliseconds between looks at a pod that has not started; default 2000. */
  readonly pollMs?: number;
  /** Consecutive broken streams that showed no new line before giving up; default 30. */
  readonly maxBrokenStreams?: number;
}

/** How following ended: the run's end, the pod's end (no retries followed), or Ctrl-C. */
export type FollowEnd =
  | { readonly kind: "run-ended"; readonly state: "Complete" | "Failed" }
  | { readonly kind: "pod-ended"; readonly pod: string }
  | { readonly kind: "interrupted" };

/**
 * Follows the newest pod of the run from its first log line to its last: waits while its container is
 * created, streams the log, re-streams after a break (skipping what was printed), catches up on the
 * final lines once the container ended, then (with `followRetries`) moves to a retried pod.
 */
export async function followRunLog(o: FollowOptions): Promise<FollowEnd> {
  const pollMs = o.pollMs ?? 2000;
  const maxBroken = o.maxBrokenStreams ?? 30;
  const done = new Set<string>();
  let note = "";
  const say = (n: string) => {
    if (n !== note) o.onNote(n);
    note = n;
  };
  const runEnd = o.runEnd ?? (async () => jobEnd(await o.api.getJob(o.namespace, o.job)));
  for (;;) {
    if (o.interrupted()) return { kind: "interrupted" };
    const selector = typeof o.selector === "string" ? o.selector : await o.selector();
    const pods = newestFirst(await o.api.listPods(o.namespace, selector)).filter(
      (p) => !done.has(p.metadata?.name ?? ""),
    );
    const pod = pods[0];
    if (!pod) {
      if (done.size > 0) {
        const end = await runEnd();
        if (end) return { kind: "run-ended", state: end };
        say(`run ${o.job}: its pod ended and the run has not; waiting for a retried pod...`);
      } else say(`waiting for a pod of run ${o.job} (queued, or not yet scheduled)...`);
      await o.sleep(pollMs);
      continue;
    }
    const name = pod.metadata!.name!;
    const state = containerState(pod, o.container);
    if (state.kind === "waiting") {
      say(`waiting for container ${o.container} in pod ${name} to start (${state.reason})...`);
      await o.sleep(pollMs);
      continue;
    }
    if (done.size > 0) say(`following pod ${name} (a retry of the run)`);
    await followPod(o, selector, name, pollMs, maxBroken);
    done.add(name);
    if (!o.followRetries) return { kind: "pod-ended", pod: name };
    const end = await runEnd();
    if (end) return { kind: "run-ended", state: end };
  }
}

/** Streams one pod's container log until the container has ended (or Ctrl-C), each line once. */
async function followPod(
  o: FollowOptions,
  selector: string,
  pod: string,
  pollMs: number,
  maxBroken: number,
): Promise<void> {
  let printed = 0;
  let restarts: number | undefined;
  let broken = 0;
  for (;;) {
    if (o.interrupted()) return;
    const counter = lineCounter(printed, o.onLine);
    let streamError: unknown;
    try {
      const handle = await o.api.followLog(o.namespace, pod, o.container, counter);
      o.onStream?.(handle.abort);
      await handle.done;
    } catch (err) {
      streamError = err;
    }
    const before = printed;
    printed = counter.count();
    if (o.interrupted()) return;
    const current = (await o.api.listPods(o.namespace, selector)).find((p) => p.metadata?.name === pod);
    const state: ContainerState = current
      ? containerState(current, o.container)
      : { kind: "ended", restarts: restarts ?? 0, hasLog: false };
    // A restarted container (restartPolicy OnFailure) writes a new log: start counting again.
    if (state.kind !== "waiting" && restarts !== undefined && state.restarts !== restarts) printed = 0;
    if (state.kind !== "waiting") restarts = state.restarts;
    if (state.kind === "ended") {
      // The stream may have broken just before the end: the final lines come from one last read.
      if (state.hasLog) await catchUp(o, pod, printed);
      return;
    }
    broken = printed > before ? 0 : broken + 1;
    if (broken > maxBroken)
      throw new Error(
        `the log stream of pod ${pod} broke ${broken} times in a row without a new line${streamError ? ` (last: ${(streamError as Error).message})` : ""}`,
      );
    if (state.kind === "waiting")
      o.onNote(`container ${o.container} in pod ${pod} is waiting (${state.reason}); resuming its log when it runs...`);
    else
      o.onNote(
        `log stream of pod ${pod} ended while its container runs${streamError ? ` (${(streamError as Error).message.split("\n")[0]})` : ""}; resuming after line ${printed}`,
      );
    await o.sleep(Math.min(pollMs, 1000 * broken || 500));
  }
}

/** Prints the lines of the container's full log after the first `printed`. */
async function catchUp(o: FollowOptions, pod: string, printed: number): Promise<void> {
  let text: string;
  try {
    text = await o.api.readLog(o.namespace, pod, o.container);
  } catch {
    return; // The pod is gone with its log; what was streamed is all there is.
  }
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.slice(printed).forEach(o.onLine);
}
