/**
 * Benchmark: how long the real program takes to evaluate the dev stack under the mocks.
 * Run: npx ts-node --transpile-only test/infra/aws/bench-dev-stack.ts [runs]   (KILN_BENCH_STACK=local for the local stack)
 * Each run is a fresh Node process (module load included), as `npm test` pays it per test file.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const runs = Number(process.argv[2] ?? 3);
/** Stack to evaluate (KILN_BENCH_STACK, default dev). */
const stack = process.env.KILN_BENCH_STACK ?? "dev";
const child = process.env.KILN_BENCH_CHILD === "1";

async function once(): Promise<void> {
  const t0 = process.hrtime.bigint();
  const { runProgram } = await import("../../../scripts/plan/engine/program");
  const t1 = process.hrtime.bigint();
  const run = await runProgram(stack);
  const t2 = process.hrtime.bigint();
  const aws = run.resources.filter((r) => r.type.startsWith("aws:")).length;
  const k8s = run.resources.filter((r) => r.type.startsWith("kubernetes:")).length;
  process.stdout.write(
    `${JSON.stringify({
      importMs: Number(t1 - t0) / 1e6,
      evaluateMs: Number(t2 - t1) / 1e6,
      resources: run.resources.length,
      aws,
      kubernetes: k8s,
    })}\n`,
  );
}

if (child) {
  once().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const results: Array<{ importMs: number; evaluateMs: number; resources: number; aws: number; kubernetes: number }> =
    [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(__dirname, "bench-dev-stack.ts")],
      {
        env: { ...process.env, KILN_BENCH_CHILD: "1" },
        encoding: "utf8",
      },
    );
    results.push(JSON.parse(out.trim().split("\n").pop()!));
  }
  const fmt = (xs: number[]) =>
    `min ${Math.min(...xs).toFixed(0)} ms, median ${xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0)} ms`;
  console.log(
    `${stack} stack under mocks, ${runs} fresh processes: ${results[0].resources} resources (${results[0].aws} aws, ${results[0].kubernetes} kubernetes)`,
  );
  console.log(`  import program + SDKs: ${fmt(results.map((r) => r.importMs))}`);
  console.log(`  evaluate program:      ${fmt(results.map((r) => r.evaluateMs))}`);
  console.log(`  total:                 ${fmt(results.map((r) => r.importMs + r.evaluateMs))}`);
}
