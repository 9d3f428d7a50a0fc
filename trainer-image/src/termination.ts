/**
 * The run's best epoch as the pod's termination message: Kubernetes copies the file at the container's
 * terminationMessagePath into its status when it ends, so `kubectl kiln ls` and the dashboard read every
 * run's best metric from one pod list instead of one log per run. The message is the epoch's log line,
 * exactly as logged, so the log protocol's parser reads it.
 */
import * as fs from "node:fs";

/** The kubelet's default terminationMessagePath; KILN_TERMINATION_MESSAGE_PATH overrides it (a pod that sets another path). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
/** The kubelet keeps at most this much of a container's message. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;

type EpochEntry = { epoch: number; loss: number; val_loss?: number };

/** An epoch line as a reader of the log sees it (a non-finite number is logged as null, and then is no epoch line). */
function asLogged(line: object): EpochEntry | undefined {
  const seen = JSON.parse(JSON.stringify(line)) as Record<string, unknown>;
  if (typeof seen.epoch !== "number" || typeof seen.loss !== "number") return undefined;
  return seen as unknown as EpochEntry;
}

/**
 * The best epoch's line: lowest val_loss, else lowest loss, an earlier epoch winning a tie (the rule of the
 * plugin's bestMetric). Without its metrics when the whole line would not fit the message.
 */
export function bestEpochLine(history: readonly object[]): string | undefined {
  let best: { key: "val_loss" | "loss"; value: number; line: object } | undefined;
  for (const line of history) {
    const e = asLogged(line);
    if (!e) continue;
    const key = e.val_loss !== undefined ? "val_loss" : "loss";
    const value = e.val_loss ?? e.loss;
    if (!best || (key === best.key && value < best.value) || (key === "val_loss" && best.key === "loss"))
      best = { key, value, line };
  }
  if (!best) return undefined;
  const text = JSON.stringify(best.line);
  if (Buffer.byteLength(text) <= MAX_TERMINATION_MESSAGE_BYTES) return text;
  const { epoch, loss, val_loss } = asLogged(best.line)!;
  return JSON.stringify({ epoch, loss, ...(val_loss !== undefined ? { val_loss } : {}) });
}

/**
 * Writes the best epoch's line to the termination message file when that file exists (the kubelet creates
 * it; outside Kubernetes there is none and nothing is written). Never throws: the run's outcome does not
 * depend on it. Returns whether it wrote.
 */
export function writeBestEpoch(history: readonly object[], env: NodeJS.ProcessEnv): boolean {
  const file = env.KILN_TERMINATION_MESSAGE_PATH || DEFAULT_TERMINATION_MESSAGE_PATH;
  const line = bestEpochLine(history);
  if (line === undefined) return false;
  try {
    if (!fs.existsSync(file)) return false;
    fs.writeFileSync(file, `${line}\n`);
    return true;
  } catch {
    return false;
  }
}
