/** `kubectl kiln submit --spec run.yaml [--gpus N] [--queue Q] [--name NAME] [--template FILE]`: one run. */
import { Command } from "commander";
import { Deps, globalsOf, Session } from "../context";
import { generateRunName, jobFromTemplate, validateDnsLabel, validateRunName } from "../job";
import type { DryRun, OutputFormat } from "../output";
import { createRunJob, dryRunOption, intFlag, loadTemplate, outputOption, readSpecFile } from "./common";

export const MAX_GPUS = 64;

interface SubmitFlags {
  spec?: string;
  gpus?: string;
  queue?: string;
  name?: string;
  template?: string;
  dryRun: DryRun;
  output: OutputFormat;
}

export function registerSubmit(program: Command, deps: Deps): void {
  program
    .command("submit")
    .description("start a training run: a Job from the namespace's template (CronJob kiln-trainer) with your run spec inlined")
    .option("--spec <file>", "run spec YAML/JSON (validated with the trainer's schema)")
    .option("--gpus <n>", "GPUs per pod (0 = CPU run); default the template's")
    .option("--queue <name>", "Kueue LocalQueue; default the template's")
    .option("--name <name>", "run (Job) name; default spec.runId, else run-<utc time>-<random>")
    .option("--template <file>", "take the template from this file (helm template output) instead of the cluster")
    .addOption(dryRunOption())
    .addOption(outputOption())
    .action(async (flags: SubmitFlags, cmd: Command) => {
      // parse -> validate
      const gpus = intFlag("--gpus", flags.gpus, 0, MAX_GPUS);
      if (flags.queue !== undefined) validateDnsLabel("--queue", flags.queue);
      const { raw, spec } = readSpecFile(flags.spec);
      const name = flags.name ?? spec.runId ?? generateRunName(deps.now(), deps.random);
      validateRunName(name);
      // run
      const session = new Session(deps, globalsOf(cmd));
      const template = await loadTemplate(session, flags.template);
      const job = jobFromTemplate(template, { name, namespace: session.namespace, specText: JSON.stringify(raw), gpus, queue: flags.queue });
      await createRunJob(session, deps.io, job, flags.dryRun, flags.output, "run");
    });
}
