#!/usr/bin/env node
/**
 * Entry point: `node dist/main.js train [--spec <path|s3://...>]`, `convert --from <csv> --to <prefix>`.
 * Exit codes: 0 succeeded, 1 failed, 2 invalid spec/usage or refused run, 143 stopped by SIGTERM after
 * checkpointing (the Job retries and the next pod resumes).
 */
import { Command, CommanderError } from "commander";
import { convertCommand, DEFAULT_ROW_GROUP_ROWS } from "./convert";
import { DataError } from "./data";
import { readSpecText, resolveRunSpec } from "./loadSpec";
import { RunRefusedError, runTraining } from "./run";
import { RunSpecError, type RunSpec } from "./spec";
import { localPathProblem, type PathUse } from "./local-path";
import { localPath } from "./storage";
import * as path from "node:path";
import { DivergenceError } from "./train";

export const EXIT = { ok: 0, failed: 1, usage: 2, diverged: 3, interrupted: 143 } as const;

/**
 * Seconds from SIGTERM to a forced exit when KILN_STOP_GRACE_SECONDS is unset; the chart sets it to 3/4 of the
 * pod's grace period (90 of its default 120).
 */
export const DEFAULT_STOP_GRACE_SECONDS = 90;

/** KILN_STOP_GRACE_SECONDS, else the default; a bad value is a usage error. */
export function stopGraceSeconds(env: NodeJS.ProcessEnv): number {
  const text = env.KILN_STOP_GRACE_SECONDS;
  if (text === undefined || text.trim() === "") return DEFAULT_STOP_GRACE_SECONDS;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new RunSpecError([`KILN_STOP_GRACE_SECONDS="${text}" must be seconds from 1 to 86400`]);
  return n;
}

/** The spec's local paths, checked before the run touches them (s3:// URIs are the store's to judge). */
export function localPathProblems(spec: RunSpec): string[] {
  const problems: string[] = [];
  const check = (field: string, uri: string, use: PathUse) => {
    if (uri.startsWith("s3://")) return;
    const problem = localPathProblem(localPath(uri), use);
    if (problem) problems.push(`${field}: ${uri} ${problem}`);
  };
  check("output.uri", spec.output.uri, "write-dir");
  // A glob (dir/part-*.csv) reads its directory; a directory or a name that is no file (a prefix: dir/part-)
  // reads the directory it is in; anything else is one file.
  const data = spec.dataset.uri;
  if (data.startsWith("s3://")) return problems;
  const glob = data.search(/[*?[{]/);
  const file = localPath(data);
  if (glob >= 0) check("dataset.uri", data.slice(0, data.lastIndexOf("/", glob) + 1) || ".", "read-dir");
  else if (data.endsWith("/") || localPathProblem(file, "read-dir") === undefined)
    check("dataset.uri", data, "read-dir");
  else if (localPathProblem(file, "read-file") === "does not exist")
    check("dataset.uri", path.dirname(file), "read-dir");
  else check("dataset.uri", data, "read-file");
  return problems;
}

async function trainCommand(opts: { spec?: string }): Promise<number> {
  let stopRequested = false;
  let grace = DEFAULT_STOP_GRACE_SECONDS;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      console.log(JSON.stringify({ event: "signal", signal, action: "second signal: exiting now" }));
      process.exit(EXIT.interrupted);
    }
    stopRequested = true;
    console.log(
      JSON.stringify({ event: "signal", signal, action: "checkpointing, then exiting", graceSeconds: grace }),
    );
    // A run stuck in I/O never reaches its next checkpoint: leave before the kubelet's SIGKILL, still exit 143.
    setTimeout(() => {
      console.log(
        JSON.stringify({
          event: "signal",
          signal,
          action: `still running ${grace} s after ${signal}: exiting without a final checkpoint`,
        }),
      );
      process.exit(EXIT.interrupted);
    }, grace * 1000).unref();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    grace = stopGraceSeconds(process.env);
    const spec = resolveRunSpec(await readSpecText(opts.spec, process.env), process.env);
    const pathProblems = localPathProblems(spec);
    if (pathProblems.length) throw new RunSpecError(pathProblems);
    console.log(
      JSON.stringify({
        event: "start",
        runId: spec.runId,
        output: `${spec.output.uri.replace(/\/+$/, "")}/${spec.runId}`,
        pid: process.pid,
      }),
    );
    const outcome = await runTraining(spec, { shouldStop: () => stopRequested });
    return outcome.status === "interrupted" ? EXIT.interrupted : EXIT.ok;
  } catch (err) {
    if (err instanceof RunSpecError || err instanceof RunRefusedError) {
      console.error(`kiln-trainer: ${err.message}`);
      return EXIT.usage;
    }
    // Deterministic from the spec: a retry from the checkpoints would diverge again.
    if (err instanceof DivergenceError) {
      console.error(`kiln-trainer: diverged: ${err.message}`);
      return EXIT.diverged;
    }
    const kind = err instanceof DataError ? "data error" : "run failed";
    console.error(`kiln-trainer: ${kind}: ${(err as Error).message}`);
    if (!(err instanceof DataError) && process.env.KILN_DEBUG) console.error((err as Error).stack);
    return EXIT.failed;
  }
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command("kiln-trainer")
    .description("Kiln's tfjs training program")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command("train")
    .description("run (or resume) the training run described by the spec")
    .option("--spec <uri>", "run spec YAML/JSON: a path, file: or s3:// URI (default: env KILN_RUN_SPEC)")
    .action(async (opts: { spec?: string }) => {
      code = await trainCommand(opts);
    });
  program
    .command("convert")
    .description("write CSV shards (an object, prefix or glob) as Parquet shards under a prefix, one per CSV shard")
    .requiredOption("--from <uri>", "CSV data: s3://bucket/key, a prefix, a glob, or a local path")
    .requiredOption("--to <uri>", "prefix the .parquet shards are written under (s3://bucket/dir/ or a directory)")
    .option("--row-group-rows <n>", "rows per row group (the reader's unit of memory)", String(DEFAULT_ROW_GROUP_ROWS))
    .option("--codec <codec>", "snappy, gzip or none", "snappy")
    .action(async (opts: { from: string; to: string; rowGroupRows: string; codec: string }) => {
      code = await convertCommand(opts);
    });
  try {
    await program.parseAsync(argv, { from: "node" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  return code;
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
      // tfjs/wasm may keep handles open; leave promptly once outputs are written.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err) => {
      console.error(`kiln-trainer: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
}
