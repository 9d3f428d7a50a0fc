/** Output formats: `-o table|json|yaml`, aligned tables, and the "(dry run)" suffix. */
import { stringify } from "yaml";

export const OUTPUT_FORMATS = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const DRY_RUN_MODES = ["none", "client", "server"] as const;
export type DryRun = (typeof DRY_RUN_MODES)[number];

/** Where commands write: stdout for results, stderr for notes. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** " (dry run)" for client/server dry runs, kubectl style. */
export function dryRunSuffix(dryRun: DryRun): string {
  return dryRun === "none" ? "" : ` (${dryRun} dry run)`;
}

/** An object as JSON or YAML text. */
export function formatObject(obj: unknown, format: "json" | "yaml"): string {
  return format === "json" ? `${JSON.stringify(obj, null, 2)}\n` : stringify(obj, { lineWidth: 0 });
}

/** Left-aligned columns separated by three spaces, kubectl style. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("   ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** kubectl-style age: 42s, 5m, 3h, 2d, 1y (largest unit; two units under 10 of the largest, e.g. 3h12m). */
export function formatAge(from: Date | string | undefined, now: Date): string {
  if (!from) return "<unknown>";
  const start = typeof from === "string" ? new Date(from) : from;
  let s = Math.max(0, Math.floor((now.getTime() - start.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 10) return s ? `${m}m${s}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
