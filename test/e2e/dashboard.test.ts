/**
 * Scenario: `kubectl kiln dashboard` against the local cluster, in headless Chromium (Debian's chromium,
 * driven by playwright-core). A run trains on the real node; its page draws as many epochs as its pod
 * logged and shows its outputs from MinIO. A long simulated run holds GPU quota; the queues page shows the
 * team's ClusterQueue quota and usage as the API has them. A run asking for more GPUs than the cohort has
 * waits; the runs table shows the reason Kueue gives on its Workload. Screenshots go to .kiln/screenshots.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser } from "playwright-core";
import YAML from "yaml";
import { GPU_RESOURCE } from "../../contract/gpu";

import { cellTexts, CHROMIUM, hasChromium, launch, screenshotDir, watchedPage } from "../cli/dashboard/browser";
import {
  createJobFromTemplate,
  ensureStack,
  startDashboard,
  harnessConfig,
  jobPods,
  jobSucceeded,
  kiln,
  kubectl,
  kubectlBin,
  kubectlJson,
  must,
  ROOT,
  runName,
  waitFor,
  waitScheduled,
} from "./harness";
import { RUN_SELECTOR } from "../../contract/labels";

jest.setTimeout(15 * 60_000);

const epochLines = (log: string) => log.split("\n").filter((l) => /^\{.*"epoch":\d+.*"loss"/.test(l)).length;

describe("kubectl kiln dashboard against the local cluster", () => {
  let ns = "";
  let team = "";
  let browser: Browser;
  let dash: Awaited<ReturnType<typeof startDashboard>>;
  const shots = screenshotDir();
  const trained = runName("e2e-dash-train");
  const holding = runName("e2e-dash-hold");
  const waiting = runName("e2e-dash-wait");

  beforeAll(async () => {
    if (!hasChromium())
      throw new Error(`no Chromium at ${CHROMIUM}: bash scripts/test/install-browser.sh (root), or set KILN_CHROMIUM`);
    const store = await ensureStack();
    ({ namespace: ns, name: team } = harnessConfig().teams[0]);
    const text = await must(kubectlBin(), [
      "get",
      "configmap",
      "kiln-run-spec",
      "-n",
      ns,
      "-o",
      "jsonpath={.data.spec\\.yaml}",
    ]);
    const doc = YAML.parse(text);
    doc.training = { ...doc.training, epochs: 8 };
    const spec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-e2e-dash-")), "spec.yaml");
    fs.writeFileSync(spec, YAML.stringify(doc));
    const r = await kiln(["submit", "-n", ns, "--spec", spec, "--name", trained]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    // Holds one GPU of the team's quota for the whole suite (a simulated node: no real training).
    await createJobFromTemplate(ns, holding, { gpus: 1, runSeconds: 1800 });
    // More GPUs than every pool together: Kueue can never admit it, and says why on its Workload.
    const allGpus = harnessConfig().gpuPools.reduce((s, p) => s + p.maxGpus, 0);
    await createJobFromTemplate(ns, waiting, { gpus: allGpus + 1, runSeconds: 10 });
    dash = await startDashboard(["--s3-endpoint", store.endpoint]);
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    if (dash && dash.child.exitCode === null) {
      const exited = new Promise((r) => dash.child.once("exit", r));
      dash.child.kill("SIGINT");
      await exited;
    }
    for (const n of [trained, holding, waiting])
      await kubectl(["delete", "job", n, "-n", ns, "--ignore-not-found", "--wait=false"]);
  });

  it("the runs table lists the namespace's runs as the API has them, with the waiting run's reason from its Workload", async () => {
    await waitScheduled(ns, holding);
    const wl = await waitFor(`a Workload for ${waiting} with a QuotaReserved=False message`, 120_000, async () => {
      const list = await kubectlJson<{ items: any[] }>(["get", "workloads.kueue.x-k8s.io", "-n", ns]);
      const w = list.items.find((x) => (x.metadata.ownerReferences ?? []).some((o: any) => o.name === waiting));
      const c = (w?.status?.conditions ?? []).find((k: any) => k.type === "QuotaReserved" && k.status === "False");
      return c?.message ? { message: c.message as string } : undefined;
    });
    const { page, errors } = await watchedPage(browser);
    // Jobs come and go (TTL after finishing): read the API and the page back to back until they agree.
    const rows = await waitFor(
      `the runs table of ${ns} to list the Jobs the API lists`,
      60_000,
      async () => {
        const jobs = await kubectlJson<{ items: any[] }>(["get", "jobs", "-n", ns, "-l", RUN_SELECTOR]);
        await page.goto(`${dash.url}?namespace=${ns}&size=500`);
        const cells = await cellTexts(page, "#runs tbody tr");
        const same =
          JSON.stringify(cells.map((r) => r[1]).sort()) ===
          JSON.stringify(jobs.items.map((j) => j.metadata.name).sort());
        // The holding run's pod is bound by now; KWOK marks it Running a moment later.
        return same && cells.some((r) => r[1] === holding && r[2] === "Running") ? cells : undefined;
      },
      3000,
    );
    const waitRow = rows.find((r) => r[1] === waiting)!;
    expect(waitRow[2]).toBe(`Queued ${wl.message}`.replace(/\s+/g, " "));
    expect(waitRow[4]).toMatch(/^\d+$/);
    const holdRow = rows.find((r) => r[1] === holding)!;
    expect(holdRow[2]).toBe("Running");
    expect(holdRow[5]).toBe("1");
    await page.screenshot({ path: path.join(shots, "e2e-runs.png"), fullPage: true });
    if (process.env.KILN_UPDATE_DOCS_SCREENSHOT === "1")
      await page.screenshot({ path: path.join(ROOT, "docs/dashboard.png") });
    expect(errors).toEqual([]);
  });

  it("a run that trained on the real node: its page draws every epoch its pod logged and shows its outputs from the store", async () => {
    await waitFor(`run ${trained} to succeed`, 600_000, async () => (await jobSucceeded(ns, trained)) >= 1, 2000);
    const pods = await jobPods(ns, trained);
    const log = await must(kubectlBin(), ["logs", pods[pods.length - 1].name, "-n", ns, "-c", "trainer"]);
    // At most 8 (the spec's epochs), fewer if early stopping ended it.
    const epochs = epochLines(log);
    expect(epochs).toBeGreaterThan(0);
    expect(epochs).toBeLessThanOrEqual(8);
    const { page, errors } = await watchedPage(browser);
    await page.goto(new URL(`/runs/${ns}/${trained}`, dash.url).href);
    await page.waitForSelector(`#curve[data-rendered-epochs='${epochs}']`, { timeout: 30_000 });
    expect(await page.$$eval("#curve canvas", (c) => c.length)).toBeGreaterThanOrEqual(1);
    expect(await page.textContent("#store-status")).toBe("succeeded");
    expect(await page.frameLocator("iframe.report").locator("svg").count()).toBeGreaterThan(0);
    const metrics = await page.request.get(new URL(`/runs/${ns}/${trained}/artifacts/metrics.json`, dash.url).href);
    expect(metrics.status()).toBe(200);
    expect((await metrics.json()).epochs).toBe(epochs);
    await page.screenshot({ path: path.join(shots, "e2e-run.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  it("the queues page shows the team's ClusterQueue GPU quota and usage as the API has them", async () => {
    const cqName = `kiln-${team}`;
    const { page, errors } = await watchedPage(browser);
    // Usage moves as runs start and end: compare page and API read back to back until they agree.
    const agreed = await waitFor(
      `the queues page and ClusterQueue ${cqName} to agree`,
      60_000,
      async () => {
        const cq = await kubectlJson(["get", "clusterqueues.kueue.x-k8s.io", cqName]);
        await page.goto(new URL("/queues", dash.url).href);
        const gpuGroup = cq.spec.resourceGroups.find((g: any) => g.coveredResources.includes(GPU_RESOURCE));
        const results: boolean[] = [];
        for (const flavor of gpuGroup.flavors) {
          const quota = flavor.resources.find((r: any) => r.name === GPU_RESOURCE);
          const usage = (cq.status?.flavorsUsage ?? [])
            .find((f: any) => f.name === flavor.name)
            ?.resources.find((r: any) => r.name === GPU_RESOURCE);
          const [cells] = await cellTexts(
            page,
            `[data-queue='${cqName}'] tr[data-flavor='${flavor.name}'][data-resource='${GPU_RESOURCE}']`,
          );
          results.push(
            cells[2] === String(Number(quota.nominalQuota)) &&
              cells[6] === String(Number(usage?.total ?? 0)) &&
              cells[7] === String(Number(usage?.borrowed ?? 0)),
          );
        }
        const used = (cq.status?.flavorsUsage ?? [])
          .flatMap((f: any) => f.resources)
          .filter((r: any) => r.name === GPU_RESOURCE)
          .reduce((s: number, r: any) => s + Number(r.total ?? 0), 0);
        return results.every(Boolean) && used >= 1 ? used : undefined;
      },
      2000,
    );
    expect(agreed).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: path.join(shots, "e2e-queues.png"), fullPage: true });
    expect(errors).toEqual([]);
  });

  it("the GPUs page counts the holding run's GPU on its pool's nodes", async () => {
    const [pod] = await waitScheduled(ns, holding);
    const node = await kubectlJson(["get", "node", pod.node!]);
    const pool = node.metadata.labels["kiln.dev/gpu-pool"];
    const { page } = await watchedPage(browser);
    const res = await page.request.get(new URL("/api/gpus", dash.url).href);
    expect(res.status()).toBe(200);
    const pools = await res.json();
    const mine = pools.find((p: any) => p.pool === pool);
    expect(mine.nodes.find((n: any) => n.name === pod.node).requested).toBeGreaterThanOrEqual(1);
    expect(mine.allocatable).toBeGreaterThanOrEqual(Number(node.status.allocatable[GPU_RESOURCE]));
  });

  it("Ctrl-C stops the dashboard", async () => {
    const exited = new Promise<number | null>((r) => dash.child.once("exit", (code) => r(code)));
    dash.child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(dash.output()).toContain("dashboard stopped");
  });
});
