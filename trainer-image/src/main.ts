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
import { RunSpecError } from "./spec";
import { DivergenceError } from "./train";

export const EXIT = { ok: 0, failed: 1, usage: 2, diverged: 3, interrupted: 143 } as const;

async function trainCommand(opts: { spec?: string }): Promise<number> {
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) return;
    stopRequested = true;
    console.log(JSON.stringify({ event: "signal", signal, action: "checkpointing, then exiting" }));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    const spec = resolveRunSpec(await readSpecText(opts.spec, process.env), process.env);
    console.log(JSON.stringify({ event: "start", runId: spec.runId, output: `${spec.output.uri.replace(/\/+$/, "")}/${spec.runId}`, pid: process.pid }));
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
