/**
 * kiln-accountant: keeps every training run's usage record and every team's budget, in a loop.
 *   node accountant.js [--settings /etc/kiln/settings.json] [--once]
 * Logs one JSON line per change. SIGTERM ends it between passes.
 */
import * as fs from "node:fs";
import * as k8s from "@kubernetes/client-node";
import { WatchCache } from "./cache";
import { Health } from "./health";
import { ClientNodeAccountantApi, informerSources } from "./kube";
import { reconcile } from "./reconcile";
import { parseSettings, type Settings } from "../../contract/accounting/settings";
import { TrafficMeter } from "./traffic";
import { keepAliveClients } from "../../contract/kube-client";

const log = (fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);

export async function main(argv: readonly string[]): Promise<number> {
  const i = argv.indexOf("--settings");
  const file = i >= 0 ? argv[i + 1] : "/etc/kiln/settings.json";
  if (!file) {
    process.stderr.write("kiln-accountant: --settings needs a file\n");
    return 2;
  }
  let settings: Settings;
  try {
    settings = parseSettings(fs.readFileSync(file, "utf8"), file);
  } catch (e) {
    process.stderr.write(`kiln-accountant: ${(e as Error).message}\n`);
    return 2;
  }
  const kc = new k8s.KubeConfig();
  if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kc.loadFromCluster();
  else kc.loadFromDefault();
  const traffic = new TrafficMeter();
  traffic.instrument(kc);
  const clients = keepAliveClients(kc, (agent) => traffic.agent(agent));
  const cache = new WatchCache(
    settings.teams.map((t) => t.namespace),
    informerSources(kc, clients),
    { onError: (what, message) => log({ level: "warn", msg: `watch of ${what} failed, restarting: ${message}` }) },
  );
  const api = new ClientNodeAccountantApi(clients, cache);
  const health = new Health({ intervalSeconds: settings.intervalSeconds, synced: () => cache.synced });
  const probes = argv.includes("--once") ? undefined : await health.listen(settings.healthPort);
  let stopping = false;
  let wake: () => void = () => undefined;
  process.on("SIGTERM", () => {
    stopping = true;
    wake();
  });
  log({
    msg: "started",
    teams: settings.teams.map((t) => t.name),
    intervalSeconds: settings.intervalSeconds,
    region: settings.region,
    healthPort: probes ? settings.healthPort : null,
  });
  const stop = async () => {
    await cache.stop();
    probes?.close();
  };
  await cache.start();
  log({ msg: "watching", synced: cache.synced, errors: cache.errors, ...traffic.sinceLast() });
  let failures = 0;
  for (;;) {
    const started = performance.now();
    health.passStarted();
    try {
      if (!cache.synced) throw new Error(`the watches have not listed yet: ${cache.errors.join("; ") || "starting"}`);
      const outcomes = await reconcile(api, settings, new Date());
      for (const o of outcomes) {
        for (const p of o.problems) log({ level: "warn", team: o.team, msg: p });
        if (o.queue)
          log({
            msg: `queue ${o.queue}`,
            team: o.team,
            reason: o.budget?.reason ?? null,
            spent: o.budget?.spent,
            limit: o.budget?.limit,
            unit: o.budget?.unit,
          });
        if (o.recordsWritten) log({ msg: "records written", team: o.team, count: o.recordsWritten });
        if (o.rolledUp?.length || o.pruned)
          log({ msg: "retention", team: o.team, rolledUp: o.rolledUp, pruned: o.pruned });
      }
      const sum = (f: (o: (typeof outcomes)[number]) => number | undefined) =>
        outcomes.reduce((a, o) => a + (f(o) ?? 0), 0);
      // One line per pass for benchmarks: its duration, and the API traffic since the pass before (watch events included).
      log({
        msg: "pass",
        ms: Math.round(performance.now() - started),
        ...traffic.sinceLast(),
        jobs: sum((o) => o.seen?.jobs),
        pods: sum((o) => o.seen?.pods),
        records: sum((o) => o.seen?.records),
        written: sum((o) => o.recordsWritten),
        pruned: sum((o) => o.pruned),
        rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      });
      failures = 0;
      health.passEnded(true);
    } catch (e) {
      failures++;
      health.passEnded(false, (e as Error).message);
      log({ level: "error", msg: (e as Error).message, failures });
    }
    if (argv.includes("--once") || stopping) {
      await stop();
      return argv.includes("--once") && failures ? 1 : 0;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, settings.intervalSeconds * 1000);
    });
    if (stopping) {
      await stop();
      return 0;
    }
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`kiln-accountant: ${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
}
