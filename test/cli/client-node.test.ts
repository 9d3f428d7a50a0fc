/**
 * The real client-node path (ClientNodeApi, kubeconfig loading, ApiException/FetchError mapping)
 * against a local HTTP server that answers like the API server does (Status bodies), and against a
 * closed port. Not a cluster: the local harness adds real API-server tests.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { defaultDeps, type Deps } from "../../cli/src/context";
import { run } from "../../cli/src/main";
import { RUN_SPEC_YAML, tempFile } from "./support";

const specFile = tempFile("run.yaml", RUN_SPEC_YAML);

function kubeconfig(server: string): string {
  return tempFile(
    "kubeconfig",
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t0ken}}]
contexts: [{name: ctx, context: {cluster: c, user: u, namespace: from-context}}]
current-context: ctx
`,
  );
}

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const deps: Deps = {
    ...defaultDeps(),
    io: {
      out: (t) => {
        stdout += t;
      },
      err: (t) => {
        stderr += t;
      },
    },
    env: {},
  };
  const code = await run(argv, deps);
  return { code, stdout, stderr };
}

type Handler = (req: http.IncomingMessage, body: string) => { status: number; body: unknown };

async function withServer(handler: Handler, fn: (url: string, seen: string[]) => Promise<void>) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} auth=${req.headers.authorization}`);
      const r = handler(req, body);
      res.writeHead(r.status, { "content-type": "application/json" });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const status = (code: number, message: string, reason: string) => ({
  status: code,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code },
});

test("a closed port: 'no cluster reachable at <server>', exit 1", async () => {
  const r = await cli(["ls", "--kubeconfig", kubeconfig("https://127.0.0.1:1")]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    "error: listing runs in namespace from-context: no cluster reachable at https://127.0.0.1:1 (ECONNREFUSED); is the cluster up, and are --context/--kubeconfig right?\n",
  );
});

test("an unknown --context is named with the contexts that exist", async () => {
  const r = await cli(["ls", "--kubeconfig", kubeconfig("https://127.0.0.1:1"), "--context", "prod"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("loading the kubeconfig");
  expect(r.stderr).toContain('context "prod" is not in the kubeconfig (have: ctx)');
});

test("404 on the template + 404 on the namespace -> namespace missing; the context's namespace is used", async () => {
  await withServer(
    (req) =>
      req.url?.startsWith("/api/v1/namespaces/")
        ? status(404, 'namespaces "from-context" not found', "NotFound")
        : status(404, 'cronjobs.batch "kiln-trainer" not found', "NotFound"),
    async (url, seen) => {
      const r = await cli(["submit", "--spec", specFile, "--kubeconfig", kubeconfig(url)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("in namespace from-context: namespace from-context does not exist");
      expect(seen[0]).toBe("GET /apis/batch/v1/namespaces/from-context/cronjobs/kiln-trainer auth=Bearer t0ken");
    },
  );
});

test("403 'exceeded quota' from the real create call is reported as quota exceeded, with the server's message", async () => {
  const cronJob = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "kiln-trainer", namespace: "kiln-ml" },
    spec: {
      schedule: "0 0 31 2 *",
      suspend: true,
      jobTemplate: {
        spec: {
          template: {
            spec: {
              restartPolicy: "Never",
              containers: [
                { name: "trainer", image: "kiln/trainer:0.1.0", command: ["node", "/app/dist/main.js", "train"] },
              ],
            },
          },
        },
      },
    },
  };
  let posted:
    | {
        metadata: { name: string };
        spec: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
      }
    | undefined;
  await withServer(
    (req, body) => {
      if (req.method === "GET") return { status: 200, body: cronJob };
      posted = JSON.parse(body);
      return status(
        403,
        'jobs.batch "mpg-001" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, limited: requests.nvidia.com/gpu=8',
        "Forbidden",
      );
    },
    async (url, seen) => {
      const r = await cli(["submit", "--spec", specFile, "-n", "kiln-ml", "--kubeconfig", kubeconfig(url)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'error: creating run Job mpg-001 in namespace kiln-ml: quota exceeded in namespace kiln-ml: jobs.batch "mpg-001" is forbidden: exceeded quota: gpu-quota, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, limited: requests.nvidia.com/gpu=8\n',
      );
      expect(seen[1]).toMatch(/^POST \/apis\/batch\/v1\/namespaces\/kiln-ml\/jobs/);
      expect(posted!.metadata.name).toBe("mpg-001");
      expect(posted!.spec.template.spec.containers[0].env.find((e) => e.name === "KILN_RUN_SPEC")!.value).toContain(
        '"runId":"mpg-001"',
      );
    },
  );
});

test("--dry-run=server sends dryRun=All", async () => {
  const cron = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "kiln-trainer" },
    spec: {
      schedule: "x",
      jobTemplate: { spec: { template: { spec: { containers: [{ name: "trainer", image: "i:1" }] } } } },
    },
  };
  await withServer(
    (req, body) =>
      req.method === "GET"
        ? { status: 200, body: cron }
        : {
            status: req.method === "DELETE" ? 200 : 201,
            body: body ? JSON.parse(body) : { kind: "Status", apiVersion: "v1", status: "Success" },
          },
    async (url, seen) => {
      const r = await cli(["cancel", "x", "-n", "kiln-ml", "--dry-run=server", "--kubeconfig", kubeconfig(url)]);
      expect(seen[0]).toMatch(/^DELETE \/apis\/batch\/v1\/namespaces\/kiln-ml\/jobs\/x\?.*dryRun=All/);
      expect(seen[0]).toContain("propagationPolicy");
      expect(r.stdout).toBe("job.batch/x deleted (server dry run)\n");
      const s = await cli([
        "submit",
        "--spec",
        specFile,
        "-n",
        "kiln-ml",
        "--dry-run=server",
        "--kubeconfig",
        kubeconfig(url),
      ]);
      expect(s.stdout).toBe("job.batch/mpg-001 created (server dry run)\n");
      expect(seen[2]).toMatch(/^POST \/apis\/batch\/v1\/namespaces\/kiln-ml\/jobs\?dryRun=All/);
    },
  );
});

test("errors that are neither HTTP nor network still say what was being attempted", async () => {
  const file = tempFile(
    "kubeconfig",
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`,
  );
  const r = await cli(["status", "x", "-n", "kiln-ml", "--kubeconfig", file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    "error: reading run x in namespace kiln-ml: HTTP protocol is not allowed when skipTLSVerify is not set or false\n",
  );
});

test("ls reads its lists from the API server's watch cache (resourceVersion=0), never a quorum read", async () => {
  const empty = (kind: string) => ({ status: 200, body: { apiVersion: "v1", kind, metadata: {}, items: [] } });
  await withServer(
    (req) => (req.url?.includes("/jobsets") ? status(404, "not found", "NotFound") : empty("List")),
    async (url, seen) => {
      const r = await cli(["ls", "-A", "--kubeconfig", kubeconfig(url)]);
      expect(r.code).toBe(0);
      const lists = seen.filter((s) => /^GET \/apis?\/[^?]*(jobs|jobsets|pods|configmaps)\?/.test(s));
      expect(lists.map((s) => s.split("?")[0])).toEqual(
        expect.arrayContaining(["GET /apis/batch/v1/jobs", "GET /apis/jobset.x-k8s.io/v1alpha2/jobsets"]),
      );
      for (const s of lists) expect(s).toMatch(/[?&]resourceVersion=0(&|\s)/);
    },
  );
});
