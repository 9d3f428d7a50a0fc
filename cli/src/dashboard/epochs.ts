/** A run's training curve from its log: the trainer's one JSON line per epoch (cli/src/progress.ts parses them). */
import { parseLogLine, trainerError, type EpochLine } from "../../../contract/log-protocol";

export interface Curve {
  readonly epochs: EpochLine[];
  /** Names of the metrics in the epoch lines besides loss and val_loss, e.g. mae. */
  readonly metrics: string[];
  /** The trainer's last "kiln-trainer: ..." failure line, if it wrote one. */
  readonly error: string | null;
  /** True once the trainer logged its "done" event. */
  readonly done: boolean;
}

export function curveOf(log: string): Curve {
  const epochs: EpochLine[] = [];
  const metrics = new Set<string>();
  let error: string | null = null;
  let done = false;
  for (const raw of log.split("\n")) {
    const e = parseLogLine(raw);
    if (e.kind === "epoch") {
      // A resumed pod's log repeats no epochs, but a restarted container may: the newest line wins.
      const i = epochs.findIndex((x) => x.epoch === e.line.epoch);
      if (i >= 0) epochs.splice(i, 1);
      epochs.push(e.line);
      for (const k of Object.keys(e.line.metrics ?? {})) metrics.add(k);
    } else if (e.kind === "event") {
      if (e.fields.event === "done") done = true;
    } else if (e.kind === "text" && trainerError(e.text) !== undefined) {
      error = trainerError(e.text)!;
    }
  }
  epochs.sort((a, b) => a.epoch - b.epoch);
  return { epochs, metrics: [...metrics].sort(), error, done };
}

/** The curve of a finished run from its metrics.json `history` (the same epoch lines), for when its pods are gone. */
export function curveOfHistory(history: unknown): Curve | null {
  if (!Array.isArray(history)) return null;
  const lines = history.filter(
    (e): e is Record<string, unknown> =>
      !!e &&
      typeof e === "object" &&
      typeof (e as { epoch?: unknown }).epoch === "number" &&
      typeof (e as { loss?: unknown }).loss === "number",
  );
  if (lines.length === 0) return null;
  return { ...curveOf(lines.map((l) => JSON.stringify(l)).join("\n")), done: true };
}

/**
 * A finished run's curve: its stored history (every epoch of every attempt) under its log's epoch lines. A
 * resumed pod logs only the epochs after its checkpoint, so the log alone would start mid-run.
 */
export function withStoredHistory(logged: Curve, stored: Curve | null): Curve {
  if (!stored) return logged;
  const byEpoch = new Map(stored.epochs.map((e) => [e.epoch, e]));
  for (const e of logged.epochs) byEpoch.set(e.epoch, e);
  return {
    epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch),
    metrics: [...new Set([...stored.metrics, ...logged.metrics])].sort(),
    error: logged.error,
    done: logged.done || stored.done,
  };
}
