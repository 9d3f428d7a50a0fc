/**
 * kiln-accountant's main over a tiny API server (node:http): it lists and watches, records a Job, and logs
 * one pass line with its duration and API traffic.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../accountant/src/main";
import { job, node, pod } from "./fixtures";

const NS = "kiln-research";
const lists: Record<string, unknown[]> = {
  [`/apis/batch/v1/namespaces/${NS}/jobs`]: [{ ...job("run-a", "job-a"), apiVersion: "batch/v1", kind: "Job" }],
  [`/api/v1/namespaces/${NS}/pods`]: [
    {
      ...pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:00:00Z",
      }),
      metadata: { ...pod({ name: "run-a-x", jobUid: "job-a", gpus: 1 }).metadata, namespace: NS },
    },
  ],
  [`/api/v1/namespaces/${NS}/configmaps`]: [],
  "/api/v1/nodes": [node("g5", "g5.xlarge", "on-demand", { pool: "a10g" })],
};
const written: string[] = [];
/** The methods of every write the accountant sent. */
const writeMethods: string[] = [];
let server: http.Server;
let dir: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (req.method === "GET" && url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "Content-Type": "application/json" }).flushHeaders();
      return;
    }
    if (req.method === "GET" && lists[url.pathname]) {
      res
        .writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ metadata: { resourceVersion: "1" }, items: lists[url.pathname] }));
      return;
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      writeMethods.push(req.method!);
      if (req.method === "PUT") {
        res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Status", code: 404 }));
        return;
      }
      if (req.method === "POST") {
        written.push(JSON.parse(body).metadata.name);
        res
          .writeHead(201, { "Content-Type": "application/json" })
          .end(
            JSON.stringify({ ...JSON.parse(body), metadata: { ...JSON.parse(body).metadata, resourceVersion: "2" } }),
          );
        return;
      }
      res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Status", code: 404 }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-accountant-"));
  const server_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fs.writeFileSync(
    path.join(dir, "kubeconfig"),
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: server_, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  );
  fs.writeFileSync(
    path.join(dir, "settings.json"),
    JSON.stringify({
      region: "us-east-1",
      teams: [{ name: "research", namespace: NS, clusterQueue: "kiln-research" }],
    }),
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("one pass (--once) over a real HTTP API: the Job's record is written and the pass line tells its traffic", async () => {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    lines.push(String(s));
    return true;
  });
  const env = process.env.KUBECONFIG;
  process.env.KUBECONFIG = path.join(dir, "kubeconfig");
  try {
    expect(await main(["--settings", path.join(dir, "settings.json"), "--once"])).toBe(0);
  } finally {
    write.mockRestore();
    process.env.KUBECONFIG = env;
  }
  expect(written).toEqual(["kiln-usage-run-a-job-a"]);
  // A record the watch has never shown is created outright, not replaced first (a 404, then the create).
  expect(writeMethods).toEqual(["POST"]);
  const pass = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "pass");
  // Four lists and four watches at start (the "watching" line), then this pass: the record's POST.
  expect(pass).toMatchObject({ requests: 1, jobs: 1, pods: 1, written: 1, pruned: 0 });
  expect(pass.bytes).toBeGreaterThan(0);
  expect(pass.ms).toBeGreaterThanOrEqual(0);
  const watching = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "watching");
  expect(watching).toMatchObject({ synced: true, requests: 8 });
  // Stopping aborts the watches: no warnings.
  expect(lines.filter((l) => l.includes('"level"'))).toEqual([]);
});
