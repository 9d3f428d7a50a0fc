/**
 * The accountant's API traffic: every HTTP request (calls, lists, watch connections) and every byte on
 * their sockets, read per pass. Watches get a new agent per connection (KubeConfig.createAgent), so the
 * meter wraps that; the API clients share one keep-alive agent (contract/kube-client.ts), which main.ts
 * hands to `agent()`. Each agent's requests and sockets are counted, watches' bytes as they stream.
 */
import type * as http from "node:http";
import type * as net from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";

export interface Traffic {
  readonly requests: number;
  /** Bytes received. */
  readonly bytes: number;
  readonly bytesSent: number;
}

type AgentMaker = (...args: unknown[]) => http.Agent;

export class TrafficMeter {
  private requests = 0;
  private closedIn = 0;
  private closedOut = 0;
  private readonly open = new Set<net.Socket>();
  private last: Traffic = { requests: 0, bytes: 0, bytesSent: 0 };

  /** Counts the traffic of every client this kubeconfig makes from now on (API clients and watches). */
  instrument(kc: KubeConfig): void {
    const target = kc as unknown as { createAgent?: AgentMaker };
    const make = target.createAgent;
    if (typeof make !== "function")
      throw new Error("@kubernetes/client-node: KubeConfig.createAgent is gone; update accountant/src/traffic.ts");
    target.createAgent = (...args: unknown[]) => this.agent(make.apply(kc, args));
  }

  /** Counts one agent's requests and socket bytes. */
  agent<A extends http.Agent>(agent: A): A {
    const a = agent as unknown as {
      addRequest: (...args: unknown[]) => void;
      createConnection: (...args: unknown[]) => net.Socket;
    };
    const addRequest = a.addRequest;
    a.addRequest = (...args: unknown[]) => {
      this.requests++;
      return addRequest.apply(agent, args);
    };
    const createConnection = a.createConnection;
    a.createConnection = (...args: unknown[]) => {
      const socket = createConnection.apply(agent, args);
      this.open.add(socket);
      socket.once("close", () => {
        this.open.delete(socket);
        this.closedIn += socket.bytesRead;
        this.closedOut += socket.bytesWritten;
      });
      return socket;
    };
    return agent;
  }

  /** Everything since the meter began. */
  total(): Traffic {
    let bytes = this.closedIn;
    let bytesSent = this.closedOut;
    for (const s of this.open) {
      bytes += s.bytesRead;
      bytesSent += s.bytesWritten;
    }
    return { requests: this.requests, bytes, bytesSent };
  }

  /** Traffic since the last call (a pass, with the watch events that came in since the one before). */
  sinceLast(): Traffic {
    const now = this.total();
    const d = {
      requests: now.requests - this.last.requests,
      bytes: now.bytes - this.last.bytes,
      bytesSent: now.bytesSent - this.last.bytesSent,
    };
    this.last = now;
    return d;
  }
}
