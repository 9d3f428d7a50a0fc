/**
 * The trainer's log protocol (docs/log-protocol.md): one JSON line per epoch, JSON event lines, and one
 * plain-text failure line with a fixed prefix. The trainer writes it; `logs`, `status` and the dashboard
 * read it with this parser. Any image may write it to get curves in the dashboard.
 */

/** Prefix of the trainer's one failure line on stderr: `kiln-trainer: <message>`. */
export const TRAINER_ERROR_PREFIX = "kiln-trainer: ";

export interface EpochLine {
  epoch: number;
  loss: number;
  val_loss?: number;
  metrics?: Record<string, number>;
  msPerStep?: number;
  etaSeconds?: number;
}

export type LogEntry =
  | { kind: "epoch"; line: EpochLine }
  | { kind: "event"; fields: Record<string, unknown> }
  | { kind: "text"; text: string };

/** Classifies one log line. */
export function parseLogLine(raw: string): LogEntry {
  const text = raw.replace(/\r$/, "");
  if (text.trimStart().startsWith("{")) {
    try {
      const obj = JSON.parse(text) as Record<string, unknown>;
      if (obj && typeof obj === "object" && !Array.isArray(obj)) {
        if (typeof obj.epoch === "number" && typeof obj.loss === "number")
          return { kind: "epoch", line: obj as unknown as EpochLine };
        return { kind: "event", fields: obj };
      }
    } catch {
      // not JSON: plain text
    }
  }
  return { kind: "text", text };
}

/** The message of a failure line, or undefined when `text` is not one. */
export function trainerError(text: string): string | undefined {
  return text.startsWith(TRAINER_ERROR_PREFIX) ? text.slice(TRAINER_ERROR_PREFIX.length) : undefined;
}
