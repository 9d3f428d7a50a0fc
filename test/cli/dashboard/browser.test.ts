/**
 * The dashboard in a real browser (headless Chromium, playwright-core) over the real server and a fake
 * cluster: the runs table and its filters, a run page's curve drawn by the bundled script and growing
 * as the log grows, a queue's numbers; screenshots of each page. Skipped only when Chromium is absent.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import { trainerLog } from "./fake-cluster";
import { cellTexts, CHROMIUM, hasChromium, launch, screenshotDir, watchedPage } from "./browser";
import { RESEARCH, serve, VISION, type Served } from "./fixture";
import { describeIf } from "../../support/skips";

const missing = `no Chromium at ${CHROMIUM} (bash scripts/test/install-browser.sh, or set KILN_CHROMIUM)`;
// Skipped (loudly) on a developer's machine without Chromium; in CI a missing browser is a missing install step.
const describeWithChromium = describeIf({
  what: "the dashboard's browser tests",
  missing: hasChromium() || process.env.CI === "true" ? undefined : `no Chromium at ${CHROMIUM}`,
  enable: "sudo bash scripts/test/install-browser.sh (or set KILN_CHROMIUM)",
});
if (!hasChromium() && process.env.CI === "true") console.warn(`dashboard browser tests fail: ${missing}`);

jest.setTimeout(180_000);

describeWithChromium("the dashboard in headless Chromium", () => {
  let browser: Browser;
  let s: Served;
  const shots = screenshotDir();

  beforeAll(async () => {
    if (!hasChromium()) throw new Error(missing);
    browser = await launch();
    s = await serve();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.dashboard.close();
  });

  test("the runs table shows every run, and the status filter narrows it on the server", async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(s.dashboard.url);
    const rows = await cellTexts(page, "#runs tbody tr");
    expect(rows.map((r) => r[1])).toEqual([
      "cnn-wait-2",
      "cnn-wait-1",
      "mpg-running",
      "lr-sweep",
      "mpg-done",
      "cnn-failed",
    ]);
    const done = rows.find((r) => r[1] === "mpg-done")!;
    expect(done).toEqual([
      RESEARCH,
      "mpg-done",
      "Succeeded",
      "training → kiln-research",
      "-",
      "1",
      "a10g",
      "3h",
      "val_loss=1.3373@20",
      "0.50",
      "$1.25",
    ]);
    expect(rows.find((r) => r[1] === "cnn-wait-1")![2]).toBe(
      "Queued couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor a10g, <4> more needed",
    );
    await page.screenshot({ path: path.join(shots, "runs.png"), fullPage: true });
    if (process.env.KILN_UPDATE_DOCS_SCREENSHOT === "1")
      await page.screenshot({ path: path.resolve(__dirname, "../../../docs/dashboard.png"), fullPage: true });

    await page.selectOption("select[name=status]", "Queued");
    await Promise.all([page.waitForURL(/status=Queued/), page.click("form.filters button[type=submit]")]);
    expect((await cellTexts(page, "#runs tbody tr")).map((r) => [r[1], r[4]])).toEqual([
      ["cnn-wait-2", "1"],
      ["cnn-wait-1", "2"],
    ]);
    await page.fill("input[name=q]", "nothing-like-this");
    await Promise.all([page.waitForURL(/q=nothing-like-this/), page.click("form.filters button[type=submit]")]);
    expect(await page.textContent("#no-runs")).toContain("No runs match.");
    expect(errors).toEqual([]);
  });

  test("a run page draws the training curve from the log and extends it as new epochs are logged", async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(s.dashboard.url);
    await Promise.all([
      page.waitForURL(/\/runs\/kiln-research\/mpg-running$/),
      page.click("a[href='/runs/kiln-research/mpg-running']"),
    ]);
    await page.waitForSelector("#curve[data-rendered-epochs='7']");
    // uPlot drew two charts (loss + val_loss, and the mae metric) on canvases, with the series in its legend.
    expect(await page.$$eval("#curve canvas", (c) => c.length)).toBe(2);
    expect(await page.$$eval("#curve .u-title", (t) => t.map((x) => x.textContent))).toEqual(["loss", "metrics"]);
    expect(await page.$$eval("#curve .u-legend .u-label", (l) => l.map((x) => x.textContent))).toEqual(
      expect.arrayContaining(["loss", "val_loss", "mae"]),
    );
    expect(await page.textContent("#curve p.muted")).toContain("7 epochs · live");
    await page.screenshot({ path: path.join(shots, "run-live.png"), fullPage: true });

    const pod = s.cluster.pods.find((p) => p.metadata?.name?.startsWith("mpg-running"))!;
    s.cluster.logs.set(`${RESEARCH}/${pod.metadata!.name}`, trainerLog(9));
    await page.waitForSelector("#curve[data-rendered-epochs='9']", { timeout: 20_000 });
    // The chart's data is what the log says: with the cursor at the right edge, uPlot's legend shows epoch 9's values.
    const over = page.locator("#curve .u-over").first();
    const box = (await over.boundingBox())!;
    await over.hover({ position: { x: box.width - 1, y: box.height / 2 } });
    const legend = await page.$$eval("#curve .u-legend", (l) =>
      Array.from(l[0].querySelectorAll("tr")).map(
        (tr) => `${tr.querySelector(".u-label")?.textContent} ${tr.querySelector(".u-value")?.textContent}`,
      ),
    );
    // uPlot shows at most 3 decimals: epoch 9's loss is 3.8742 in the log, val_loss 4.2616.
    expect(legend).toEqual(["epoch 9", "loss 3.874", "val_loss 4.262"]);
    expect(errors).toEqual([]);
  });

  test("a finished run's page shows its test metrics and the trainer's report in a sandboxed frame", async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(new URL(`/runs/${RESEARCH}/mpg-done`, s.dashboard.url).href);
    await page.waitForSelector("#curve[data-rendered-epochs='20']");
    expect(await page.textContent("#store-status")).toBe("succeeded");
    const frame = page.frameLocator("iframe.report");
    // The trainer's report, with its inline SVG curves drawn (the sandbox CSP lets its inline styles and SVG through).
    expect(await frame.locator("h1").textContent()).toContain("mpg-done");
    const svg = frame.locator("svg").first();
    expect((await svg.boundingBox())!.width).toBeGreaterThan(100);
    // A sandboxed frame is painted in its own process: scrolled into view, it paints before the shot.
    await page.locator("iframe.report").scrollIntoViewIfNeeded();
    await page.locator("iframe.report").screenshot({ path: path.join(shots, "report.png") });
    await page.screenshot({ path: path.join(shots, "run-done.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  test("the queues page shows a queue's quota, usage and borrowing as the API has them", async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(new URL("/queues", s.dashboard.url).href);
    const [gpu] = await cellTexts(
      page,
      "[data-queue='kiln-vision'] tr[data-flavor='a10g'][data-resource='nvidia.com/gpu']",
    );
    const cq = s.cluster.clusterQueues.find((q) => q.metadata.name === "kiln-vision")!;
    const usage = cq.status!.flavorsUsage!.find((f) => f.name === "a10g")!.resources[0];
    const quota = cq.spec.resourceGroups![1].flavors[0].resources[0];
    expect(gpu.slice(0, 8)).toEqual([
      "a10g",
      "nvidia.com/gpu",
      String(quota.nominalQuota),
      String(quota.borrowingLimit),
      "-",
      "6",
      String(usage.total),
      String(usage.borrowed),
    ]);
    await page.screenshot({ path: path.join(shots, "queues.png"), fullPage: true });
    await page.goto(new URL("/gpus", s.dashboard.url).href);
    expect((await cellTexts(page, "#pools tbody tr")).map((r) => r.slice(0, 5))).toEqual([
      ["a10g", "2", "16", "6", "10"],
      ["h100", "1", "8", "0", "8"],
    ]);
    await page.screenshot({ path: path.join(shots, "gpus.png"), fullPage: true });
    await page.goto(new URL("/teams", s.dashboard.url).href);
    expect(await page.textContent(`tr[data-team='research']`)).toContain(
      "held: GPU-hour budget 40 for 2026-11 spent (41.5)",
    );
    await page.screenshot({ path: path.join(shots, "teams.png"), fullPage: true });
    expect(errors).toEqual([]);
    expect(fs.readdirSync(shots)).toEqual(
      expect.arrayContaining(["runs.png", "run-live.png", "run-done.png", "queues.png", "gpus.png", "teams.png"]),
    );
  });

  test(`pages of ${VISION} keep their escaping in the browser: a condition message is text, not markup`, async () => {
    const { page } = await watchedPage(browser);
    await page.goto(new URL(`/runs/${VISION}/cnn-wait-1`, s.dashboard.url).href);
    expect(await page.textContent("#wait-reason")).toContain("<4> more needed");
    expect(await page.$$("#wait-reason *")).toHaveLength(0);
  });
});
