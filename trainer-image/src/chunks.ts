/**
 * Pass 2's producer: the rows of one split, encoded into float32 chunks, shard after shard. Runs in a
 * worker thread (parse-worker.ts) so parsing overlaps training, or in the main thread.
 */
import type { Batch } from "./batches";
import { RowEncoder } from "./encoder";
import type { Preprocess } from "./preprocess";
import { shardRecordBatches, splitOf, type SplitName } from "./records";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";
import type { RetryOptions } from "./storage";

/** Rows encoded from one shard (a chunk never spans shards). */
export interface Chunk extends Batch {
  /** Index of the shard in the job's order. */
  readonly shard: number;
  /** Each row's 1-based record number in its shard. */
  readonly records: Int32Array;
  /** The shard has no rows after this chunk. */
  readonly last: boolean;
}

/** Everything a producer needs (plain data: it is posted to a worker). */
export interface ChunkJob {
  /** Shard URIs in the order to read them. */
  readonly shards: string[];
  readonly columns: string[];
  readonly pre: Preprocess;
  readonly split: RunSpec["split"];
  readonly part: SplitName;
  readonly chunkRows: number;
  /** Start at this shard (index into `shards`), after `skip` of its data records. */
  readonly startShard: number;
  readonly skip: number;
  /** Indices into `shards` not to read. */
  readonly skipShards?: number[];
  readonly retry: RetryOptions;
  readonly env: Record<string, string | undefined>;
}

/**
 * The chunks of `job`: each shard's rows of `job.part` in chunks of `chunkRows`, then an empty chunk with
 * `last` set (so a consumer knows the shard is done even when it had no such rows). Shards listed in
 * `job.skipShards` are not read (the consumer has them cached).
 */
export async function* encodedChunks(job: ChunkJob, shards: Shard[]): AsyncGenerator<Chunk> {
  const encoder = new RowEncoder(job.pre, job.columns);
  const { cols, yCols } = encoder;
  const { chunkRows } = job;
  const skipShards = new Set(job.skipShards ?? []);
  const used = [job.pre.target, ...job.pre.features.map((f) => f.column)];
  for (let s = job.startShard; s < shards.length; s++) {
    if (skipShards.has(s)) continue;
    const uri = shards[s].uri;
    let x = new Float32Array(chunkRows * cols);
    let y = new Float32Array(chunkRows * yCols);
    let records = new Int32Array(chunkRows);
    let rows = 0;
    // Pass 1 checked every value, so line numbers (csv-parse's info, a third of its time) are not tracked.
    for await (const batch of shardRecordBatches(shards[s], job.columns, s === job.startShard ? job.skip : 0, false, used)) {
      for (const { record, row } of batch) {
        if (splitOf(record, job.split) !== job.part) continue;
        if (!encoder.encode(record, x, y, rows, () => `row ${row} of ${uri}`)) continue;
        records[rows++] = row;
        if (rows < chunkRows) continue;
        yield { x, y, rows, shard: s, records, last: false };
        x = new Float32Array(chunkRows * cols);
        y = new Float32Array(chunkRows * yCols);
        records = new Int32Array(chunkRows);
        rows = 0;
      }
    }
    if (rows > 0) yield { x: x.slice(0, rows * cols), y: y.slice(0, rows * yCols), rows, shard: s, records: records.slice(0, rows), last: false };
    yield endOfShard(s);
  }
}

export const endOfShard = (shard: number): Chunk => ({ x: new Float32Array(0), y: new Float32Array(0), rows: 0, shard, records: new Int32Array(0), last: true });
