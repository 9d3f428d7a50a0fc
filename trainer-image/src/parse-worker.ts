/**
 * Worker thread of pass 2: runs encodedChunks for one job and posts each chunk (its buffers transferred,
 * not copied). At most `prefetch` chunks are unacknowledged, so memory stays bounded.
 * Messages in: {job, prefetch}, then "ack" per chunk consumed. Out: chunk | {end} | {error}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { encodedChunks, type ChunkJob } from "./chunks";
import { shardAt } from "./shards";

const { job, prefetch } = workerData as { job: ChunkJob; prefetch: number };
const port = parentPort!;
let credit = prefetch;
let resume: (() => void) | undefined;
port.on("message", () => {
  credit++;
  resume?.();
});

async function run(): Promise<void> {
  const shards = job.shards.map((uri) => shardAt(uri, job.retry, job.env));
  for await (const chunk of encodedChunks(job, shards)) {
    while (credit === 0) await new Promise<void>((r) => (resume = r));
    credit--;
    port.postMessage({ chunk }, [chunk.x.buffer, chunk.y.buffer, chunk.records.buffer] as ArrayBuffer[]);
  }
  port.postMessage({ end: true });
}

run().catch((err: Error) => port.postMessage({ error: { name: err.name, message: err.message } }));
