/**
 * The trainer's JSON log lines rendered as a progress table. Epoch lines (`{"epoch":..,"loss":..}`)
 * become rows; other JSON lines are shown as `event key=value ...`; plain text passes through.
 */

import { parseLogLine } from "../../contract/log-protocol";

const num = (v: number | undefined, digits = 4) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(digits));

function eta(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Renders a stream of log lines; stateful (column set fixed by the first epoch line). */
export class ProgressRenderer {
  private metricKeys: string[] | undefined;
  private readonly width = 10;

  /** Text to print for one raw log line (with trailing newline), or "" to print nothing. */
  render(raw: string): string {
    if (raw.trim() === "") return "";
    const entry = parseLogLine(raw);
    if (entry.kind === "text") return `${entry.text}\n`;
    if (entry.kind === "event") {
      const { event, ...rest } = entry.fields;
      const kv = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
      return `${[typeof event === "string" ? `[${event}]` : "[log]", ...kv].join(" ")}\n`;
    }
    const line = entry.line;
    let out = "";
    if (!this.metricKeys) {
      this.metricKeys = Object.keys(line.metrics ?? {}).sort();
      out += this.row(["EPOCH", "LOSS", "VAL-LOSS", ...this.metricKeys.map((k) => k.toUpperCase()), "MS/STEP", "ETA"]);
    }
    out += this.row([
      String(line.epoch),
      num(line.loss),
      num(line.val_loss),
      ...this.metricKeys.map((k) => num(line.metrics?.[k])),
      num(line.msPerStep, 1),
      eta(line.etaSeconds),
    ]);
    return out;
  }

  private row(cells: string[]): string {
    return `${cells
      .map((c) => c.padEnd(this.width))
      .join(" ")
      .trimEnd()}\n`;
  }
}

/** Best (lowest) val_loss, else loss, over the epoch lines of a log: "val_loss=1.2345 @ epoch 7". */
export function bestMetric(log: string): string | undefined {
  let best: { key: string; value: number; epoch: number } | undefined;
  for (const raw of log.split("\n")) {
    const e = parseLogLine(raw);
    if (e.kind !== "epoch") continue;
    const key = e.line.val_loss !== undefined ? "val_loss" : "loss";
    const value = e.line.val_loss ?? e.line.loss;
    if (!best || (key === best.key && value < best.value) || (key === "val_loss" && best.key === "loss"))
      best = { key, value, epoch: e.line.epoch };
  }
  return best && `${best.key}=${best.value.toFixed(4)}@${best.epoch}`;
}
