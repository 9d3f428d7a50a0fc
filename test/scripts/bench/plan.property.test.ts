import fc from "fast-check";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../../contract/gpu";
import { GPU_NODE_SHAPE, SIMULATED_TOLERATION } from "../../../scripts/cluster/nodes";
import {
  BENCH_COHORT,
  BENCH_LABEL,
  GPU_MIX,
  HOLD_RELEASE,
  kueueObjects,
  MULTI_NODE_SIZES,
  planPools,
  planRuns,
  splitQuota,
  teamNamespace,
} from "../../../scripts/bench/plan";

type Quota = { name: string; nominalQuota: number | string };
type Cq = {
  kind: string;
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    cohort: string;
    stopPolicy?: string;
    resourceGroups: { coveredResources: string[]; flavors: { name: string; resources: Quota[] }[] }[];
  };
};

describe("the bench's plan", () => {
  it("is the same for the same seed and spreads runs over the teams in turn", () => {
    const p = { runs: 200, teams: 4, multiNodeShare: 0.1, seed: 7 };
    expect(planRuns(p)).toEqual(planRuns(p));
    expect(
      planRuns(p)
        .map((r) => r.team)
        .slice(0, 5),
    ).toEqual([0, 1, 2, 3, 0]);
    expect(new Set(planRuns(p).map((r) => r.name)).size).toBe(200);
  });

  it("draws single-node GPUs from the mix and multi-node runs as whole 8-GPU nodes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (runs, teams, share, seed) => {
          for (const r of planRuns({ runs, teams, multiNodeShare: share, seed })) {
            if (r.nodes === 1) expect(GPU_MIX.map((m) => m.gpus)).toContain(r.gpus);
            else expect([r.gpus, MULTI_NODE_SIZES.includes(r.nodes)]).toEqual([8, true]);
            expect(r.team).toBeLessThan(teams);
          }
        },
      ),
      { numRuns: 100 },
    );
    expect(planRuns({ runs: 50, teams: 2, multiNodeShare: 0, seed: 1 }).every((r) => r.nodes === 1)).toBe(true);
    expect(planRuns({ runs: 50, teams: 2, multiNodeShare: 1, seed: 1 }).every((r) => r.nodes > 1)).toBe(true);
    // Every size of the mix shows up in a plan of the full bench's length.
    expect(new Set(planRuns({ runs: 10_000, teams: 4, multiNodeShare: 0.05, seed: 24 }).map((r) => r.gpus))).toEqual(
      new Set(GPU_MIX.map((m) => m.gpus)),
    );
  });

  it("names the knob and the fix on bad input", () => {
    expect(() => planRuns({ runs: 0, teams: 4, multiNodeShare: 0, seed: 1 })).toThrow(
      "BENCH_RUNS=0: expected an integer >= 1",
    );
    expect(() => planRuns({ runs: 1, teams: 0, multiNodeShare: 0, seed: 1 })).toThrow("BENCH_TEAMS=0");
    expect(() => planRuns({ runs: 1, teams: 1, multiNodeShare: 2, seed: 1 })).toThrow(
      "BENCH_MULTI_NODE_SHARE=2: expected a number from 0 to 1",
    );
    expect(() => planPools(100, 1, 8)).toThrow(
      "BENCH_POOLS=1: expected an integer from 2 to 26 (the issue asks for at least two pools)",
    );
    expect(() => planPools(1, 2, 8)).toThrow("BENCH_NODES=1: expected an integer >= BENCH_POOLS (2)");
  });

  it("splits the nodes over the pools and each pool's quota over the teams without losing any", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 2000 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 12 }),
        (nodes, pools, teams) => {
          fc.pre(nodes >= pools);
          const ps = planPools(nodes, pools, 8);
          expect(ps.reduce((a, p) => a + p.nodes, 0)).toBe(nodes);
          const cqs = kueueObjects(ps, teams, { ...SIMULATED_TOLERATION }, GPU_NODE_SHAPE).filter(
            (o) => o.kind === "ClusterQueue",
          ) as unknown as Cq[];
          expect(cqs).toHaveLength(teams);
          for (const p of ps) {
            const gpuQuota = cqs.map(
              (cq) =>
                cq.spec.resourceGroups[0].flavors
                  .find((f) => f.name === p.name)!
                  .resources.find((r) => r.name === GPU_RESOURCE)!.nominalQuota as number,
            );
            expect(gpuQuota.reduce((a, b) => a + b, 0)).toBe(p.nodes * 8);
            expect(Math.max(...gpuQuota) - Math.min(...gpuQuota)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 100 },
    );
    expect([0, 1, 2].map((t) => splitQuota(10, 3, t))).toEqual([4, 3, 3]);
  });

  it("puts every team's ClusterQueue in one cohort with unlimited borrowing, flavors on the pools, held only when asked", () => {
    const objs = kueueObjects(planPools(10, 2, 8), 3, { ...SIMULATED_TOLERATION }, GPU_NODE_SHAPE) as unknown as Cq[];
    const cqs = objs.filter((o) => o.kind === "ClusterQueue");
    expect(new Set(cqs.map((c) => c.spec.cohort))).toEqual(new Set([BENCH_COHORT]));
    for (const cq of cqs) {
      expect(cq.spec.stopPolicy).toBeUndefined();
      for (const f of cq.spec.resourceGroups[0].flavors)
        for (const r of f.resources) expect(r).not.toHaveProperty("borrowingLimit");
    }
    const flavors = objs.filter((o) => o.kind === "ResourceFlavor") as unknown as {
      spec: { nodeLabels: Record<string, string> };
    }[];
    expect(flavors.map((f) => f.spec.nodeLabels[GPU_POOL_LABEL])).toEqual(["bench-a", "bench-b"]);
    for (const o of objs) expect(o.metadata.labels).toEqual({ [BENCH_LABEL.key]: BENCH_LABEL.value });
    const lqs = objs.filter((o) => o.kind === "LocalQueue") as unknown as { metadata: { namespace: string } }[];
    expect(lqs.map((l) => l.metadata.namespace)).toEqual([0, 1, 2].map(teamNamespace));
    const held = kueueObjects(planPools(10, 2, 8), 1, {}, GPU_NODE_SHAPE, true).filter(
      (o) => o.kind === "ClusterQueue",
    ) as unknown as Cq[];
    expect(held[0].spec.stopPolicy).toBe("Hold");
    expect(HOLD_RELEASE[0]).toMatchObject({ path: "/spec/stopPolicy", value: "None" });
  });
});
