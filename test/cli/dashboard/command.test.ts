/** `kubectl kiln dashboard` through the real program: flags validated, the server started, Ctrl-C stops it. */
import { recordConfigMap, type UsageRecord } from "../../../contract/accounting/record";
import type { Deps } from "../../../cli/src/context";
import type { KubeApi } from "../../../cli/src/kube";
import { run } from "../../../cli/src/main";
import { connRefused, FIXED_NOW, runCli } from "../support";
import { sampleCluster } from "./fixture";

/** Deps whose Ctrl-C is `interrupt()`, with output captured. */
function interactiveDeps(api: KubeApi) {
  const out = { stdout: "", stderr: "" };
  let handler: (() => void) | undefined;
  const deps: Deps = {
    io: {
      out: (t) => {
        out.stdout += t;
      },
      err: (t) => {
        out.stderr += t;
      },
    },
    now: () => FIXED_NOW,
    random: () => 0.5,
    connect: () => ({ api, defaultNamespace: "default" }),
    defaultNamespace: () => "default",
    spawn: async () => ({ code: 0, signal: null }),
    onInterrupt: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
    env: {},
  };
  const interrupt = () => handler?.();
  return { deps, out, interrupt, listening: () => handler !== undefined };
}

async function waitForUrl(out: { stdout: string }): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = /Kiln dashboard at (http:\/\/\S+\/)/.exec(out.stdout);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no URL printed: ${out.stdout}`);
}

describe("kubectl kiln dashboard", () => {
  test.each([
    [["--address", "0.0.0.0"], "--address 0.0.0.0 is not a loopback address"],
    [["--address", "192.168.1.5"], "use 127.0.0.1, ::1 or localhost"],
    [["--port", "70000"], `--port "70000" must be a whole number from 0 to 65535`],
    [["--port", "http"], `--port "http" must be a whole number from 0 to 65535`],
    [["--s3-endpoint", "minio:9000"], "--s3-endpoint minio:9000 must be an http(s):// URL"],
  ])("%j is refused (exit 2) before anything is contacted", async (flags, message) => {
    const r = await runCli(["dashboard", ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  test("serves on the port it prints, for all namespaces, and stops on Ctrl-C", async () => {
    const cluster = sampleCluster();
    const { deps, out, interrupt } = interactiveDeps(cluster);
    const exit = run(["dashboard", "--port", "0"], deps);
    const url = await waitForUrl(out);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(out.stdout).toContain(`(all namespaces of ${cluster.server}); Ctrl-C stops it`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<tr data-run="kiln-research/mpg-done">');
    interrupt();
    expect(await exit).toBe(0);
    expect(out.stderr).toContain("dashboard stopped");
    await expect(fetch(url)).rejects.toThrow();
  });

  test("shows the accountant's usage records through the plugin's own accounting (cli/src/usage.ts)", async () => {
    const cluster = sampleCluster();
    const job = cluster.jobs.get("kiln-research/mpg-done")!;
    const usage = {
      gpuHours: 0.25,
      usd: 0.41,
      kWh: 0.08,
      co2eKg: 0.03,
      pool: "a10g",
      instanceType: "g5.48xlarge",
      capacityType: "on-demand",
      basis: ["simulated pod times (KWOK node)"],
    };
    const record: UsageRecord = {
      version: 1,
      job: "mpg-done",
      uid: job.metadata!.uid!,
      namespace: "kiln-research",
      team: "research",
      region: "us-east-1",
      created: "2026-11-28T09:00:00Z",
      spans: [],
      updated: "2026-11-28T09:10:00Z",
      usage,
      final: true,
    };
    const cm = recordConfigMap(record);
    cluster.configMaps.set(`kiln-research/${cm.metadata!.name}`, {
      ...cm,
      metadata: { ...cm.metadata, namespace: "kiln-research" },
    });
    const { deps, out, interrupt } = interactiveDeps(cluster);
    const exit = run(["dashboard", "--port", "0"], deps);
    const url = await waitForUrl(out);
    const runs = await (await fetch(`${url}api/runs?namespace=kiln-research`)).json();
    expect(runs.page.items.find((r: { name: string }) => r.name === "mpg-done").usage).toEqual(usage);
    const html = await (await fetch(`${url}runs/kiln-research/mpg-done`)).text();
    expect(html).toContain("$0.41 (g5.48xlarge, on-demand)");
    interrupt();
    expect(await exit).toBe(0);
  });

  test("-n limits it to one namespace", async () => {
    const { deps, out, interrupt } = interactiveDeps(sampleCluster());
    const exit = run(["dashboard", "--port", "0", "-n", "kiln-vision"], deps);
    const url = await waitForUrl(out);
    expect(out.stdout).toContain("(namespace kiln-vision of");
    const runs = await (await fetch(`${url}api/runs`)).json();
    expect(new Set(runs.page.items.map((r: { namespace: string }) => r.namespace))).toEqual(new Set(["kiln-vision"]));
    interrupt();
    expect(await exit).toBe(0);
  });

  test("an unreachable cluster fails at start (exit 1) saying so, with no server left behind", async () => {
    const cluster = sampleCluster();
    cluster.failNext = connRefused();
    const { deps, out, listening } = interactiveDeps(cluster);
    expect(await run(["dashboard", "--port", "0"], deps)).toBe(1);
    expect(out.stderr).toContain(
      "error: listing runs in all namespaces: no cluster reachable at https://127.0.0.1:6443 (ECONNREFUSED)",
    );
    expect(out.stdout).toBe("");
    expect(listening()).toBe(false);
  });

  test("a port in use is a clear error", async () => {
    const first = interactiveDeps(sampleCluster());
    const exit = run(["dashboard", "--port", "0"], first.deps);
    const port = new URL(await waitForUrl(first.out)).port;
    const second = interactiveDeps(sampleCluster());
    expect(await run(["dashboard", "--port", port], second.deps)).toBe(1);
    expect(second.out.stderr).toContain(`error: port ${port} on 127.0.0.1 is in use; pick another with --port`);
    first.interrupt();
    expect(await exit).toBe(0);
  });
});
