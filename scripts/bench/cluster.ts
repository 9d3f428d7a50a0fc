/**
 * The measuring half of `npm run bench:cluster` (scripts/bench/cluster.sh prepares nodes + namespace).
 * Submits BENCH_RUNS one-GPU runs through the kubectl-kiln plugin's own code (`run(["submit", ...])`
 * of cli/src/main.ts, in-process: the figure is the plugin + API server, not node start-up), while a
 * sampler lists the namespace's pods every second. Prints submits/s, the time from the first submit
 * until every run's pod was bound to a node, and GPU allocation (GPUs held by bound, unfinished pods
 * / GPUs of the pool): peak, and mean over the saturated window.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { run } from "../../cli/src/main";
import { defaultDeps, Deps } from "../../cli/src/context";
import { GPU_RESOURCE } from "../../contract/gpu";

interface Settings {
  readonly namespace: string;
  readonly runs: number;
  readonly concurrency: number;
  readonly totalGpus: number;
  readonly timeoutSeconds: number;
  readonly podRunSeconds: number;
}

function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}=${v}: expected a positive integer`);
  return n;
}

export function settingsFromEnv(): Settings {
  return {
    namespace: process.env.BENCH_NAMESPACE ?? "kiln-bench",
    runs: intEnv("BENCH_RUNS", 1000),
    concurrency: intEnv("BENCH_CONCURRENCY", 16),
    totalGpus: intEnv("BENCH_TOTAL_GPUS", 800),
    timeoutSeconds: intEnv("BENCH_TIMEOUT", 900),
    podRunSeconds: intEnv("KILN_POD_RUN_SECONDS", 10),
  };
}

/** Plugin dependencies with silent output and one shared API connection. */
function quietDeps(errors: string[]): Deps {
  const base = defaultDeps();
  let connected: ReturnType<Deps["connect"]> | undefined;
  return {
    ...base,
    io: { out: () => undefined, err: (t: string) => void (/^error/i.test(t.trim()) && errors.push(t.trim())) },
    connect: (opts) => (connected ??= base.connect(opts)),
  };
}

interface Sample {
  readonly t: number;
  readonly bound: number;
  readonly gpusHeld: number;
}

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const spec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-")), "spec.yaml");
  const cm = await core.readNamespacedConfigMap({ name: "kiln-run-spec", namespace: s.namespace });
  fs.writeFileSync(spec, cm.data?.["spec.yaml"] ?? "");

  const errors: string[] = [];
  const deps = quietDeps(errors);
  const names = Array.from({ length: s.runs }, (_, i) => `bench-${String(i).padStart(5, "0")}`);
  const scheduledAt = new Map<string, number>();
  const samples: Sample[] = [];
  const t0 = Date.now();
  let sampling = true;

  const sampler = (async () => {
    while (sampling) {
      const pods = await core.listNamespacedPod({ namespace: s.namespace });
      let bound = 0;
      let gpusHeld = 0;
      const now = Date.now();
      for (const p of pods.items) {
        const job = p.metadata?.labels?.["batch.kubernetes.io/job-name"];
        if (!job || !p.spec?.nodeName) continue;
        bound++;
        if (!scheduledAt.has(job)) scheduledAt.set(job, now);
        if (p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed") {
          gpusHeld += Number(p.spec.containers[0]?.resources?.limits?.[GPU_RESOURCE] ?? 0);
        }
      }
      samples.push({ t: now - t0, bound, gpusHeld });
      if (scheduledAt.size >= s.runs || now - t0 > s.timeoutSeconds * 1000) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  // Submit through the plugin, BENCH_CONCURRENCY in flight.
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      const code = await run(["submit", "-n", s.namespace, "--spec", spec, "--name", name, "--gpus", "1"], deps);
      if (code !== 0) failed++;
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  const submitSeconds = (Date.now() - t0) / 1000;
  process.stderr.write(`submitted ${s.runs - failed}/${s.runs} runs in ${submitSeconds.toFixed(1)}s; waiting for scheduling...\n`);
  await sampler;
  sampling = false;

  const allScheduled = scheduledAt.size >= s.runs - failed;
  const lastBind = Math.max(...scheduledAt.values()) - t0;
  const peak = Math.max(0, ...samples.map((x) => x.gpusHeld));
  // Saturated window: from the first sample at the peak until every run had a node.
  const firstPeak = samples.findIndex((x) => x.gpusHeld === Math.max(0, ...samples.map((y) => y.gpusHeld)));
  const window = samples.slice(Math.max(0, firstPeak)).filter((x) => x.bound < s.runs);
  const mean = window.length ? window.reduce((a, x) => a + x.gpusHeld, 0) / window.length : peak;
  const pct = (g: number) => ((100 * g) / s.totalGpus).toFixed(1);
  const lines = [
    `bench:cluster  ${s.runs} one-GPU runs, ${s.totalGpus} simulated GPUs, pods run ${s.podRunSeconds}s, ${s.concurrency} submits in flight`,
    `  submits/s              ${((s.runs - failed) / submitSeconds).toFixed(1)}  (${s.runs - failed} ok, ${failed} failed, ${submitSeconds.toFixed(1)}s)`,
    `  all scheduled after    ${allScheduled ? `${(lastBind / 1000).toFixed(1)}s` : `NOT ALL (${scheduledAt.size}/${s.runs} in ${s.timeoutSeconds}s)`}  (first submit -> last pod bound)`,
    `  GPU allocation         peak ${pct(peak)}% (${peak}/${s.totalGpus}), mean ${pct(mean)}% from first reaching the peak until the last run got a node`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  if (errors.length) process.stderr.write(`first plugin errors:\n  ${[...new Set(errors)].slice(0, 5).join("\n  ")}\n`);
  if (!allScheduled || failed > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench:cluster: ${e.message}\n`);
    process.exit(1);
  });
}
