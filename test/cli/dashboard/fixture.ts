/** One small cluster in every state the dashboard shows, and a server over it on an ephemeral port. */
import type { V1Job } from "@kubernetes/client-node";
import { renderReport } from "../../../trainer-image/src/report";
import type { Accounting, RunUsage, TeamUsage } from "../../../cli/src/dashboard/accounting";
import type { ArtifactSource, RunStore } from "../../../cli/src/dashboard/artifacts";
import { startDashboard, type RunningDashboard } from "../../../cli/src/dashboard/server";
import { DashboardData } from "../../../cli/src/dashboard/service";
import { FIXED_NOW } from "../support";
import {
  clusterQueue,
  FakeCluster,
  gpuNode,
  localQueue,
  podOf,
  trainerLog,
  trainerMessage,
  trainingJob,
  workloadFor,
} from "./fake-cluster";

export const RESEARCH = "kiln-research";
export const VISION = "kiln-vision";

/** Accounting with fixed figures: 0.5 GPU-hours and $1.25 per finished run, a budget for research. */
export class FakeAccounting implements Accounting {
  readonly runCalls: string[][] = [];
  async usageOfRuns(_api: unknown, jobs: readonly V1Job[]) {
    this.runCalls.push(jobs.map((j) => j.metadata!.name!));
    const out = new Map<string, RunUsage>();
    for (const j of jobs) {
      if (!j.status?.completionTime) continue;
      out.set(`${j.metadata!.namespace}/${j.metadata!.name}`, {
        gpuHours: 0.5,
        usd: 1.25,
        kWh: 0.15,
        co2eKg: 0.06,
        pool: "a10g",
        instanceType: "g5.12xlarge",
        capacityType: "spot",
        basis: ["simulated pod times (KWOK node)"],
      });
    }
    return out;
  }
  async usageOfTeams(): Promise<TeamUsage[]> {
    return [
      {
        team: "research",
        namespace: RESEARCH,
        runs: 3,
        gpuHours: 41.5,
        usd: 120.5,
        kWh: 12.4,
        co2eKg: 4.9,
        budget: {
          team: "research",
          unit: "gpuHours",
          limit: 40,
          spent: 41.5,
          period: "2026-11",
          held: true,
          reason: "GPU-hour budget 40 for 2026-11 spent (41.5)",
          figures: { gpuHours: 41.5, usd: 120.5, kWh: 12.4, co2eKg: 4.9 },
        },
      },
      { team: "vision", namespace: VISION, runs: 2, gpuHours: 3, usd: null, kWh: 0.9, co2eKg: 0.3, budget: null },
    ];
  }
}

const HISTORY = Array.from({ length: 20 }, (_, i) => ({
  epoch: i + 1,
  loss: 10 * 0.9 ** (i + 1),
  val_loss: 11 * 0.9 ** (i + 1),
  metrics: { mae: 5 * 0.9 ** (i + 1) },
  samplesPerSecond: 900,
  msPerStep: 1.5,
  etaSeconds: 19 - i,
}));

/** A store holding run.json, metrics.json and report.html for the succeeded run only. */
export class FakeArtifacts implements ArtifactSource {
  async open(job: V1Job): Promise<RunStore> {
    const name = job.metadata!.name!;
    const files: Record<string, string> =
      name === "mpg-done"
        ? {
            "run.json": JSON.stringify({ runId: name, status: "succeeded", attempts: 1 }),
            "metrics.json": JSON.stringify({ test: { mse: 9.87, mae: 2.34 } }),
            // The trainer's own report (inline SVG curves): it must show under the dashboard's sandbox CSP.
            "report.html": renderReport({
              runId: name,
              task: "regression",
              backend: "cpu",
              history: HISTORY,
              test: { mse: 9.87, mae: 2.34 },
              spec: { task: "regression" },
              trainSeconds: 12,
              samplesPerSecond: 900,
            }),
          }
        : {};
    return {
      uri: `s3://artifacts/runs/${name}`,
      get: async (k) => (files[k] === undefined ? undefined : Buffer.from(files[k])),
    };
  }
}

