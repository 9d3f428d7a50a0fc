/**
 * kubectl-kiln: launch and follow Kiln training runs. `kubectl kiln <verb>` finds this program on PATH
 * as `kubectl-kiln` (cli/bin/kubectl-kiln). Exit codes: 0 ok, 1 failure, 2 usage or invalid input.
 */
import "./react-production";
import { Command, CommanderError } from "commander";
import { registerCancel } from "./commands/cancel";
import { registerDashboard } from "./commands/dashboard";
import { registerLogs } from "./commands/logs";
import { registerLs } from "./commands/ls";
import { registerRunLocal } from "./commands/run-local";
import { registerStatus } from "./commands/status";
import { registerSubmit } from "./commands/submit";
import { registerSweep } from "./commands/sweep";
import { registerUsage } from "./commands/usage";
import { defaultDeps, type Deps } from "./context";
import { CliError, UsageError } from "./errors";
import { RunSpecError } from "./runspec";
import kilnPackage from "../../package.json";

/** Kiln's release version: the root package.json's (one source). */
export const VERSION: string = kilnPackage.version;

/** The program with global options registered once and one subcommand per verb. */
export function buildProgram(deps: Deps): Command {
  const program = new Command("kubectl kiln")
    .description("Launch and follow Kiln training runs (Jobs made from the namespace's kiln-trainer template)")
    .version(VERSION)
    .option("-n, --namespace <namespace>", "namespace (default: the kubeconfig context's, else default)")
    .option("--context <name>", "kubeconfig context to use")
    .option("--kubeconfig <file>", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.io.out(s), writeErr: (s) => deps.io.err(s) })
    .showSuggestionAfterError(true);
  registerSubmit(program, deps);
  registerSweep(program, deps);
  registerLs(program, deps);
  registerStatus(program, deps);
  registerLogs(program, deps);
  registerCancel(program, deps);
  registerUsage(program, deps);
  registerRunLocal(program, deps);
  registerDashboard(program, deps);
  return program;
}

/** Runs the plugin with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], deps: Deps = defaultDeps()): Promise<number> {
  const program = buildProgram(deps);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 2;
    }
    await program.parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    // Commander already printed its own message ("error: unknown option ..."); help/version exit 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof RunSpecError) {
      deps.io.err(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || err instanceof CliError) {
      if (err.message) deps.io.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    deps.io.err(`error: ${(err as Error)?.message ?? String(err)}\n`);
    if (deps.env.KILN_DEBUG) deps.io.err(`${(err as Error)?.stack}\n`);
    return 1;
  }
}

/** Entry of the executable. */
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2));
}
