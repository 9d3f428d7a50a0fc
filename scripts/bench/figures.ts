/**
 * The bench's figures beside issue 24's targets and the published anchors (pure: tested in
 * test/scripts/bench/figures.test.ts). A target is met, missed, or not measured (NaN value).
 */

/** Published figures the bench is read against. */
export const ANCHORS = {
  kueue: "Kueue perf test: 15,000 workloads / 30 CQs in ~351 s, ~43/s (envtest, no nodes)",
  gke: "GKE: 65,000 nodes, 50,000 training pods scheduled in < 2 min (~420 pods/s)",
} as const;

export interface Figure {
  readonly key: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** The issue's target: value must be >= (at least) or <= (at most) the bound. */
  readonly target?: { readonly atLeast?: number; readonly atMost?: number };
  readonly anchor?: string;
  readonly note?: string;
}

export type Verdict = "met" | "MISSED" | "not measured" | "";

export function verdict(f: Figure): Verdict {
  if (!f.target) return "";
  if (!Number.isFinite(f.value)) return "not measured";
  if (f.target.atLeast !== undefined && f.value < f.target.atLeast) return "MISSED";
  if (f.target.atMost !== undefined && f.value > f.target.atMost) return "MISSED";
  return "met";
}

export function targetText(f: Figure): string {
  if (!f.target) return "";
  if (f.target.atLeast !== undefined) return `>= ${f.target.atLeast}${f.unit ? ` ${f.unit}` : ""}`;
  if (f.target.atMost !== undefined) return `<= ${f.target.atMost}${f.unit ? ` ${f.unit}` : ""}`;
  return "";
}

const fmt = (v: number) =>
  !Number.isFinite(v) ? "n/a" : Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);

/** The printed table: figure, value, target, verdict, then the anchor or note on its own line when present. */
export function formatFigures(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [f.label, `${fmt(f.value)}${f.unit ? ` ${f.unit}` : ""}`, targetText(f), verdict(f)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 0));
  const lines: string[] = [];
  figures.forEach((f, i) => {
    lines.push(
      `  ${rows[i]
        .map((c, j) => c.padEnd(widths[j]))
        .join("  ")
        .trimEnd()}`,
    );
    for (const extra of [f.anchor && `anchor: ${f.anchor}`, f.note]) if (extra) lines.push(`      ${extra}`);
  });
  return lines.join("\n");
}
