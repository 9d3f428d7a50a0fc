/**
 * Dashboard latency on 10,000 runs: the real server over the tests' fake cluster (10,000 Jobs in four
 * namespaces, a Workload for each queued one, a pod and a 30-epoch log for each started one), timed over
 * real HTTP. Prints figures; asserts nothing.
 *   npx ts-node --transpile-only test/cli/dashboard/bench.ts [--runs 10000] [--repeat 20]
 */
import { performance } from "node:perf_hooks";
import { startDashboard } from "../../../cli/src/dashboard/server";
import { DashboardData } from "../../../cli/src/dashboard/service";
import {
  clusterQueue,
  FakeCluster,
  localQueue,
  podOf,
  trainerLog,
  trainingJob,
  workloadFor,
  type FakePhase,
} from "./fake-cluster";
import { FakeAccounting } from "./fixture";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg("--runs", 10_000);
const REPEAT = arg("--repeat", 20);
const NAMESPACES = ["kiln-research", "kiln-vision", "kiln-nlp", "kiln-speech"];
const PHASES: FakePhase[] = ["Succeeded", "Succeeded", "Succeeded", "Failed", "Running", "Queued"];

function cluster(n: number): FakeCluster {
  const k = new FakeCluster();
  const log = trainerLog(30);
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  for (const ns of NAMESPACES) {
    k.namespaces.add(ns);
    k.localQueues.push(localQueue(ns, "training", `cq-${ns}`));
    k.clusterQueues.push(clusterQueue(`cq-${ns}`, { pool: "a10g", nominal: 16, used: 12 }));
  }
  for (let i = 0; i < n; i++) {
    const ns = NAMESPACES[i % NAMESPACES.length];
    const phase = PHASES[i % PHASES.length];
    const job = trainingJob({
      ns,
      name: `run-${String(i).padStart(5, "0")}`,
      phase,
      created: new Date(t0 + i * 60_000).toISOString(),
      queue: "training",
      gpus: 1 + (i % 4),
    });
    k.jobs.set(`${ns}/${job.metadata!.name}`, job);
    if (phase === "Queued") k.workloads.push(workloadFor(job, { clusterQueue: `cq-${ns}`, priority: i % 3 }));
    else {
      if (phase === "Running") k.workloads.push(workloadFor(job, { clusterQueue: `cq-${ns}`, admitted: true }));
      const pod = podOf(job, { node: "kwok-a10g-0", phase: phase === "Running" ? "Running" : phase });
      k.pods.push(pod);
      k.logs.set(`${ns}/${pod.metadata!.name}`, log);
    }
  }
  return k;
}

interface Figure {
  what: string;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
}

async function time(what: string, url: string, repeat: number): Promise<Figure> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    const r = await fetch(url);
    const body = await r.text();
    ms.push(performance.now() - t);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${body.slice(0, 300)}`);
    bytes = body.length;
  }
  ms.sort((a, b) => a - b);
  return {
    what,
    p50: ms[Math.floor(ms.length / 2)],
    p95: ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.95))],
    max: ms[ms.length - 1],
    bytes,
  };
}

async function main(): Promise<void> {
  const t = performance.now();
  const k = cluster(RUNS);
  console.log(
    `fake cluster: ${RUNS} runs, ${k.workloads.length} workloads, ${k.pods.length} pods (built in ${(performance.now() - t).toFixed(0)} ms)`,
  );
  const figures: Figure[] = [];
  for (const ttlMs of [0, 3000]) {
    const data = new DashboardData({
      api: k,
      accounting: new FakeAccounting(),
      artifacts: null,
      now: () => new Date("2026-12-02T00:00:00Z"),
      ttlMs,
    });
    const d = await startDashboard({
      data,
      server: k.server,
      now: () => new Date("2026-12-02T00:00:00Z"),
      address: "127.0.0.1",
      port: 0,
    });
    const label = ttlMs === 0 ? "snapshot rebuilt per request" : "snapshot reused (3 s TTL)";
    const u = (p: string) => new URL(p, d.url).href;
    if (ttlMs === 0) figures.push(await time(`first page, cold (${label})`, u("/"), 1));
    figures.push(await time(`runs page 1, 50 rows (${label})`, u("/"), REPEAT));
    figures.push(await time(`runs page 100 (${label})`, u("/?page=100"), REPEAT));
    figures.push(await time(`status=Queued (${label})`, u("/?status=Queued"), REPEAT));
    figures.push(await time(`namespace + name filter (${label})`, u("/?namespace=kiln-nlp&q=run-09"), REPEAT));
    figures.push(await time(`500 rows per page (${label})`, u("/?size=500"), Math.max(3, REPEAT / 4)));
    figures.push(await time(`JSON API page (${label})`, u("/api/runs?page=7"), REPEAT));
    figures.push(await time(`run page (${label})`, u("/runs/kiln-research/run-04800"), REPEAT));
    figures.push(await time(`queues page (${label})`, u("/queues"), REPEAT));
    await d.close();
  }
  const w = Math.max(...figures.map((f) => f.what.length));
  console.log(`${"request".padEnd(w)}   p50 ms   p95 ms   max ms   bytes`);
  for (const f of figures)
    console.log(
      `${f.what.padEnd(w)}   ${f.p50.toFixed(1).padStart(6)}   ${f.p95.toFixed(1).padStart(6)}   ${f.max.toFixed(1).padStart(6)}   ${f.bytes}`,
    );
}

void main();
