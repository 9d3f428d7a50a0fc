/** `kubectl kiln sweep --spec run.yaml --set path=v1,v2 ...`: one Indexed Job over the grid. */
import type { Command } from "commander";
import { type Deps, globalsOf, Session } from "../context";
import { UsageError } from "../errors";
import { generateRunName, jobFromTemplate, MAX_SWEEP_NAME, validateDnsLabel, validateRunName } from "../job";
import { renderTable, type DryRun, type OutputFormat } from "../output";
import { parseSetFlags, sweepGrid, validateGrid } from "../sweep";
import { createRunJob, dryRunOption, intFlag, loadTemplate, outputOption, readSpecFile } from "./common";
import { MAX_GPUS } from "./submit";

/** Most grid points in one sweep (completions of one Indexed Job). */
export const MAX_GRID = 1000;

interface SweepFlags {
  spec?: string;
  set: string[];
  parallelism: string;
  gpus?: string;
  queue?: string;
  name?: string;
  template?: string;
  dryRun: DryRun;
  output: OutputFormat;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSweep(program: Command, deps: Deps): void {
  program
    .command("sweep")
    .description("start a hyper-parameter sweep: one Indexed Job, one index per point of the --set grid")
    .option("--spec <file>", "base run spec YAML/JSON")
    .option(
      "--set <path=v1,v2>",
      `a run-spec path and its values (repeat for more paths); a value holding a comma is quoted, p="a,b",c, or the values given as a list, p=["a,b","c"]`,
      collect,
      [],
    )
    .option("--parallelism <n>", "grid points trained at once", "2")
    .option("--gpus <n>", "GPUs per pod; default the template's")
    .option("--queue <name>", "Kueue LocalQueue; default the template's")
    .option("--name <name>", `sweep name (at most ${MAX_SWEEP_NAME} characters); default sweep-<utc time>-<random>`)
    .option("--template <file>", "take the template from this file (helm template output) instead of the cluster")
    .addOption(dryRunOption())
    .addOption(outputOption())
    .action(async (flags: SweepFlags, cmd: Command) => {
      const gpus = intFlag("--gpus", flags.gpus, 0, MAX_GPUS);
      const parallelism = intFlag("--parallelism", flags.parallelism, 1, MAX_GRID)!;
      if (flags.queue !== undefined) validateDnsLabel("--queue", flags.queue);
      const values = parseSetFlags(flags.set);
      const grid = sweepGrid(values);
      if (grid.length > MAX_GRID)
        throw new UsageError(
          `the grid has ${grid.length} points; at most ${MAX_GRID} per sweep: fewer values per --set`,
        );
      const { raw } = readSpecFile(flags.spec);
      validateGrid(raw, grid);
      const name = flags.name ?? generateRunName(deps.now(), deps.random, "sweep");
      validateRunName(name, MAX_SWEEP_NAME, flags.name !== undefined ? "--name" : "sweep name");

      const session = new Session(deps, globalsOf(cmd));
      const template = await loadTemplate(session, flags.template);
      const job = jobFromTemplate(template, {
        name,
        namespace: session.namespace,
        specText: JSON.stringify(raw),
        gpus,
        queue: flags.queue,
        sweep: { grid, parallelism },
      });
      await createRunJob(session, deps.io, job, flags.dryRun, flags.output, "sweep");
      if (flags.output === "table") {
        const keys = Object.keys(values).sort();
        deps.io.out(
          renderTable(
            ["INDEX", "RUN-ID", ...keys.map((k) => k.toUpperCase())],
            grid.map((p, i) => [String(i), `${name}-${i}`, ...keys.map((k) => String(p[k]))]),
          ),
        );
      }
    });
}
