/**
 * keepAliveClients against a local HTTPS server with its own CA: requests reuse connections (client-node's
 * own clients open one per request), the server's certificate is still verified, and the token still goes.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { keepAliveClients } from "../../contract/kube-client";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-kube-client-"));
const file = (name: string) => path.join(dir, name);

/** A self-signed certificate for 127.0.0.1 (openssl, as the local harness makes its own). */
function certificate(name: string): { cert: string; key: string } {
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
      .concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
      .concat(["-keyout", file(`${name}.key`), "-out", file(`${name}.crt`)]),
    { stdio: "ignore" },
  );
  return { cert: fs.readFileSync(file(`${name}.crt`), "utf8"), key: fs.readFileSync(file(`${name}.key`), "utf8") };
}

const trusted = certificate("server");
const stranger = certificate("stranger");

interface Server {
  readonly url: string;
  readonly connections: () => number;
  readonly tokens: string[];
  close(): Promise<void>;
}

async function serve(tls: { cert: string; key: string }): Promise<Server> {
  let connections = 0;
  const tokens: string[] = [];
  const server = https.createServer(tls, (req: http.IncomingMessage, res: http.ServerResponse) => {
    tokens.push(req.headers.authorization ?? "");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ apiVersion: "v1", kind: "NamespaceList", metadata: {}, items: [] }));
  });
  server.on("secureConnection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, caFile: file("server.crt") }],
    users: [{ name: "u", token: "t0ken" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

const REQUESTS = 20;

async function listNamespaces(api: CoreV1Api): Promise<void> {
  for (let i = 0; i < REQUESTS; i++) await api.listNamespace();
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("clients share one keep-alive connection where client-node opens one per request, and send the token", async () => {
  const server = await serve(trusted);
  try {
    await listNamespaces(kubeConfig(server.url).makeApiClient(CoreV1Api));
    const perRequest = server.connections();
    const clients = keepAliveClients(kubeConfig(server.url));
    await listNamespaces(clients.make(CoreV1Api));
    await listNamespaces(clients.make(CoreV1Api));
    clients.close();
    expect(perRequest).toBe(REQUESTS);
    expect(server.connections() - perRequest).toBe(1);
    expect(server.tokens).toHaveLength(3 * REQUESTS);
    expect(new Set(server.tokens)).toEqual(new Set(["Bearer t0ken"]));
  } finally {
    await server.close();
  }
});

test("the server's certificate is still checked against the kubeconfig's CA", async () => {
  const server = await serve(stranger);
  try {
    const clients = keepAliveClients(kubeConfig(server.url));
    await expect(clients.make(CoreV1Api).listNamespace()).rejects.toThrow(/self-signed|certificate/i);
    expect(server.tokens).toEqual([]);
  } finally {
    await server.close();
  }
});

test("wrapAgent sees the one shared agent (the accountant's traffic meter counts through it)", async () => {
  const server = await serve(trusted);
  try {
    const seen: http.Agent[] = [];
    const clients = keepAliveClients(kubeConfig(server.url), (agent) => {
      seen.push(agent);
      return agent;
    });
    await listNamespaces(clients.make(CoreV1Api));
    clients.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(https.Agent);
  } finally {
    await server.close();
  }
});
