/**
 * `kubectl kiln run-local JOB`: read a Job from the API server, resolve its trainer container's env,
 * and run the same trainer entrypoint on this machine. For debugging without a GPU node, and for
 * clusters whose nodes are simulated (the local harness).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import type { V1Job } from "@kubernetes/client-node";
import { type Deps, globalsOf, Session } from "../context";
import { CliError, explainApiError, UsageError } from "../errors";
import { gpusOf, validateRunName } from "../job";
import { localPathProblem } from "../../../trainer-image/src/api";
import { localCommand, resolveEnv } from "../local-env";
import { runStatus } from "../rows";
import { intFlag } from "./common";
import { TRAINER_CONTAINER } from "../../../contract/labels";

interface RunLocalFlags {
  trainer?: string;
  index?: string;
  env: string[];
}

/** The checkout's trainer build: <repo>/trainer-image/dist/main.js, found upwards from this file. */
export function defaultTrainerEntry(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "trainer-image", "package.json")))
      return path.join(dir, "trainer-image", "dist", "main.js");
    if (path.dirname(dir) === dir) return path.resolve("trainer-image/dist/main.js");
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerRunLocal(program: Command, deps: Deps): void {
  program
    .command("run-local")
    .description(
      "run a Job's trainer container on this machine: env resolved from the cluster, command mapped to the local trainer build",
    )
    .argument("<job>", "Job name")
    .option(
      "--trainer <path>",
      "local trainer entrypoint (env KILN_TRAINER_ENTRY; default <repo>/trainer-image/dist/main.js)",
    )
    .option("--index <i>", "Indexed Job (sweep): the JOB_COMPLETION_INDEX to run", "0")
    .option(
      "--env <KEY=VALUE>",
      "override one env var locally, e.g. an endpoint reachable from here (repeatable)",
      collect,
      [],
    )
    .action(async (jobName: string, flags: RunLocalFlags, cmd: Command) => {
      validateRunName(jobName);
      const index = intFlag("--index", flags.index, 0, 100000)!;
      const overrides: Record<string, string> = {};
      for (const kv of flags.env) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw new UsageError(`--env ${kv}: expected KEY=VALUE`);
        overrides[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const entry = path.resolve(flags.trainer ?? deps.env.KILN_TRAINER_ENTRY ?? defaultTrainerEntry());
      if (!fs.existsSync(entry))
        throw new UsageError(
          `trainer entrypoint ${entry} does not exist: build it (npm run build -w trainer-image) or pass --trainer / KILN_TRAINER_ENTRY`,
        );
      const problem = localPathProblem(entry, "read-file");
      if (problem) throw new UsageError(`${flags.trainer ? "--trainer" : "trainer entrypoint"} ${entry}: ${problem}`);

      const session = new Session(deps, globalsOf(cmd));
      const ns = session.namespace;
      const api = session.api;
      const ctx = { server: api.server, namespace: ns };
      let job: V1Job;
      try {
        job = await api.getJob(ns, jobName);
      } catch (err) {
        throw explainApiError(err, {
          ...ctx,
          attempting: `reading Job ${jobName} in namespace ${ns}`,
          notFound: `no Job ${jobName} in namespace ${ns} (kubectl kiln ls -n ${ns})`,
        });
      }
      const pod = job.spec?.template.spec;
      const container = pod?.containers.find((c) => c.name === TRAINER_CONTAINER) ?? pod?.containers[0];
      if (!container) throw new CliError(`Job ${jobName} has no containers`);
      if (job.spec?.completionMode === "Indexed" && index >= (job.spec.completions ?? 1))
        throw new UsageError(`--index ${index} is outside the sweep (0..${(job.spec.completions ?? 1) - 1})`);
      const sources = {
        configMap: (name: string) =>
          api
            .getConfigMap(ns, name)
            .catch((err) =>
              Promise.reject(
                explainApiError(err, { ...ctx, attempting: `reading ConfigMap ${name} for the Job's env` }),
              ),
            ),
        secret: (name: string) =>
          api
            .getSecret(ns, name)
            .catch((err) =>
              Promise.reject(explainApiError(err, { ...ctx, attempting: `reading Secret ${name} for the Job's env` })),
            ),
      };
      const { env, origins } = await resolveEnv(
        job,
        container,
        sources,
        job.spec?.completionMode === "Indexed" ? index : undefined,
      );
      Object.assign(env, overrides);
      const [command, ...args] = localCommand(container, process.execPath, entry);

      const gpus = gpusOf(job);
      const say = (line: string) => deps.io.err(`run-local: ${line}\n`);
      say(
        `REAL   Job ${ns}/${jobName} read from the API server ${api.server} (status ${runStatus(job)}); the cluster's own pods of it are not touched`,
      );
      say(`LOCAL  its container runs HERE, as a local process, not in a pod: ${[command, ...args].join(" ")}`);
      say(`LOCAL  env resolved from the cluster: ${origins.join("; ")}`);
      for (const k of Object.keys(overrides)) say(`LOCAL  env ${k} overridden by --env`);
      say(
        `LOCAL  not applied here: ${gpus > 0 ? `${gpus} x nvidia.com/gpu (tfjs picks what this machine has), ` : ""}resource limits, security context, node selection`,
      );
      if (env.AWS_ENDPOINT_URL_S3)
        say(`REAL   object store ${env.AWS_ENDPOINT_URL_S3}: datasets are read from and results written to it`);

      const result = await deps.spawn(command, args, { ...deps.env, ...env });
      const code = result.code ?? (result.signal ? 128 + (result.signal === "SIGINT" ? 2 : 15) : 1);
      say(`trainer exited with ${result.signal ? `signal ${result.signal}` : `code ${code}`}`);
      if (code !== 0) throw new CliError("", code);
    });
}
