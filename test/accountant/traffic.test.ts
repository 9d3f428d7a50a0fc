/** The pass line's API traffic: client-node's real requests to a local HTTP server, counted with their bytes. */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { TrafficMeter } from "../../accountant/src/traffic";

const JOBS = JSON.stringify({
  kind: "JobList",
  apiVersion: "batch/v1",
  metadata: { resourceVersion: "7" },
  items: [{ metadata: { name: "run-a", namespace: "kiln-research", uid: "job-a" } }],
});

let server: http.Server;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.includes("watch=true")) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(
        `${JSON.stringify({ type: "ADDED", object: { metadata: { name: "run-b", namespace: "kiln-research", uid: "job-b", resourceVersion: "8" } } })}\n`,
      );
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JOBS);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "c", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("the traffic meter", () => {
  test("counts each API call and the bytes of its response, per pass", async () => {
    const meter = new TrafficMeter();
    meter.instrument(kc);
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    await batch.listNamespacedJob({ namespace: "kiln-research" });
    await batch.listNamespacedJob({ namespace: "kiln-research" });
    await new Promise((r) => setTimeout(r, 20));
    const pass = meter.sinceLast();
    expect(pass.requests).toBe(2);
    // Two responses: each body plus its status line and headers.
    expect(pass.bytes).toBeGreaterThan(2 * JOBS.length);
    expect(pass.bytes).toBeLessThan(2 * (JOBS.length + 400));
    expect(pass.bytesSent).toBeGreaterThan(0);
    expect(meter.sinceLast()).toEqual({ requests: 0, bytes: 0, bytesSent: 0 });
  });

  test("a watch is one request whose streamed events count while it stays open", async () => {
    const meter = new TrafficMeter();
    meter.instrument(kc);
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const informer = k8s.makeInformer(kc, "/apis/batch/v1/namespaces/kiln-research/jobs", () =>
      batch.listNamespacedJob({ namespace: "kiln-research" }),
    );
    const added: string[] = [];
    informer.on("add", (j) => added.push(j.metadata!.name!));
    await informer.start();
    await new Promise((r) => setTimeout(r, 50));
    const t = meter.sinceLast();
    await informer.stop();
    expect(added.sort()).toEqual(["run-a", "run-b"]);
    // The list and the watch.
    expect(t.requests).toBe(2);
    expect(t.bytes).toBeGreaterThan(JOBS.length + 60);
  });
});
