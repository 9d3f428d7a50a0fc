/**
 * The dashboard server over a fake cluster, through real HTTP requests on an ephemeral port: pages,
 * the JSON API, server-side filtering and paging, and what the server refuses.
 */
import { startDashboard } from "../../../cli/src/dashboard/server";
import { DashboardData } from "../../../cli/src/dashboard/service";
import { apiError, FIXED_NOW } from "../support";
import { podOf, trainerLog, trainingJob } from "./fake-cluster";
import { RESEARCH, sampleCluster, serve, VISION, type Served } from "./fixture";

/** The text of each cell of the table row `<tr data-run="ns/name">`, tags stripped. */
function rowCells(html: string, run: string): string[] {
  const row = new RegExp(`<tr data-run="${run}">(.*?)</tr>`).exec(html);
  if (!row) throw new Error(`no row for ${run}`);
  return [...row[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) =>
    m[1]
      .replace(/<[^>]+>/g, " ")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

describe("dashboard server", () => {
  let s: Served;
  beforeEach(async () => {
    s = await serve();
  });
  afterEach(() => s.dashboard.close());

  test("the runs page lists every run newest first with status, queue, position, why it waits, GPUs, pool, age, best metric and cost", async () => {
    const html = await s.text("/");
    const order = [...html.matchAll(/<tr data-run="([^"]+)">/g)].map((m) => m[1]);
    expect(order).toEqual([
      `${VISION}/cnn-wait-2`,
      `${VISION}/cnn-wait-1`,
      `${RESEARCH}/mpg-running`,
      `${RESEARCH}/lr-sweep`,
      `${RESEARCH}/mpg-done`,
      `${VISION}/cnn-failed`,
    ]);
    // NAMESPACE, NAME, STATUS (+reason), QUEUE, POSITION, GPUS, POOL, AGE, BEST, GPU-H, COST
    expect(rowCells(html, `${RESEARCH}/mpg-done`)).toEqual([
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
    expect(rowCells(html, `${RESEARCH}/mpg-running`)).toEqual([
      RESEARCH,
      "mpg-running",
      "Running",
      "training → kiln-research",
      "-",
      "4",
      "a10g",
      "60m",
      // A running run has no best metric in the list (its page draws the curve from the log).
      "-",
      "-",
      "-",
    ]);
    expect(rowCells(html, `${RESEARCH}/lr-sweep`).slice(2, 6)).toEqual([
      "Running 0/3",
      "training → kiln-research",
      "-",
      "1×3",
    ]);
    // The later, higher-priority Workload is first in line; the waiting reason is the Workload's condition message, escaped.
    expect(rowCells(html, `${VISION}/cnn-wait-2`).slice(2, 5)).toEqual([
      "Queued couldn&#x27;t assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor a10g, 4 more needed",
      "training → kiln-vision",
      "1",
    ]);
    expect(rowCells(html, `${VISION}/cnn-wait-1`)[2]).toContain("&lt;4&gt; more needed");
    expect(rowCells(html, `${VISION}/cnn-wait-1`)[4]).toBe("2");
    expect(html).not.toContain("<4>");
    expect(html).toContain("page 1 of 1 · 6 runs");
  });

  test("cost is worked out for the rows of the page shown only; best metrics come from pod termination messages, no log is read", async () => {
    await s.text("/?size=2");
    expect(s.accounting.runCalls).toEqual([["cnn-wait-2", "cnn-wait-1"]]);
    const logReads = s.cluster.calls.filter((c) => c.startsWith("readLog"));
    expect(logReads).toEqual([]);
    await s.text("/?size=2&page=2");
    expect(s.accounting.runCalls[1]).toEqual(["mpg-running", "lr-sweep"]);
    expect(s.cluster.calls.filter((c) => c.startsWith("readLog"))).toEqual([]);
  });

  test("filters by status, namespace and name substring, and pages on the server", async () => {
    const only = async (q: string) =>
      ((await s.json(`/api/runs${q}`)).page.items as { name: string }[]).map((r) => r.name);
    expect(await only("?status=Queued")).toEqual(["cnn-wait-2", "cnn-wait-1"]);
    expect(await only(`?namespace=${RESEARCH}`)).toEqual(["mpg-running", "lr-sweep", "mpg-done"]);
    expect(await only("?q=MPG")).toEqual(["mpg-running", "mpg-done"]);
    expect(await only(`?q=cnn&namespace=${VISION}&status=Failed`)).toEqual(["cnn-failed"]);
    const p2 = await s.json("/api/runs?size=4&page=2");
    expect(p2.page).toMatchObject({ page: 2, pages: 2, total: 6, size: 4 });
    expect(p2.page.items.map((r: { name: string }) => r.name)).toEqual(["mpg-done", "cnn-failed"]);
    expect(p2.counts).toEqual({ Queued: 2, Running: 2, Succeeded: 1, Failed: 1 });
    // Past the last page: the last page.
    expect((await s.json("/api/runs?size=4&page=99")).page.page).toBe(2);
    const html = await s.text("/?size=4");
    expect(html).toContain('href="/?page=2&amp;size=4"');
    expect(html).toContain("page 1 of 2 · 6 runs");
  });

  test.each([
    ["/?status=Sleeping", "status=Sleeping is not one of Running, Queued, Pending, Suspended, Succeeded, Failed"],
    ["/?size=0", "size=0 must be a whole number from 1 to 500"],
    ["/?page=-1", "page=-1 must be a whole number from 1 to 1000000"],
    ["/runs/Bad_NS/x", 'namespace "Bad_NS" is invalid'],
    ["/runs/kiln-research/mpg-done?index=x", "index=x must be a whole number"],
  ])("%s is a 400 naming the parameter", async (path, message) => {
    const r = await s.get(path);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain(message.replace(/"/g, "&quot;"));
  });

  test("a run page shows its facts, curve data, outputs from the store, pods and conditions", async () => {
    const html = await s.text(`/runs/${RESEARCH}/mpg-done`);
    expect(html).toContain("<h1>mpg-done</h1>");
    expect(html).toMatch(
      /<div id="curve" data-src="\/api\/runs\/kiln-research\/mpg-done\/curve" data-live="false" data-epochs="20">/,
    );
    expect(html).toContain('<script defer="" src="/assets/dashboard.js">');
    expect(html).toContain("s3://artifacts/runs/mpg-done");
    expect(html).toMatch(/run.json status <strong id="store-status">succeeded<\/strong>/);
    expect(html).toMatch(/<th>mse<\/th><td class="num">9.8700<\/td>/);
    expect(html).toContain(
      '<iframe class="report" title="report" sandbox="" src="/runs/kiln-research/mpg-done/artifacts/report.html">',
    );
    expect(html).toContain("kwok-a10g-0");
    expect(html).toContain("0.500"); // GPU-hours
    expect(html).toContain("$1.25 (g5.12xlarge, spot)");
    expect(html).toContain("simulated pod times (KWOK node)");
    // The last 10 epochs in a table, for reading without the script.
    expect(html).toMatch(/<td class="num">20<\/td><td class="num">1.2158<\/td><td class="num">1.3373<\/td>/);
  });

  test("the curve API returns every epoch line of the newest pod; a sweep point by index", async () => {
    const c = await s.json(`/api/runs/${RESEARCH}/mpg-running/curve`);
    expect(c.finished).toBe(false);
    expect(c.curve.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(c.curve.epochs[0]).toEqual({
      epoch: 1,
      loss: 9,
      val_loss: 9.9,
      metrics: { mae: 4.5 },
      msPerStep: 1.5,
      etaSeconds: 6,
    });
    expect(c.curve.metrics).toEqual(["mae"]);
    expect((await s.json(`/api/runs/${RESEARCH}/lr-sweep/curve?index=1`)).curve.epochs).toHaveLength(5);
    expect((await s.json(`/api/runs/${RESEARCH}/lr-sweep/curve`)).curve.epochs).toHaveLength(3);
    const outside = await s.get(`/api/runs/${RESEARCH}/lr-sweep/curve?index=3`);
    expect(outside.status).toBe(404);
    expect((await outside.json()).error).toBe("run lr-sweep has sweep points 0..2");
    // A new epoch in the log shows up on the next request (the page polls this while the run runs).
    const pod = s.cluster.pods.find((p) => p.metadata?.name?.startsWith("mpg-running"))!;
    s.cluster.logs.set(`${RESEARCH}/${pod.metadata!.name}`, trainerLog(8));
    expect((await s.json(`/api/runs/${RESEARCH}/mpg-running/curve`)).curve.epochs).toHaveLength(8);
  });

  test("a sweep's page shows the point asked for and links the others; its JSON has the same row", async () => {
    const html = await s.text(`/runs/${RESEARCH}/lr-sweep?index=1`);
    expect(html).toContain('data-src="/api/runs/kiln-research/lr-sweep/curve?index=1"');
    expect(html).toContain('data-epochs="5"');
    expect(html).toContain("<strong> 1 </strong>");
    expect(html).toContain('href="/runs/kiln-research/lr-sweep?index=2"');
    expect(html).toContain("3 points, parallelism 2: 0 succeeded, 0 failed, 1 running");
    const j = await s.json(`/api/runs/${RESEARCH}/lr-sweep?index=1`);
    expect(j).toMatchObject({
      name: "lr-sweep",
      status: "Running 0/3",
      completions: 3,
      index: 1,
      store: { uri: "s3://artifacts/runs/lr-sweep" },
    });
    expect(j.curve.epochs).toHaveLength(5);
  });

  test("HEAD answers like GET without a body; the favicon request is answered with no content", async () => {
    const head = await s.get("/queues", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(1000);
    expect(await head.text()).toBe("");
    expect((await s.get("/favicon.ico")).status).toBe(204);
  });

  test("an admitted run whose pod cannot be scheduled shows the scheduler's reason, in the table and on its page", async () => {
    const pod = s.cluster.pods.find((p) => p.metadata?.name?.startsWith("mpg-running"))!;
    pod.status = {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
        },
      ],
    };
    const html = await s.text(`/?namespace=${RESEARCH}`);
    expect(rowCells(html, `${RESEARCH}/mpg-running`)[2]).toBe(
      "Running pod mpg-running-0-xaa not scheduled: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
    );
    expect(await s.text(`/runs/${RESEARCH}/mpg-running`)).toContain(
      "Waiting: pod mpg-running-0-xaa not scheduled: 0/4 nodes are available",
    );
  });

  test("a queued run's page says why it waits; a run with no pods says so", async () => {
    const html = await s.text(`/runs/${VISION}/cnn-wait-1`);
    expect(html).toContain('<p class="notes" id="wait-reason">Waiting: couldn&#x27;t assign flavors');
    expect(html).toContain("no pods yet");
    expect(html).toContain("(position 2)");
  });

  test("artifacts: the report is served sandboxed; only the trainer's known files are reachable", async () => {
    const r = await s.get(`/runs/${RESEARCH}/mpg-done/artifacts/report.html`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-security-policy")).toMatch(/^sandbox;/);
    expect(await r.text()).toMatch(/<svg[^>]*aria-label="Loss"/);
    expect((await s.get(`/runs/${RESEARCH}/mpg-done/artifacts/metrics.json`)).headers.get("content-type")).toBe(
      "application/json",
    );
    expect((await s.get(`/runs/${RESEARCH}/mpg-done/artifacts/checkpoints/latest.json`)).status).toBe(404);
    expect((await s.get(`/runs/${RESEARCH}/mpg-done/artifacts/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
    const absent = await s.get(`/runs/${RESEARCH}/mpg-running/artifacts/report.html`);
    expect(absent.status).toBe(404);
    expect(await absent.text()).toContain("report.html is not in the store (yet) for run mpg-running");
  });

  test("the queues page shows quota, reservation, usage and borrowing per flavor and resource", async () => {
    const queues = await s.json("/api/queues");
    const vision = queues.find((q: { name: string }) => q.name === "kiln-vision");
    expect(vision).toMatchObject({
      cohort: "kiln",
      pending: 2,
      admitted: 1,
      stopPolicy: "None",
      holdReason: null,
      localQueues: [{ namespace: VISION, name: "training", pending: 1, admitted: 1 }],
    });
    expect(vision.resources).toEqual([
      {
        flavor: "cpu",
        resource: "cpu",
        nominal: 64,
        borrowingLimit: 0,
        lendingLimit: null,
        reserved: 0,
        used: 3.5,
        borrowed: 0,
      },
      {
        flavor: "cpu",
        resource: "memory",
        nominal: 256 * 2 ** 30,
        borrowingLimit: 0,
        lendingLimit: null,
        reserved: 0,
        used: 12 * 2 ** 30,
        borrowed: 0,
      },
      {
        flavor: "a10g",
        resource: "nvidia.com/gpu",
        nominal: 4,
        borrowingLimit: 4,
        lendingLimit: null,
        reserved: 6,
        used: 6,
        borrowed: 2,
      },
    ]);
    const html = await s.text("/queues");
    const gpuRow =
      /<section class="queue" data-queue="kiln-vision">.*?<tr data-flavor="a10g" data-resource="nvidia.com\/gpu">(.*?)<\/tr>/.exec(
        html,
      )![1];
    expect([...gpuRow.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, ""))).toEqual([
      "a10g",
      "nvidia.com/gpu",
      "4",
      "4",
      "-",
      "6",
      "6",
      "2",
      "",
    ]);
    expect(html).toContain('<td class="num nominal">256Gi</td>');
  });

  test("the GPUs page sums allocatable GPUs per pool against the requests of bound, unfinished pods", async () => {
    const pools = await s.json("/api/gpus");
    expect(pools.map((p: any) => [p.pool, p.allocatable, p.requested, p.nodes.length])).toEqual([
      ["a10g", 16, 6, 2],
      ["h100", 8, 0, 1],
    ]);
    expect(pools[0].nodes[0]).toEqual({
      name: "kwok-a10g-0",
      ready: true,
      simulated: true,
      allocatable: 8,
      requested: 4,
      pods: 1,
    });
    const html = await s.text("/gpus");
    expect(html).toContain(
      '<tr data-pool="a10g"><td>a10g</td><td class="num">2</td><td class="num allocatable">16</td><td class="num requested">6</td><td class="num">10</td>',
    );
    expect(html).toContain("(simulated, KWOK)");
  });

  test("the teams page shows usage against budget and a held team's reason", async () => {
    const html = await s.text("/teams");
    expect(html).toContain('<tr data-team="research">');
    expect(html).toContain("41.5 GPU-h of 40.0 GPU-h (2026-11)");
    expect(html).toContain("held: GPU-hour budget 40 for 2026-11 spent (41.5)");
    expect(html).toContain('class="fill over"');
    expect(html).toContain("no budget");
    expect(html).toContain("Since 2026-11-01");
  });

  test("serves its own script bundle (uPlot included) and stylesheet, no external asset", async () => {
    const js = await s.get("/assets/dashboard.js");
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const body = await js.text();
    expect(body.length).toBeGreaterThan(20_000);
    expect(body).toContain("renderedEpochs");
    expect((await s.get("/assets/dashboard.css")).status).toBe(200);
    const html = await s.text(`/runs/${RESEARCH}/mpg-done`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  test("refuses other methods, other Host names (DNS rebinding) and unknown paths; sends no CORS header", async () => {
    const post = await s.get("/", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const rebound = await new Promise<number>((resolve, reject) => {
      // fetch cannot set Host: a raw request can.
      const req = require("node:http").request(
        { host: "127.0.0.1", port: s.dashboard.port, path: "/", headers: { host: "evil.example:80" } },
        (res: any) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(rebound).toBe(421);
    expect((await s.get("/api/v1/namespaces")).status).toBe(404);
    expect((await s.get("/runs/kiln-research/nope")).status).toBe(404);
    const r = await s.get("/", { headers: { origin: "http://evil.example" } });
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(r.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  test("a kubeconfig that may not read nodes gets a GPUs page saying what access it needs", async () => {
    s.cluster.listNodes = async () => {
      throw apiError(403, 'nodes is forbidden: User "dev" cannot list resource "nodes"', "Forbidden");
    };
    const r = await s.get("/gpus");
    expect(r.status).toBe(502);
    expect(await r.text()).toContain(
      "listing nodes and pods for GPU allocation: forbidden (403): nodes is forbidden: User &quot;dev&quot; cannot list resource &quot;nodes&quot;; this page needs cluster-wide read access to nodes and pods",
    );
  });

  test("an API server failure is a 502 page saying what was being attempted", async () => {
    s.cluster.failNext = apiError(403, 'jobs.batch is forbidden: User "dev" cannot list resource "jobs"', "Forbidden");
    const r = await s.get("/");
    expect(r.status).toBe(502);
    expect(await r.text()).toContain(
      "listing runs in all namespaces: forbidden (403): jobs.batch is forbidden: User &quot;dev&quot; cannot list resource &quot;jobs&quot;; show one team&#x27;s namespace instead: kubectl kiln dashboard -n &lt;namespace&gt;",
    );
  });
});

describe("dashboard server with a store that does not answer", () => {
  test("the run page comes without its outputs after the store timeout, saying so", async () => {
    const cluster = sampleCluster();
    const data = new DashboardData({
      api: cluster,
      accounting: null,
      artifacts: {
        open: async (job) => ({
          uri: `s3://artifacts/runs/${job.metadata!.name}`,
          get: () => new Promise(() => undefined),
        }),
      },
      now: () => FIXED_NOW,
      ttlMs: 0,
      storeTimeoutMs: 300,
    });
    const d = await startDashboard({
      data,
      server: cluster.server,
      now: () => FIXED_NOW,
      address: "127.0.0.1",
      port: 0,
    });
    try {
      const t = Date.now();
      const html = await (await fetch(new URL(`/runs/${RESEARCH}/mpg-done`, d.url))).text();
      expect(Date.now() - t).toBeLessThan(3000);
      expect(html).toContain(
        "cannot read the store at s3://artifacts/runs/mpg-done: the store did not answer within 0.3 s",
      );
      expect(html).toContain('data-epochs="20"');
    } finally {
      await d.close();
    }
  });
});

/** A dashboard over `cluster` whose store holds `files` for run `run` only (S3 URIs under s3://artifacts/runs). */
async function serveWithStore(cluster: ReturnType<typeof sampleCluster>, run: string, files: Record<string, string>) {
  const artifacts = {
    open: async (job: any) => ({
      uri: `s3://artifacts/runs/${job.metadata.name}`,
      get: async (k: string) => (job.metadata.name === run && files[k] ? Buffer.from(files[k]) : undefined),
    }),
  };
  const data = new DashboardData({ api: cluster, accounting: null, artifacts, now: () => FIXED_NOW, ttlMs: 0 });
  return startDashboard({ data, server: cluster.server, now: () => FIXED_NOW, address: "127.0.0.1", port: 0 });
}

/** A succeeded run `name` of the research team's training queue, added to `cluster`. */
function finishedRun(cluster: ReturnType<typeof sampleCluster>, name: string, created: string) {
  const job = trainingJob({ ns: RESEARCH, name, phase: "Succeeded", created, queue: "training" });
  cluster.jobs.set(`${RESEARCH}/${name}`, job);
  return job;
}

describe("a finished run's curve and the store", () => {
  test("whose pods are gone: its curve and best metric come from metrics.json in the store", async () => {
    const cluster = sampleCluster();
    finishedRun(cluster, "mpg-old", "2026-11-01T09:00:00Z");
    const history = [1, 2, 3].map((epoch) => ({
      epoch,
      loss: 4 - epoch,
      val_loss: 5 - epoch,
      metrics: { mae: 1 },
      samplesPerSecond: 100,
      msPerStep: 2,
      etaSeconds: 0,
    }));
    const d = await serveWithStore(cluster, "mpg-old", {
      "metrics.json": JSON.stringify({ history, test: { mse: 1.5 } }),
      "run.json": JSON.stringify({ status: "succeeded", attempts: 1 }),
    });
    try {
      const runs = await (await fetch(new URL("/api/runs?q=mpg-old", d.url))).json();
      // The list reads no store: a run whose pods are gone has no best metric there; its page has the curve.
      expect(runs.page.items[0]).toMatchObject({ name: "mpg-old", bestMetric: null });
      const c = await (await fetch(new URL(`/api/runs/${RESEARCH}/mpg-old/curve`, d.url))).json();
      expect(c.note).toBe("from metrics.json in the store: the run's pods are gone");
      expect(c.curve.epochs.map((e: { loss: number }) => e.loss)).toEqual([3, 2, 1]);
      const html = await (await fetch(new URL(`/runs/${RESEARCH}/mpg-old`, d.url))).text();
      expect(html).toContain('data-epochs="3"');
      expect(html).toContain("from metrics.json in the store: the run&#x27;s pods are gone");
    } finally {
      await d.close();
    }
  });

  test("that resumed from a checkpoint: the stored history of every attempt, the last pod's epoch lines over it", async () => {
    const cluster = sampleCluster();
    const job = finishedRun(cluster, "mpg-resumed", "2026-11-28T09:00:00Z");
    const pod = podOf(job, { node: "kwok-a10g-1", phase: "Succeeded" });
    cluster.pods.push(pod);
    // The resumed pod logged epochs 4..6 only (with a done event); metrics.json has 1..6, epoch 6 stored as 0.5.
    const full = trainerLog(6).trim().split("\n");
    const resumed = [full[0], ...full.slice(4), JSON.stringify({ event: "done", runId: "r" })];
    cluster.logs.set(`${RESEARCH}/${pod.metadata!.name}`, `${resumed.join("\n")}\n`);
    const history = full.slice(1).map((l) => JSON.parse(l));
    history[5] = { ...history[5], loss: 0.5 };
    const d = await serveWithStore(cluster, "mpg-resumed", { "metrics.json": JSON.stringify({ history }) });
    try {
      const c = await (await fetch(new URL(`/api/runs/${RESEARCH}/mpg-resumed/curve`, d.url))).json();
      expect(c.note).toBeNull();
      expect(c.curve.done).toBe(true);
      expect(c.curve.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      // Where both have an epoch, the log's line is shown.
      expect(c.curve.epochs[5].loss).toBe(JSON.parse(full[6]).loss);
      expect(c.curve.epochs[0]).toEqual(history[0]);
      const page = await (await fetch(new URL(`/api/runs/${RESEARCH}/mpg-resumed`, d.url))).json();
      expect(page.curve.epochs).toHaveLength(6);
      expect(await (await fetch(new URL(`/runs/${RESEARCH}/mpg-resumed`, d.url))).text()).toContain('data-epochs="6"');
    } finally {
      await d.close();
    }
  });
});

describe("dashboard server limited to one namespace (-n)", () => {
  test("lists that namespace's runs only and refuses run pages of others", async () => {
    const s = await serve(sampleCluster(), { namespace: VISION });
    try {
      const runs = await s.json("/api/runs");
      expect(runs.page.items.map((r: { namespace: string }) => r.namespace)).toEqual([VISION, VISION, VISION]);
      expect(s.cluster.calls).toContain(
        `listJobs ${VISION} app.kubernetes.io/part-of=kiln,app.kubernetes.io/component=training-run,!jobset.sigs.k8s.io/jobset-name`,
      );
      expect(s.cluster.calls).toContain(
        `listJobSets ${VISION} app.kubernetes.io/part-of=kiln,app.kubernetes.io/component=training-run`,
      );
      expect((await s.get(`/runs/${RESEARCH}/mpg-done`)).status).toBe(404);
    } finally {
      await s.dashboard.close();
    }
  });

  test("a run created after the snapshot is found by name", async () => {
    const cluster = sampleCluster();
    const s = await serve(cluster, { ttlMs: 60_000 });
    try {
      await s.text("/");
      const late = trainingJob({ ns: RESEARCH, name: "mpg-late", phase: "Running", created: "2026-11-28T11:59:00Z" });
      cluster.jobs.set(`${RESEARCH}/mpg-late`, late);
      const pod = podOf(late, { node: "kwok-a10g-1" });
      cluster.pods.push(pod);
      cluster.logs.set(`${RESEARCH}/${pod.metadata!.name}`, trainerLog(2));
      expect(await s.text(`/runs/${RESEARCH}/mpg-late`)).toContain('data-epochs="2"');
    } finally {
      await s.dashboard.close();
    }
  });
});
