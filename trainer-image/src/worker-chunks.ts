/** The main thread's side of parse-worker.ts: the worker's chunks as an async iterator, errors rethrown. */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { Chunk, ChunkJob } from "./chunks";
import { DataError } from "./data";

/** The compiled worker next to this file; from sources (tests, ts-node) through ts-node's register hook. */
function workerFile(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, "parse-worker.js");
  if (existsSync(js)) return { file: js, execArgv: [] };
  return { file: path.join(__dirname, "parse-worker.ts"), execArgv: ["-r", "ts-node/register/transpile-only"] };
}

type Message = { chunk: Chunk } | { end: true } | { error: { name: string; message: string } };

/** Chunks one at a time; close() stops the producer. */
export interface ChunkInput<T = Chunk> {
  next(): Promise<T | undefined>;
  close(): void;
}

export function workerChunks(job: ChunkJob, prefetch: number): ChunkInput {
  const { file, execArgv } = workerFile();
  const worker = new Worker(file, { workerData: { job, prefetch }, execArgv });
  const queue: Message[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const push = (m: Message) => {
    queue.push(m);
    wake?.();
  };
  worker.on("message", push);
  worker.on("error", (err) => push({ error: { name: err.name, message: err.message } }));
  worker.on(
    "exit",
    (code) =>
      !closed && push({ error: { name: "Error", message: `the parse worker exited (${code}) before its end` } }),
  );
  return {
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      const m = queue[0];
      if ("chunk" in m) {
        queue.shift();
        worker.postMessage("ack");
        return m.chunk;
      }
      // The worker is done (or failed): stop it now rather than when the consumer closes.
      closed = true;
      void worker.terminate();
      if ("end" in m) return undefined;
      const Err = m.error.name === "DataError" ? DataError : Error;
      throw new Err(m.error.message);
    },
    close() {
      if (closed) return;
      closed = true;
      void worker.terminate();
    },
  };
}
