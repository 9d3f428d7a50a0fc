/**
 * `kubectl kiln dashboard [--port P] [--address A]`: a local web dashboard of runs, queues, GPU pools and
 * team usage, like `kubectl proxy`: it acts with the user's kubeconfig and listens on loopback only.
 */
import type { Command } from "commander";
import { type Deps, globalsOf, Session } from "../context";
import { UsageError } from "../errors";
import { dashboardApi } from "../dashboard/api";
import { StoreArtifacts } from "../dashboard/artifacts";
import { isLoopback, startDashboard } from "../dashboard/server";
import { DashboardData } from "../dashboard/service";
import { informerSources } from "../dashboard/informers";
import { defaultAccounting } from "../dashboard/wiring";
import type { ClientNodeApi } from "../kube";
import { intFlag } from "./common";

/** Next to kubectl proxy's 8001, so both can run. */
export const DEFAULT_PORT = 8011;

interface DashboardFlags {
  port: string;
  address: string;
  s3Endpoint?: string;
}

export function registerDashboard(program: Command, deps: Deps): void {
  program
    .command("dashboard")
    .description(
      "serve a web dashboard on this machine: runs, queues, GPU pools, team usage (your kubeconfig, loopback only; Ctrl-C stops it)",
    )
    .option("--port <port>", "port to listen on (0 = any free port)", String(DEFAULT_PORT))
    .option("--address <address>", "loopback address to listen on (127.0.0.1, ::1 or localhost)", "127.0.0.1")
    .option(
      "--s3-endpoint <url>",
      "object store endpoint to read run outputs from, when the one the pods use is not reachable from here",
    )
    .action(async (flags: DashboardFlags, cmd: Command) => {
      const port = intFlag("--port", flags.port, 0, 65535)!;
      if (!isLoopback(flags.address))
        throw new UsageError(
          `--address ${flags.address} is not a loopback address: the dashboard shows what your kubeconfig can read, so it listens on this machine only (use 127.0.0.1, ::1 or localhost; from another machine, ssh -L ${port}:127.0.0.1:${port})`,
        );
      if (flags.s3Endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(flags.s3Endpoint))
        throw new UsageError(`--s3-endpoint ${flags.s3Endpoint} must be an http(s):// URL`);
      const globals = globalsOf(cmd);
      const session = new Session(deps, globals);
      const api = dashboardApi(session.api);
      const kc = (session.api as Partial<ClientNodeApi>).kc;
      const data = new DashboardData({
        api,
        // Pages from watches; an API without a kubeconfig (a test double) is listed instead.
        sources: kc ? informerSources(kc, globals.namespace) : undefined,
        accounting: defaultAccounting(),
        artifacts: new StoreArtifacts(api, flags.s3Endpoint ? { AWS_ENDPOINT_URL_S3: flags.s3Endpoint } : {}),
        namespace: globals.namespace,
        now: () => deps.now(),
      });
      // Fail now, not on the first page load, when the cluster is unreachable or the runs unreadable.
      let running: Awaited<ReturnType<typeof startDashboard>>;
      try {
        await data.start();
        running = await startDashboard({
          data,
          server: api.server,
          now: () => deps.now(),
          address: flags.address,
          port,
        });
      } catch (err) {
        await data.close();
        throw err;
      }
      deps.io.out(`Kiln dashboard at ${running.url} (${data.scope} of ${api.server}); Ctrl-C stops it\n`);
      await new Promise<void>((resolve) => {
        const remove = deps.onInterrupt(() => {
          remove();
          resolve();
        });
      });
      await running.close();
      deps.io.err("dashboard stopped\n");
    });
}
