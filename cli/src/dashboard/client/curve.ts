/// <reference lib="dom" />
/**
 * Browser code of the run page: draws the run's training curves with uPlot from /api/runs/<ns>/<name>/curve
 * and, while the run is not finished, polls it every few seconds so the curves grow as epochs are logged.
 * Bundled with esbuild (cli/src/dashboard/assets.ts); no other script runs on the dashboard's pages.
 */
import uPlot from "uplot";

interface EpochLine {
  epoch: number;
  loss: number;
  val_loss?: number;
  metrics?: Record<string, number>;
}

interface CurveAnswer {
  curve: { epochs: EpochLine[]; metrics: string[]; done: boolean; error: string | null };
  note: string | null;
  finished: boolean;
}

const POLL_MS = 3000;
const COLORS = ["#b4451f", "#0b5cad", "#1f7a3d", "#946200", "#6b3fa0", "#555"];

/** Columns for uPlot: x = epoch, then one series per name (null where an epoch lacks it). */
function columns(epochs: EpochLine[], names: string[]): uPlot.AlignedData {
  const pick = (e: EpochLine, n: string) =>
    n === "loss" ? e.loss : n === "val_loss" ? (e.val_loss ?? null) : (e.metrics?.[n] ?? null);
  return [epochs.map((e) => e.epoch), ...names.map((n) => epochs.map((e) => pick(e, n)))] as uPlot.AlignedData;
}

class CurveChart {
  private plot?: uPlot;
  private names = "";

  constructor(
    private readonly box: HTMLElement,
    private readonly title: string,
  ) {}

  draw(epochs: EpochLine[], names: string[]): void {
    const data = columns(epochs, names);
    if (this.plot && this.names === names.join(",")) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.names = names.join(",");
    const width = Math.max(320, Math.min(this.box.parentElement?.clientWidth ?? 800, 900));
    this.plot = new uPlot(
      {
        title: this.title,
        width,
        height: 300,
        scales: { x: { time: false } },
        // Whole epochs only on the x axis.
        axes: [{ label: "epoch", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }, {}],
        series: [
          { label: "epoch" },
          ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true })),
        ],
      },
      data,
      this.box,
    );
  }
}

async function start(root: HTMLElement): Promise<void> {
  const src = root.dataset.src!;
  const lossBox = root.appendChild(document.createElement("div"));
  const metricBox = root.appendChild(document.createElement("div"));
  const status = root.appendChild(document.createElement("p"));
  status.className = "muted";
  const loss = new CurveChart(lossBox, "loss");
  const metrics = new CurveChart(metricBox, "metrics");
  let live = root.dataset.live === "true";
  for (;;) {
    try {
      const res = await fetch(src, { headers: { accept: "application/json" } });
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      const a = (await res.json()) as CurveAnswer;
      const { epochs } = a.curve;
      if (epochs.length) {
        loss.draw(epochs, epochs.some((e) => e.val_loss !== undefined) ? ["loss", "val_loss"] : ["loss"]);
        if (a.curve.metrics.length) metrics.draw(epochs, a.curve.metrics);
      }
      root.dataset.renderedEpochs = String(epochs.length);
      live = live && !a.finished;
      status.textContent = `${epochs.length} epochs${a.note ? ` · ${a.note}` : ""}${live ? " · live, refreshing every 3 s" : ""}`;
    } catch (err) {
      status.textContent = `could not load the curve: ${(err as Error).message}`;
    }
    if (!live) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const root = document.getElementById("curve");
if (root) void start(root);
