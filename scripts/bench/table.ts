/**
 * The README's bench table from bench result files, one column per run (sizes side by side):
 *   npx ts-node --transpile-only scripts/bench/table.ts .kiln/bench/2026-...Z.json ...
 */
import * as fs from "node:fs";
import { type Figure, targetText, type Verdict } from "./figures";

interface Result {
  readonly date: string;
  readonly settings: { readonly runs: number; readonly nodes: number; readonly runSeconds: number };
  readonly counts?: { readonly pods: number; readonly podsFinished: number };
  readonly figures: (Figure & { readonly verdict: Verdict })[];
}

const fmt = (v: number) =>
  !Number.isFinite(v) ? "n/a" : Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toFixed(1);

export function markdownTable(results: readonly Result[]): string {
  const keys: string[] = [];
  for (const r of results) for (const f of r.figures) if (!keys.includes(f.key)) keys.push(f.key);
  const size = (r: Result) =>
    `${r.settings.runs.toLocaleString("en")} runs / ${r.settings.nodes.toLocaleString("en")} nodes, ${r.settings.runSeconds} s each`;
  // Runs of the same size are told apart by when they started.
  const head = results.map((r) =>
    results.filter((o) => size(o) === size(r)).length > 1
      ? `${size(r)} (${r.date.slice(0, 16).replace("T", " ")} UTC)`
      : size(r),
  );
  const lines = [`| figure | target | ${head.join(" | ")} |`, `|---|---|${results.map(() => "---|").join("")}`];
  for (const key of keys) {
    const first = results.map((r) => r.figures.find((f) => f.key === key)).find((f) => f)!;
    const cells = results.map((r) => {
      const f = r.figures.find((x) => x.key === key);
      if (!f) return "";
      return `${fmt(f.value)}${f.unit ? ` ${f.unit}` : ""}${f.verdict === "MISSED" ? " (missed)" : ""}`;
    });
    lines.push(`| ${first.label} | ${targetText(first)} | ${cells.join(" | ")} |`);
  }
  lines.push(
    `| pods finished before the timeout | all | ${results.map((r) => (r.counts ? `${r.counts.podsFinished}/${r.counts.pods}` : "")).join(" | ")} |`,
  );
  return lines.join("\n");
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write("usage: table.ts RESULT.json...  (bench results, .kiln/bench/<time>.json)\n");
    process.exit(2);
  }
  const results = files
    .map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as Result)
    .sort((a, b) => a.settings.runs - b.settings.runs || a.date.localeCompare(b.date));
  process.stdout.write(`${markdownTable(results)}\n`);
}