export function sampleCluster(): FakeCluster {
  const k = new FakeCluster();
  k.namespaces.add(RESEARCH).add(VISION);
  const done = trainingJob({
    ns: RESEARCH,
    name: "mpg-done",
    phase: "Succeeded",
    created: "2026-11-28T09:00:00Z",
    queue: "training",
    pool: "a10g",
  });
  const running = trainingJob({
    ns: RESEARCH,
    name: "mpg-running",
    phase: "Running",
    gpus: 4,
    created: "2026-11-28T11:00:00Z",
    queue: "training",
  });
  const failed = trainingJob({
    ns: VISION,
    name: "cnn-failed",
    phase: "Failed",
    created: "2026-11-28T08:00:00Z",
    queue: "training",
  });
  const q1 = trainingJob({
    ns: VISION,
    name: "cnn-wait-1",
    phase: "Queued",
    gpus: 4,
    created: "2026-11-28T11:10:00Z",
    queue: "training",
  });
  const q2 = trainingJob({
    ns: VISION,
    name: "cnn-wait-2",
    phase: "Queued",
    gpus: 4,
    created: "2026-11-28T11:20:00Z",
    queue: "training",
  });
  const sweep = trainingJob({
    ns: RESEARCH,
    name: "lr-sweep",
    phase: "Running",
    created: "2026-11-28T10:00:00Z",
    queue: "training",
    completions: 3,
  });
  for (const j of [done, running, failed, q1, q2, sweep]) k.jobs.set(`${j.metadata!.namespace}/${j.metadata!.name}`, j);
  k.workloads.push(
    workloadFor(running, { clusterQueue: "kiln-research", admitted: true, flavor: "a10g" }),
    // Submitted later but with higher priority: first in line.
    workloadFor(q2, { clusterQueue: "kiln-vision", priority: 100 }),
    workloadFor(q1, {
      clusterQueue: "kiln-vision",
      waiting:
        "couldn't assign flavors to pod set main: insufficient unused quota for nvidia.com/gpu in flavor a10g, <4> more needed",
    }),
  );
  k.clusterQueues.push(
    clusterQueue("kiln-research", { pool: "a10g", nominal: 8, used: 5, reserved: 5, admitted: 2 }),
    clusterQueue("kiln-vision", {
      pool: "a10g",
      nominal: 4,
      borrowingLimit: 4,
      used: 6,
      borrowed: 2,
      pending: 2,
      admitted: 1,
    }),
  );
  k.localQueues.push(localQueue(RESEARCH, "training", "kiln-research"), localQueue(VISION, "training", "kiln-vision"));
  k.nodes.push(
    gpuNode("kwok-a10g-0", "a10g", 8),
    gpuNode("kwok-a10g-1", "a10g", 8),
    gpuNode("kwok-h100-0", "h100", 8),
    { metadata: { name: "control-plane", labels: {} }, status: { allocatable: { cpu: "2" } } },
  );
  const donePod = podOf(done, { node: "kwok-a10g-0", phase: "Succeeded", message: trainerMessage(20) });
  const runPod = podOf(running, { node: "kwok-a10g-0" });
  const sweepPods = [0, 1].map((i) => podOf(sweep, { node: "kwok-a10g-1", index: i }));
  k.pods.push(donePod, runPod, ...sweepPods);
  k.logs.set(
    `${RESEARCH}/${donePod.metadata!.name}`,
    trainerLog(20, [JSON.stringify({ event: "done", runId: "mpg-done" })]),
  );
  k.logs.set(`${RESEARCH}/${runPod.metadata!.name}`, trainerLog(7));
  k.logs.set(`${RESEARCH}/${sweepPods[0].metadata!.name}`, trainerLog(3));
  k.logs.set(`${RESEARCH}/${sweepPods[1].metadata!.name}`, trainerLog(5));
  return k;
}

export interface Served {
  readonly cluster: FakeCluster;
  readonly dashboard: RunningDashboard;
  readonly accounting: FakeAccounting;
  get(path: string, init?: RequestInit): Promise<Response>;
  text(path: string): Promise<string>;
  json<T = any>(path: string): Promise<T>;
}

/** The real server on 127.0.0.1 and a free port, over `cluster`. */
export async function serve(
  cluster = sampleCluster(),
  o: { namespace?: string; ttlMs?: number } = {},
): Promise<Served> {
  const accounting = new FakeAccounting();
  const data = new DashboardData({
    api: cluster,
    accounting,
    artifacts: new FakeArtifacts(),
    namespace: o.namespace,
    now: () => FIXED_NOW,
    ttlMs: o.ttlMs ?? 0,
  });
  const dashboard = await startDashboard({
    data,
    server: cluster.server,
    now: () => FIXED_NOW,
    address: "127.0.0.1",
    port: 0,
  });
  const get = (path: string, init?: RequestInit) => fetch(new URL(path, dashboard.url), init);
  return {
    cluster,
    dashboard,
    accounting,
    get,
    text: async (path) => {
      const r = await get(path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return r.text();
    },
    json: async (path) => {
      const r = await get(path);
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
      return r.json();
    },
  };
}
