/** report.html: a self-contained page with inline SVG training curves (and the ROC curve for binary). */
import type { TrainerUsage } from "./usage";
import type { EpochLog } from "./checkpoint";
import type { RocPoint } from "./metrics";

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3));

/** A line chart as an SVG element; axes span the data, with min/max tick labels. */
/** [min, max] by a loop (spreading a long list into Math.min overflows the call stack). */
function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export function lineChart(
  title: string,
  series: Series[],
  opts: { xLabel: string; yLabel: string; square?: boolean } = { xLabel: "epoch", yLabel: "" },
): string {
  const W = opts.square ? 360 : 560;
  const H = 320;
  const pad = { l: 64, r: 16, t: 28, b: 40 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<p>${esc(title)}: no data</p>`;
  let [x0, x1] = extent(all.map((p) => p[0]));
  let [y0, y1] = extent(all.map((p) => p[1]));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const lines = series
    .filter((s) => s.points.length)
    .map(
      (s) =>
        `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"><title>${esc(s.name)}</title></polyline>`,
    );
  const legend = series.map(
    (s, i) =>
      `<text x="${W - pad.r - 4}" y="${pad.t + 14 + i * 16}" text-anchor="end" fill="${s.color}" font-size="12">${esc(s.name)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#333"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#333"/>`,
    `<text x="${pad.l}" y="${H - pad.b + 16}" font-size="11" text-anchor="middle">${fmt(x0)}</text>`,
    `<text x="${W - pad.r}" y="${H - pad.b + 16}" font-size="11" text-anchor="end">${fmt(x1)}</text>`,
    `<text x="${pad.l - 6}" y="${H - pad.b}" font-size="11" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="${pad.l - 6}" y="${pad.t + 8}" font-size="11" text-anchor="end">${fmt(y1)}</text>`,
    `<text x="${(W + pad.l) / 2}" y="${H - 8}" font-size="12" text-anchor="middle">${esc(opts.xLabel)}</text>`,
    `<text x="14" y="${H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">${esc(opts.yLabel)}</text>`,
    ...lines,
    ...legend,
    `</svg>`,
  ].join("\n");
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

export interface ReportInput {
  runId: string;
  task: string;
  backend: string;
  history: EpochLog[];
  test: Record<string, unknown> | null;
  roc?: RocPoint[];
  spec: unknown;
  /** Training seconds summed over attempts. */
  trainSeconds: number;
  samplesPerSecond: number;
  /** GPU time of the run's attempts (run.json `usage`); absent for reports made before it existed. */
  usage?: TrainerUsage;
}

export function renderReport(r: ReportInput): string {
  const epochs = r.history.map((h) => h.epoch);
  const curve = (name: string, get: (h: EpochLog) => number | undefined, color: string): Series => ({
    name,
    color,
    points: r.history.flatMap((h, i) => (get(h) === undefined ? [] : [[epochs[i], get(h)!] as [number, number]])),
  });
  const charts = [
    lineChart("Loss", [curve("loss", (h) => h.loss, PALETTE[0]), curve("val_loss", (h) => h.val_loss, PALETTE[1])], {
      xLabel: "epoch",
      yLabel: "loss",
    }),
  ];
  const metricNames = [...new Set(r.history.flatMap((h) => Object.keys(h.metrics)))].filter(
    (m) => !m.startsWith("val_"),
  );
  for (const m of metricNames) {
    charts.push(
      lineChart(
        m,
        [curve(m, (h) => h.metrics[m], PALETTE[2]), curve(`val_${m}`, (h) => h.metrics[`val_${m}`], PALETTE[3])],
        { xLabel: "epoch", yLabel: m },
      ),
    );
  }
  if (r.roc?.length) {
    const roc: Series = { name: "ROC", color: PALETTE[4], points: r.roc.map((p) => [p.fpr, p.tpr]) };
    const chance: Series = {
      name: "chance",
      color: "#999",
      points: [
        [0, 0],
        [1, 1],
      ],
    };
    charts.push(
      lineChart(`ROC (AUC ${fmt(Number(r.test?.rocAuc))})`, [roc, chance], {
        xLabel: "false positive rate",
        yLabel: "true positive rate",
        square: true,
      }),
    );
  }
  const rows = Object.entries(r.test ?? {})
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${fmt(v as number)}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln run ${esc(r.runId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}svg{margin:8px;border:1px solid #eee}pre{background:#f6f6f6;padding:1em;overflow:auto}</style>
</head><body>
<h1>Run ${esc(r.runId)}</h1>
<p>Task <b>${esc(r.task)}</b> · backend <b>${esc(r.backend)}</b> · ${r.history.length} epochs · ${r.trainSeconds.toFixed(1)} s training · ${Math.round(r.samplesPerSecond)} samples/s</p>
${r.usage ? `<p>GPU time: <b>${r.usage.gpuHours.toFixed(4)} GPU-hours</b> (${r.usage.gpus} GPU${r.usage.gpus === 1 ? "" : "s"}, ${r.usage.attempts.length} attempt${r.usage.attempts.length === 1 ? "" : "s"}) · ${esc(r.usage.basis)}</p>` : ""}
<h2>Test metrics</h2>
${rows ? `<table>${rows}</table>` : "<p>No test split (split.test = 0).</p>"}
<h2>Training curves</h2>
<div>${charts.join("\n")}</div>
<h2>Run spec</h2>
<pre>${esc(JSON.stringify(r.spec, null, 2))}</pre>
</body></html>
`;
}
