/**
 * `kubectl kiln submit --spec run.yaml [--gpus N] [--queue Q] [--name NAME] [--template FILE]`: one run of
 * Kiln's trainer; or `submit --image IMAGE [--nodes N] ... -- COMMAND ARGS...`: one run of your own image
 * on one node or many (./submit-image.ts).
 */
import { type Command, Option } from "commander";
import { type Deps, globalsOf, Session } from "../context";
import { UsageError } from "../errors";
import { generateRunName, jobFromTemplate, validateDnsLabel, validateRunName } from "../job";
import type { DryRun, OutputFormat } from "../output";
import { createRunJob, dryRunOption, intFlag, loadTemplate, outputOption, readSpecFile } from "./common";
import { submitImage } from "./submit-image";

export const MAX_GPUS = 64;

interface SubmitFlags {
  spec?: string;
  image?: string;
  nodes?: string;
  gpus?: string;
  cpus?: string;
  memory?: string;
  env: string[];
  maxRestarts?: string;
  topology?: string;
  queue?: string;
  name?: string;
  template?: string;
  dryRun: DryRun;
  output: OutputFormat;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Flags that only a run with your own image takes. */
const IMAGE_ONLY = [
  ["nodes", "--nodes"],
  ["cpus", "--cpus"],
  ["memory", "--memory"],
  ["maxRestarts", "--max-restarts"],
  ["topology", "--topology"],
] as const;

export function registerSubmit(program: Command, deps: Deps): void {
  program
    .command("submit")
    .description(
      "start a training run: a Job from the namespace's template (CronJob kiln-trainer) with your run spec inlined, or (--image) your own image on one node or many as a JobSet",
    )
    .argument("[command...]", "with --image: the container's command and arguments, after --")
    .option("--spec <file>", "run spec YAML/JSON (validated with the trainer's schema); Kiln's trainer")
    .option("--image <ref>", "your own image, pinned by a release tag or a digest (not with --spec)")
    .option("--nodes <n>", "with --image: nodes (pods, one per node) of the run; default 1")
    .option("--gpus <n>", "GPUs per pod (per node with --image; 0 = CPU run); default the template's")
    .option("--cpus <quantity>", "with --image: CPU request per node (e.g. 4, 500m); default the template's")
    .option(
      "--memory <quantity>",
      "with --image: memory request and limit per node (e.g. 16Gi); default the template's",
    )
    .addOption(
      new Option("--env <name=value>", "with --image: an environment variable of every pod (repeatable)")
        .argParser(collect)
        .default([]),
    )
    .option("--max-restarts <n>", "with --image: group restarts after failures (disruptions do not count); default 3")
    .option(
      "--topology <mode:level>",
      "with --image: required:LEVEL or preferred:LEVEL of the cluster's Kueue Topology (e.g. required:rack)",
    )
    .option("--queue <name>", "Kueue LocalQueue; default the template's")
    .option("--name <name>", "run name; default spec.runId, else run-<utc time>-<random>")
    .option("--template <file>", "take the template from this file (helm template output) instead of the cluster")
    .addOption(dryRunOption())
    .addOption(outputOption())
    .action(async (command: string[], flags: SubmitFlags, cmd: Command) => {
      if (flags.image !== undefined) {
        if (flags.spec !== undefined)
          throw new UsageError(
            "--spec and --image are mutually exclusive: --spec runs Kiln's trainer with your run spec, --image runs your own image",
          );
        await submitImage(deps, cmd, { ...flags, image: flags.image }, command);
        return;
      }
      for (const [key, flag] of IMAGE_ONLY)
        if (flags[key] !== undefined)
          throw new UsageError(`${flag} needs --image (a run with your own image); Kiln's trainer runs on one node`);
      if (flags.env.length)
        throw new UsageError("--env needs --image; Kiln's trainer takes its settings from the run spec");
      if (command.length)
        throw new UsageError(
          `a command ("${command.join(" ").slice(0, 60)}") needs --image; Kiln's trainer runs from --spec`,
        );
      // parse -> validate
      const gpus = intFlag("--gpus", flags.gpus, 0, MAX_GPUS);
      if (flags.queue !== undefined) validateDnsLabel("--queue", flags.queue);
      const { raw, spec } = readSpecFile(flags.spec);
      const name = flags.name ?? spec.runId ?? generateRunName(deps.now(), deps.random);
      validateRunName(name, undefined, flags.name !== undefined ? "--name" : "run name");
      // run
      const session = new Session(deps, globalsOf(cmd));
      const template = await loadTemplate(session, flags.template);
      const job = jobFromTemplate(template, {
        name,
        namespace: session.namespace,
        specText: JSON.stringify(raw),
        gpus,
        queue: flags.queue,
      });
      await createRunJob(session, deps.io, job, flags.dryRun, flags.output, "run");
    });
}
