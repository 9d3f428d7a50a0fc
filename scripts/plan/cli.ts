/**
 * Offline plan and policy check, no cloud credentials and no Pulumi CLI needed.
 *   npm run plan -- --stack dev [--out plan.json] [--against base.json]
 *   npm run policy -- --stack dev            (or --plan plan.json)
 * Exit codes: 0 ok; 1 policy violations (policy) or a program failure; 2 bad input.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError, configKeyProblem, configSchema } from "../../infra/config";
import { RULES } from "../../policy/rules";
import { diffPlans, emptyPlan } from "./diff";
import { StackError } from "./evaluate";
import { renderPlan } from "./markdown";
import { buildPlan, parsePlan, type Plan } from "./plan";
import { checkPlan, formatViolations } from "./policy";
// The one local-path check (the trainer's; the lead will expose it from @kiln/trainer's entry point).
import { checkLocalPath, LocalPathError, makeDirs, type PathUse } from "../../trainer-image/src/api";

/** Bad input: printed as is, exit 2. */
class UsageError extends Error {}

/** A path flag checked by the one local-path helper (the trainer's), as a usage error naming the flag. */
function checkedPath(flag: string, file: string, use: PathUse): string {
  try {
    return checkLocalPath(flag, file, use);
  } catch (e) {
    if (e instanceof LocalPathError) throw new UsageError(e.message);
    throw e;
  }
}

function readPlan(flag: string, file: string): Plan {
  if (!fs.existsSync(file))
    throw new UsageError(
      `${flag} ${file}: no such file (write one with npm run plan -- --stack <stack> --out ${file})`,
    );
  checkedPath(flag, file, "read-file");
  try {
    return parsePlan(fs.readFileSync(file, "utf8"), file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Config keys outside `kiln:` the program reads. */
const OTHER_KEYS = ["aws:region"];

/** `--set kiln:azCount=2 --set 'kiln:gpuPools=[...]'`: what-if config on top of the stack file (values are JSON or plain strings). */
function overrides(sets: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const i = s.indexOf("=");
    if (i <= 0) throw new UsageError(`--set ${s}: expected key=value, e.g. --set kiln:azCount=2`);
    const key = s.slice(0, i).includes(":") ? s.slice(0, i) : `kiln:${s.slice(0, i)}`;
    // The program's own key check (infra/config.ts), so --set and the stack file are judged alike.
    const problem = configKeyProblem(key);
    const nested = `nested values are set as JSON, e.g. --set 'kiln:storage={"forceDestroy":true}'`;
    if (problem) throw new UsageError(`--set ${s.slice(0, Math.min(i, 60))}: ${problem}; ${nested}`);
    if (!key.startsWith("kiln:") && !OTHER_KEYS.includes(key))
      throw new UsageError(
        `--set ${s.slice(0, Math.min(i, 60))}: '${key.slice(0, 60)}' is not a config key of this project (kiln: keys: ${Object.keys(configSchema.shape).join(", ")}; also ${OTHER_KEYS.join(", ")}); ${nested}`,
      );
    const raw = s.slice(i + 1);
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

async function plan(opts: {
  stack: string;
  out: string;
  md?: string;
  against?: string;
  emptyBase?: boolean;
  set?: string[];
}): Promise<number> {
  const mdFile = opts.md ?? `${opts.out.replace(/\.json$/, "")}.md`;
  // Both outputs are checked before the program runs: a bad --out fails in a second, not after the plan.
  checkedPath("--out", opts.out, "write-file");
  checkedPath(opts.md ? "--md" : "--out (its .md)", mdFile, "write-file");
  const base = opts.against ? readPlan("--against", opts.against) : opts.emptyBase ? emptyPlan(opts.stack) : undefined;
  const p = await buildPlan(opts.stack, overrides(opts.set));
  try {
    makeDirs(path.dirname(path.resolve(opts.out)));
    makeDirs(path.dirname(path.resolve(mdFile)));
  } catch (e) {
    throw e instanceof LocalPathError ? new UsageError(`--out ${opts.out}: ${e.message}`) : e;
  }
  fs.writeFileSync(opts.out, `${JSON.stringify(p, null, 2)}\n`);
  const diff = base ? diffPlans(base, p) : undefined;
  fs.writeFileSync(mdFile, renderPlan(p, diff));
  const s = p.summary;
  const line = [
    `plan: stack ${p.stack}: ${s.resourceCount} resources, ${s.maxGpus} GPUs max`,
    s.idlePerHour !== null ? `idle $${s.idlePerHour.toFixed(2)}/h` : undefined,
    s.fullLoadOnDemandPerHour
      ? `full load $${s.fullLoadSpotPerHour!.low.toFixed(2)}-$${s.fullLoadOnDemandPerHour.high.toFixed(2)}/h`
      : undefined,
    s.fullLoadKw ? `${s.fullLoadKw.high.toFixed(2)} kW` : undefined,
    `${p.policy.violations.length} policy violation(s)`,
    diff ? `vs base: +${diff.added.length} ~${diff.changed.length} -${diff.removed.length}` : undefined,
  ].filter(Boolean);
  process.stdout.write(`${line.join(", ")}\nwrote ${opts.out} and ${mdFile}\n`);
  return 0;
}

async function policy(opts: { stack?: string; plan?: string; json?: boolean; set?: string[] }): Promise<number> {
  if (!opts.stack && !opts.plan)
    throw new UsageError("policy: give --stack <name> (evaluate the program) or --plan <plan.json>");
  const p = opts.plan ? readPlan("--plan", opts.plan) : await buildPlan(opts.stack!, overrides(opts.set));
  // Re-check a stored plan with today's rules rather than trusting the verdict it was written with.
  const violations = opts.plan ? checkPlan([...p.resources, ...(p.rendered ?? [])]) : p.policy.violations;
  if (opts.json)
    process.stdout.write(`${JSON.stringify({ stack: p.stack, rules: RULES.length, violations }, null, 2)}\n`);
  else process.stdout.write(formatViolations(violations, p.stack, RULES.length));
  return violations.length === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command("kiln-plan").exitOverride().showHelpAfterError(false);
  let result: Promise<number> = Promise.resolve(0);
  program
    .command("plan")
    .description("evaluate the program for a stack under mocks and write plan.json + plan.md")
    .requiredOption("--stack <name>", "stack (Pulumi.<name>.yaml)")
    .option("--out <file>", "plan JSON to write", "plan.json")
    .option("--md <file>", "markdown to write (default: --out with .md)")
    .option("--against <file>", "a base plan.json to diff against (the PR comment)")
    .option("--empty-base", "diff against an empty plan (base branch has no plan yet)")
    .option("--set <key=value>", "override a config key for this plan (repeatable; value is JSON or a string)", collect)
    .action((o) => {
      result = plan(o);
    });
  program
    .command("policy")
    .description("check a stack (or a plan.json) against every rule of the policy pack")
    .option("--stack <name>", "stack to evaluate")
    .option("--plan <file>", "an existing plan.json instead of evaluating")
    .option("--json", "machine-readable output")
    .option("--set <key=value>", "override a config key (repeatable)", collect)
    .action((o) => {
      result = policy(o);
    });
  try {
    await program.parseAsync(argv, { from: "user" });
    return await result;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof ConfigError || e instanceof StackError || e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) {
  process.on("unhandledRejection", (e) => {
    process.stderr.write(`plan: the program failed under mocks: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`plan: ${(e as Error)?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
