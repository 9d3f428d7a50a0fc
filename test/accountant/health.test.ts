/** kiln-accountant's probes, asked over real HTTP as the kubelet asks them. */
import type * as http from "node:http";
import type { AddressInfo } from "node:net";
import { Health } from "../../accountant/src/health";

let clock = 0;
let synced = false;
let server: http.Server;
let health: Health;

const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
  return [res.status, (await res.text()).trim()] as const;
};

beforeEach(async () => {
  clock = 1_000_000;
  synced = false;
  health = new Health({ intervalSeconds: 60, synced: () => synced, now: () => clock });
  server = await health.listen(0, "127.0.0.1");
});

afterEach(async () => {
  await new Promise((r) => server.close(r));
});

describe("the accountant's probes", () => {
  test("/readyz: 503 until the watches have listed and a pass has succeeded; 503 again after a failed pass", async () => {
    expect(await get("/readyz")).toEqual([503, "the watches have not listed every Job, pod and record yet"]);
    synced = true;
    expect(await get("/readyz")).toEqual([503, "no pass has finished yet"]);
    health.passStarted();
    health.passEnded(true);
    expect(await get("/readyz")).toEqual([200, "ready"]);
    health.passEnded(false, "configmaps is forbidden");
    expect(await get("/readyz")).toEqual([503, "the last pass failed: configmaps is forbidden"]);
  });

  test("/healthz: 200 while passes begin or end within 3 intervals, 503 once the loop is stuck", async () => {
    expect(await get("/healthz")).toEqual([200, "starting"]);
    health.passStarted();
    health.passEnded(false, "the API server is down");
    // A failing pass is still a live loop: the kubelet must not restart it for the API server's sake.
    clock += 3 * 60_000;
    expect(await get("/healthz")).toEqual([200, "passing"]);
    clock += 1000;
    expect(await get("/healthz")).toEqual([503, "no pass has begun or ended for 181 s (bound 180 s)"]);
  });

  test("a short interval still gets two minutes (a first pass writes many records)", () => {
    expect(new Health({ intervalSeconds: 10, synced: () => true }).boundMs).toBe(120_000);
  });

  test("other paths are 404; a port in use names the setting", async () => {
    expect((await get("/metrics"))[0]).toBe(404);
    const port = (server.address() as AddressInfo).port;
    await expect(new Health({ intervalSeconds: 30, synced: () => true }).listen(port, "127.0.0.1")).rejects.toThrow(
      `health port ${port}: in use (settings healthPort)`,
    );
  });
});
