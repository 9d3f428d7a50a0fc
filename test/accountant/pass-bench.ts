/**
 * A pass's own cost at scale, without an API server: N running Jobs with one GPU pod each behind the watch
 * cache (client-node's informers over fake-server.ts). Prints the first pass (every record written), a
 * steady pass, and the heap.   npx ts-node --transpile-only test/accountant/pass-bench.ts [N=10000]
 */
import { reconcile } from "../../accountant/src/reconcile";
import { job, pod, settingsFor } from "./fixtures";
import { SimCluster } from "./sim-cluster";

async function main(n: number): Promise<void> {
  const settings = settingsFor({ budget: { unit: "gpuHours", limit: 1e9 } });
  const c = new SimCluster();
  await c.start();
  for (let i = 0; i < n; i++) {
    c.at("2026-12-01T10:00:00Z", c.jobs, job(`run-${i}`, `job-${i}`));
    c.at(
      "2026-12-01T10:00:00Z",
      c.pods,
      pod({ name: `run-${i}-x`, jobUid: `job-${i}`, node: "g5", gpus: 1 + (i % 8), scheduled: "2026-12-01T10:00:00Z" }),
    );
  }
  const time = async (label: string, now: string) => {
    const t = performance.now();
    const [o] = await reconcile(c, settings, new Date(now));
    console.log(
      JSON.stringify({
        pass: label,
        jobs: n,
        ms: Math.round(performance.now() - t),
        written: o.recordsWritten,
        spentGpuHours: o.budget?.spent,
      }),
    );
  };
  await time("first", "2026-12-01T10:00:30Z");
  await time("steady", "2026-12-01T10:00:50Z");
  await time("refresh (open records, every openRecordRefreshSeconds)", "2026-12-01T10:06:00Z");
  global.gc?.();
  console.log(
    JSON.stringify({
      heapMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    }),
  );
  await c.cache.stop();
}

void main(Number(process.argv[2] ?? 10_000));
