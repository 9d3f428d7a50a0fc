/** Helpers shared by the verbs: option parsing, the run spec file, the Job template, printing. */
import * as fs from "node:fs";
import { Option } from "commander";
import type { V1CronJob, V1Job } from "@kubernetes/client-node";
import { checkLocalPath, LocalPathError, parseYaml, tooDeep } from "../../../trainer-image/src/api";
import type { Session } from "../context";
import { CliError, explainApiError, statusCode, UsageError } from "../errors";
import { templateFromManifest } from "../job";
import {
  DRY_RUN_MODES,
  type DryRun,
  dryRunSuffix,
  formatObject,
  type Io,
  OUTPUT_FORMATS,
  type OutputFormat,
} from "../output";
import { parseRunSpec, type RunSpec } from "../runspec";
import { TRAINER_NAME } from "../../../contract/labels";

export const outputOption = () =>
  new Option("-o, --output <format>", "output format").choices(OUTPUT_FORMATS).default("table");
export const dryRunOption = () =>
  new Option(
    "--dry-run [strategy]",
    "client: print the Job without sending it; server: let the API server validate it without creating it",
  )
    .choices(DRY_RUN_MODES)
    .preset("client")
    .default("none");

/** A whole number within [min, max] from a flag value, else a UsageError naming the flag. */
export function intFlag(flag: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min || Number(text) > max)
    throw new UsageError(`${flag} "${text}" must be a whole number from ${min} to ${max}`);
  return Number(text);
}

export interface SpecFile {
  /** The spec as the user wrote it (parsed YAML/JSON), what gets inlined. */
  readonly raw: Record<string, unknown>;
  /** The validated spec (defaults applied). */
  readonly spec: RunSpec;
}

/** Largest --spec / --template file read: a run spec is inlined into the Job (etcd objects are at most 1.5 MiB). */
export const MAX_INPUT_BYTES = 512 * 1024;

/** The text of a user's input file, refused before reading when it is not a regular file or too large. */
export function readInputFile(flag: string, file: string): string {
  let size: number;
  try {
    checkLocalPath(flag, file, "read-file");
    size = fs.statSync(file).size;
  } catch (err) {
    if (err instanceof LocalPathError) throw new UsageError(err.message);
    throw new UsageError(
      `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (size > MAX_INPUT_BYTES)
    throw new UsageError(
      `${flag} ${file} is ${size} bytes; the limit is ${MAX_INPUT_BYTES} (${MAX_INPUT_BYTES / 1024} KiB)`,
    );
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  // The yaml package composes recursively: a deeply nested file would overflow the stack while parsing.
  const deep = tooDeep(text, MAX_INPUT_NESTING);
  if (deep)
    throw new UsageError(
      `${flag} ${file}: nested more than ${MAX_INPUT_NESTING} levels deep at ${deep.path} (line ${deep.line}): check the brackets and indentation there`,
    );
  return text;
}

/** Deepest nesting of a --spec or --template file (a Job template needs about 15 levels). */
export const MAX_INPUT_NESTING = 64;

/** Reads and validates a run spec file with the trainer's own schema (RunSpecError = exit 2). */
export function readSpecFile(file: string | undefined): SpecFile {
  if (!file) throw new UsageError("--spec <file> is required: the run spec YAML (see trainer-image/src/spec.ts)");
  const text = readInputFile("--spec", file);
  const spec = parseRunSpec(text);
  return { raw: parseYaml(text) as Record<string, unknown>, spec };
}

/** The Job template: from --template FILE (helm template output), else CronJob kiln-trainer in the namespace. */
export async function loadTemplate(session: Session, templateFile: string | undefined): Promise<V1CronJob> {
  if (templateFile) {
    return templateFromManifest(readInputFile("--template", templateFile), templateFile);
  }
  const ns = session.namespace;
  const api = session.api;
  const attempting = `reading the Job template (CronJob ${TRAINER_NAME}) in namespace ${ns}`;
  try {
    return await api.getCronJob(ns, TRAINER_NAME);
  } catch (err) {
    if (statusCode(err) === 404) {
      const exists = await api.namespaceExists(ns).catch(() => undefined);
      if (exists === false)
        throw new CliError(
          `${attempting}: namespace ${ns} does not exist; pick a team namespace with -n (kubectl get namespaces)`,
        );
      throw new CliError(
        `${attempting}: no Kiln template installed in namespace ${ns} (CronJob ${TRAINER_NAME} not found); install it with 'helm install kiln-trainer charts/trainer -n ${ns}' or use a team namespace created by 'pulumi up'`,
      );
    }
    throw explainApiError(err, { attempting, server: api.server, namespace: ns });
  }
}

/** Creates the Job (or prints it for --dry-run=client) and reports it. */
export async function createRunJob(
  session: Session,
  io: Io,
  job: V1Job,
  dryRun: DryRun,
  output: OutputFormat,
  what: string,
): Promise<V1Job> {
  const ns = job.metadata!.namespace!;
  const name = job.metadata!.name!;
  let result = job;
  if (dryRun !== "client") {
    const api = session.api;
    try {
      result = await api.createJob(ns, job, dryRun === "server");
    } catch (err) {
      throw explainApiError(err, {
        attempting: `creating ${what} Job ${name} in namespace ${ns}`,
        server: api.server,
        namespace: ns,
        notFound: `namespace ${ns} does not exist; pick a team namespace with -n`,
        conflict: `a run named ${name} already exists in namespace ${ns}; choose another --name (kubectl kiln ls -n ${ns})`,
      });
    }
  }
  if (output === "table") {
    io.out(`job.batch/${name} created${dryRunSuffix(dryRun)}\n`);
    if (dryRun === "none") io.err(`Follow it: kubectl kiln logs ${name} -f -n ${ns}\n`);
  } else {
    io.out(formatObject(result, output));
    if (dryRun !== "none") io.err(`job.batch/${name}${dryRunSuffix(dryRun)}\n`);
  }
  return result;
}
