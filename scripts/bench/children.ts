/**
 * The processes the bench runs beside the cluster: the accountant (as it is in accountant/src today, its
 * log to a file, scripts/bench/http-meter.ts preloaded) and the dashboard (`kubectl kiln dashboard`),
 * which a prober asks for the runs page and /api/runs once a second.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

export interface Child {
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

function child(proc: ChildProcess): Child {
  return {
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        proc.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill("SIGTERM");
      }),
  };
}

export interface AccountantTeam {
  readonly name: string;
  readonly namespace: string;
  readonly clusterQueue: string;
}

/** Starts the accountant with a settings file for the bench's teams; its stdout+stderr go to logFile. */
export function startAccountant(
  dir: string,
  logFile: string,
  teams: readonly AccountantTeam[],
  intervalSeconds: number,
): Child {
  const settings = path.join(dir, "accountant-settings.json");
  // Its health endpoint on a port of its own: the harness's Kueue holds the default 8080 on this host.
  const healthPort = Number(process.env.BENCH_ACCOUNTANT_HEALTH_PORT ?? 18080);
  fs.writeFileSync(settings, JSON.stringify({ region: "us-east-1", intervalSeconds, healthPort, teams }, null, 2));
  const out = fs.openSync(logFile, "w");
  const proc = spawn(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      "-r",
      path.join(__dirname, "http-meter.ts"),
      path.join(REPO_ROOT, "accountant/src/main.ts"),
      "--settings",
      settings,
    ],
    { cwd: REPO_ROOT, env: process.env, stdio: ["ignore", out, out] },
  );
  return child(proc);
}

/**
 * Node's arguments for `kubectl kiln ARGS`: the compiled plugin cluster.sh built (BENCH_PLUGIN_MAIN), as
 * users run it, else cli/bin (which runs the TypeScript sources when there is no build).
 */
export function pluginArgs(args: readonly string[]): string[] {
  const main = process.env.BENCH_PLUGIN_MAIN;
  return main
    ? ["-e", "require(process.argv[1]).main()", main, ...args]
    : [path.join(REPO_ROOT, "cli/bin/kubectl-kiln"), ...args];
}

/** Starts `kubectl kiln dashboard --port 0` and resolves with its URL once it prints it. */
export async function startDashboard(logFile: string, timeoutMs = 120_000): Promise<Child & { url: string }> {
  const proc = spawn(process.execPath, pluginArgs(["dashboard", "--port", "0"]), {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = fs.createWriteStream(logFile);
  let text = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the dashboard printed no URL in ${timeoutMs / 1000}s; read ${logFile}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      log.write(d);
      text += d.toString();
      const m = /Kiln dashboard at (http:\/\/\S+\/)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`kubectl kiln dashboard exited ${code}; read ${logFile}`)));
  });
  return { ...child(proc), url };
}

export interface Probe {
  stop(): { [page: string]: { ms: number[]; failures: number } };
}

/** Asks each page once every periodMs, one request at a time, recording latencies of 200 answers. */
export function probePages(base: string, pages: readonly string[], periodMs = 1000): Probe {
  const results: { [page: string]: { ms: number[]; failures: number } } = {};
  for (const p of pages) results[p] = { ms: [], failures: 0 };
  let running = true;
  void (async () => {
    while (running) {
      for (const p of pages) {
        const t = performance.now();
        try {
          const res = await fetch(new URL(p, base), { signal: AbortSignal.timeout(30_000) });
          await res.arrayBuffer();
          if (res.ok) results[p].ms.push(performance.now() - t);
          else results[p].failures++;
        } catch {
          results[p].failures++;
        }
      }
      await new Promise((r) => setTimeout(r, periodMs));
    }
  })();
  return {
    stop: () => {
      running = false;
      return results;
    },
  };
}

/** Wall time of one command of the plugin binary (what a user waits for), with its exit code; killed after timeoutMs (code null). */
export function timePlugin(
  args: readonly string[],
  timeoutMs = 180_000,
): Promise<{ seconds: number; code: number | null; stderr: string; stdoutBytes: number }> {
  const t = performance.now();
  const proc = spawn(process.execPath, pluginArgs(args), {
    cwd: REPO_ROOT,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdoutBytes = 0;
  proc.stdout!.on("data", (d: Buffer) => (stdoutBytes += d.length));
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    stderr = `killed after ${timeoutMs / 1000} s\n${stderr}`;
    proc.kill("SIGKILL");
  }, timeoutMs);
  return new Promise((resolve) =>
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ seconds: (performance.now() - t) / 1000, code, stderr: stderr.slice(0, 500), stdoutBytes });
    }),
  );
}
