/**
 * API clients that reuse their connections. client-node 1.x gives every request a new https.Agent, so
 * each request opens a new TCP and TLS connection to the API server (on the local cluster, 160 requests/s
 * from 16 in flight, against 640-900/s with one keep-alive agent). The plugin, the dashboard and the
 * accountant make their clients here. Watches (informers) keep their own long-lived connections.
 */
import http from "node:http";
import https from "node:https";
import {
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  ServerConfiguration,
  type SecurityAuthentication,
} from "@kubernetes/client-node";

type AgentOptions = https.AgentOptions & Record<string, unknown>;

/** The TLS settings that make two agents interchangeable (a rotated client certificate needs a new one). */
const IDENTITY = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

const same = (a: unknown, b: unknown) => (Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b);

/** Authentication as the KubeConfig applies it, with its one-off agent swapped for a shared keep-alive one. */
export class KeepAliveAuthentication implements SecurityAuthentication {
  private agent?: http.Agent;
  private options?: AgentOptions;

  constructor(
    private readonly kc: KubeConfig,
    private readonly wrapAgent: (agent: http.Agent) => http.Agent = (a) => a,
  ) {}

  getName(): string {
    return "kiln-keep-alive";
  }

  async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    const made = context.getAgent();
    // Proxy agents (socks, http proxies) are left as client-node makes them.
    if (!made || (made.constructor !== https.Agent && made.constructor !== http.Agent)) return;
    const options = (made as http.Agent & { options: AgentOptions }).options;
    // A changed identity gets a new agent; the old one's requests finish and its idle sockets time out.
    if (!this.agent || !this.options || IDENTITY.some((k) => !same(options[k], this.options?.[k]))) {
      this.options = options;
      const Agent = made.constructor as typeof https.Agent;
      this.agent = this.wrapAgent(new Agent({ ...options, keepAlive: true }));
    }
    context.setAgent(this.agent);
  }

  /** Closes idle connections (a long-lived process that is done with the API). */
  destroy(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

export type ApiClientType<T> = new (config: ReturnType<typeof createConfiguration>) => T;

/** API clients of one KubeConfig. */
export interface ApiClients {
  /** `kc.makeApiClient(type)`, sharing the connections of every other client made here. */
  make<T>(apiClientType: ApiClientType<T>): T;
  /** Closes the idle connections. */
  close(): void;
}

/** Clients that share one keep-alive agent; `wrapAgent` (e.g. a traffic meter) sees that agent. */
export function keepAliveClients(kc: KubeConfig, wrapAgent?: (agent: http.Agent) => http.Agent): ApiClients {
  const auth = new KeepAliveAuthentication(kc, wrapAgent);
  return {
    make<T>(apiClientType: ApiClientType<T>): T {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error("No active cluster!");
      return new apiClientType(
        createConfiguration({
          baseServer: new ServerConfiguration(cluster.server, {}),
          authMethods: { default: auth },
        }),
      );
    },
    close: () => auth.destroy(),
  };
}
