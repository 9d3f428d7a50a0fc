/**
 * The cluster bench, small, as a regression check that admission through Kueue holds at scale:
 * 100 runs (GPU mix, a share multi-node JobSets) from 4 teams in one cohort onto 20 simulated 8-GPU
 * nodes in 2 pools, through `npm run bench:cluster`. Asserts what must always be true -- every run
 * submitted, admitted and finished, no starvation inversion, nothing of the bench left behind -- and
 * no timing (the figures are the bench's to print, not a test's to hold).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureCluster, kubectlJson, must, ROOT } from "./harness";

jest.setTimeout(5 * 60_000);

interface BenchJson {
  counts: { runs: number; failed: number; pods: number; podsFinished: number; workloads: number; admitted: number };
  inversions: { count: number; examples: unknown[] };
  figures: { key: string; value: number }[];
}

describe("the cluster bench at small scale", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-e2e-"));
  let result: BenchJson;

  beforeAll(async () => {
    await ensureCluster();
    await must("bash", [path.join(ROOT, "scripts/bench/cluster.sh")], {
      timeoutMs: 4 * 60_000,
      env: {
        ...process.env,
        BENCH_RUNS: "100",
        BENCH_NODES: "20",
        BENCH_TEAMS: "4",
        BENCH_POOLS: "2",
        BENCH_MULTI_NODE_SHARE: "0.1",
        BENCH_RUN_SECONDS: "5",
        BENCH_ACCOUNTANT_INTERVAL: "10",
        BENCH_DASHBOARD: "false",
        BENCH_TIMEOUT: "180",
        BENCH_OUT_DIR: out,
      },
    });
    const file = fs.readdirSync(out).find((f) => /^\d{4}-.*Z\.json$/.test(f));
    if (!file) throw new Error(`the bench wrote no figures to ${out}`);
    result = JSON.parse(fs.readFileSync(path.join(out, file), "utf8")) as BenchJson;
  });

  it("submits, admits and finishes every run", () => {
    expect(result.counts.failed).toBe(0);
    expect(result.counts.workloads).toBe(100);
    expect(result.counts.admitted).toBe(100);
    expect(result.counts.podsFinished).toBe(result.counts.pods);
    expect(result.counts.pods).toBeGreaterThan(100);
  });

  it("never admits a younger run ahead of an older one of the same queue that would fit", () => {
    expect(result.inversions).toEqual({ count: 0, examples: [] });
  });

  it("the accountant ran beside it and its passes were read", () => {
    const passes = result.figures.find((f) => f.key === "accountantPassMsMax");
    expect(passes && Number.isFinite(passes.value)).toBe(true);
  });

  it("leaves no namespace, queue, flavor or node of its own behind", async () => {
    for (const kind of ["namespaces", "clusterqueues.kueue.x-k8s.io", "resourceflavors.kueue.x-k8s.io"]) {
      expect((await kubectlJson<{ items: unknown[] }>(["get", kind, "-l", "kiln.dev/bench=true"])).items).toEqual([]);
    }
    expect(
      (await kubectlJson<{ items: unknown[] }>(["get", "nodes", "-l", "kiln.dev/gpu-pool in (bench-a,bench-b)"])).items,
    ).toEqual([]);
  });
});
