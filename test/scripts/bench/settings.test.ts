import * as fs from "node:fs";
import * as path from "node:path";
import { BENCH_KNOBS, BenchSettingsError, settingsFromEnv } from "../../../scripts/bench/settings";

const clusterSh = fs.readFileSync(path.join(__dirname, "../../../scripts/bench/cluster.sh"), "utf8");

describe("the cluster bench's knobs", () => {
  it("default to the full size when unset or empty", () => {
    const s = settingsFromEnv({ KILN_DIR: "/k", BENCH_RUNS: "" });
    expect(s).toMatchObject({
      runs: 10_000,
      nodes: 1000,
      gpusPerNode: 8,
      pools: 2,
      teams: 4,
      multiNodeShare: 0.05,
      hold: true,
      runSeconds: 600,
      timeoutSeconds: 7200,
      outDir: "/k/bench",
      kilnDir: "/k",
    });
  });

  it("have the same defaults in cluster.sh, which reads them for itself", () => {
    for (const [name, fallback] of Object.values(BENCH_KNOBS)) {
      if (name === "BENCH_SEED") continue; // cluster.sh does not set the plan's seed
      const m = clusterSh.match(new RegExp(`^${name}=\\$\\{${name}:-([^}]+)\\}$`, "m"));
      expect([name, m?.[1]]).toEqual([name, String(fallback)]);
    }
  });

  it("read what is set", () => {
    const s = settingsFromEnv({
      BENCH_RUNS: "1000",
      BENCH_NODES: "100",
      BENCH_MULTI_NODE_SHARE: "0",
      BENCH_HOLD: "false",
      BENCH_OUT_DIR: "/out",
    });
    expect(s).toMatchObject({ runs: 1000, nodes: 100, multiNodeShare: 0, hold: false, outDir: "/out" });
  });

  it("name every bad value at once", () => {
    let err: unknown;
    try {
      settingsFromEnv({
        BENCH_RUNS: "1e3.5",
        BENCH_NODES: "0",
        BENCH_HOLD: "yes",
        BENCH_MULTI_NODE_SHARE: "5%",
        BENCH_TIMEOUT: "-1",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BenchSettingsError);
    expect((err as BenchSettingsError).problems).toEqual([
      "BENCH_RUNS=1e3.5: expected a positive integer",
      "BENCH_NODES=0: expected a positive integer",
      "BENCH_MULTI_NODE_SHARE=5%: expected a fraction from 0 to 1",
      "BENCH_HOLD=yes: expected true or false",
      "BENCH_TIMEOUT=-1: expected a positive integer",
    ]);
  });

  it("refuse more pools than nodes", () => {
    expect(() => settingsFromEnv({ BENCH_NODES: "2", BENCH_POOLS: "3" })).toThrow(
      "BENCH_POOLS=3: more pools than nodes (BENCH_NODES=2)",
    );
  });
});
