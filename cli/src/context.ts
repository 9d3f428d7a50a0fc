/**
 * What every command gets: output streams, a clock, randomness, and a lazily built Kubernetes session
 * for the global -n/--context/--kubeconfig options (dry runs from --template never build one).
 */
import { spawn as spawnChild } from "node:child_process";
import type { Command } from "commander";
import { CliError, UsageError } from "./errors";
import { validateDnsLabel, validateVisible } from "./job";
import { checkLocalPath, LocalPathError } from "../../trainer-image/src/api";
import type * as Kube from "./kube";
import type { KubeApi, KubeOptions } from "./kube";
import type { Io } from "./output";

export interface GlobalOptions extends KubeOptions {
  readonly namespace?: string;
}

/** Result of a local child process (run-local). */
export interface SpawnResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Deps {
  readonly io: Io;
  now(): Date;
  random(): number;
  /** Builds the API for the global options and returns the context's default namespace. */
  connect(opts: KubeOptions): { api: KubeApi; defaultNamespace: string };
  /** Default namespace without connecting (kubeconfig context, else "default"). */
  defaultNamespace(opts: KubeOptions): string;
  /** Runs a local program with inherited stdio (run-local). */
  spawn(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<SpawnResult>;
  /** Registers a SIGINT handler; returns its remover. */
  onInterrupt(handler: () => void): () => void;
  readonly env: NodeJS.ProcessEnv;
}

/** A command's view of the cluster: namespace resolved once, API built on first use. */
export class Session {
  private cached?: { api: KubeApi; defaultNamespace: string };

  constructor(
    private readonly deps: Deps,
    readonly globals: GlobalOptions,
  ) {}

  get api(): KubeApi {
    if (!this.cached) {
      try {
        this.cached = this.deps.connect(this.globals);
      } catch (err) {
        throw new CliError(
          `loading the kubeconfig${this.globals.kubeconfig ? ` ${this.globals.kubeconfig}` : ""}: ${(err as Error).message.split("\n")[0]}`,
        );
      }
    }
    return this.cached.api;
  }

  /** -n, else the kubeconfig context's namespace, else "default". */
  get namespace(): string {
    if (this.globals.namespace) return this.globals.namespace;
    if (this.cached) return this.cached.defaultNamespace;
    try {
      return this.deps.defaultNamespace(this.globals);
    } catch {
      return "default";
    }
  }
}

/** The global options of the root program, wherever they were given on the command line. */
export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  // Checked where they enter, so no verb sends a look-alike or invisible name to the API server.
  if (o.namespace !== undefined) validateDnsLabel("-n/--namespace", o.namespace, MAX_NAMESPACE);
  if (o.context !== undefined) validateVisible("--context", o.context);
  if (o.kubeconfig !== undefined) {
    try {
      checkLocalPath("--kubeconfig", o.kubeconfig, "read-file");
    } catch (err) {
      throw err instanceof LocalPathError ? new UsageError(err.message) : err;
    }
  }
  return { namespace: o.namespace, context: o.context, kubeconfig: o.kubeconfig };
}

/** A namespace is a DNS label of at most 63 characters. */
export const MAX_NAMESPACE = 63;

/** @kubernetes/client-node is loaded on first use: --help, usage errors and client dry runs start faster. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kube = (): typeof Kube => require("./kube");

/** Production dependencies. */
export function defaultDeps(): Deps {
  return {
    io: { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) },
    now: () => new Date(),
    random: Math.random,
    connect(opts) {
      const { ClientNodeApi, contextNamespace, loadKubeConfig } = kube();
      const kc = loadKubeConfig(opts);
      return { api: new ClientNodeApi(kc), defaultNamespace: contextNamespace(kc) };
    },
    defaultNamespace: (opts) => kube().contextNamespace(kube().loadKubeConfig(opts)),
    spawn(command, args, env) {
      return new Promise((resolve, reject) => {
        const child = spawnChild(command, args, { env, stdio: "inherit" });
        const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
        const onTerm = forward("SIGTERM");
        process.on("SIGTERM", onTerm);
        child.on("error", reject);
        child.on("exit", (code, signal) => {
          process.off("SIGTERM", onTerm);
          resolve({ code, signal });
        });
      });
    },
    onInterrupt(handler) {
      process.on("SIGINT", handler);
      return () => process.off("SIGINT", handler);
    },
    env: process.env,
  };
}
