/**
 * Pass 2's producer: the rows of one split, encoded into float32 chunks, shard after shard. Runs in a
 * worker thread (parse-worker.ts) so parsing overlaps training, or in the main thread.
 */
import type { Batch } from "./batches";
import { RowEncoder } from "./encoder";
import type { Preprocess } from "./preprocess";
import type { SplitName } from "./records";
import { rowsToEncode } from "./rows-to-encode";
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
  /** Rows of another split than the job's (ChunkJob.side): for the cache, not for the consumer. */
  readonly part?: SplitName;
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
  /** Other splits to encode from the same read (in chunks of their own size), so no row is parsed twice. */
  readonly side?: { readonly part: SplitName; readonly chunkRows: number }[];
  readonly retry: RetryOptions;
  readonly env: Record<string, string | undefined>;
}

/**
 * The chunks of `job`: each shard's rows of `job.part` in chunks of `chunkRows`, then an empty chunk with
 * `last` set (so a consumer knows the shard is done even when it had no such rows). Shards listed in
 * `job.skipShards` are not read (the consumer has them cached).
 */
export async function* encodedChunks(job: ChunkJob, shards: Shard[]): AsyncGenerator<Chunk> {
  const { cols, yCols } = new RowEncoder(job.pre, job.columns);
  const skipShards = new Set(job.skipShards ?? []);
  // The job's split first, then the side splits: each collects its rows into chunks of its own size.
  const outs = [{ part: job.part, chunkRows: job.chunkRows }, ...(job.side ?? [])].map((o, i) => ({
    ...o,
    main: i === 0,
    x: new Float32Array(0),
    y: new Float32Array(0),
    records: new Int32Array(0),
    rows: 0,
  }));
  const fresh = (o: (typeof outs)[number]) => {
    o.x = new Float32Array(o.chunkRows * cols);
    o.y = new Float32Array(o.chunkRows * yCols);
    o.records = new Int32Array(o.chunkRows);
    o.rows = 0;
  };
  const byPart = new Map(outs.map((o) => [o.part, o]));
  const chunk = (o: (typeof outs)[number], s: number, last: boolean): Chunk => ({
    x: o.x,
    y: o.y,
    rows: o.rows,
    shard: s,
    records: o.records,
    last,
    ...(o.main ? {} : { part: o.part }),
  });
  for (let s = job.startShard; s < shards.length; s++) {
    if (skipShards.has(s)) continue;
    const uri = shards[s].uri;
    outs.forEach(fresh);
    const skip = s === job.startShard ? job.skip : 0;
    for await (const batch of rowsToEncode(shards[s], job.columns, job.pre, job.split, skip)) {
      for (let i = 0; i < batch.count; i++) {
        const o = byPart.get(batch.part(i));
        if (!o) continue;
        const row = batch.row(i);
        if (!batch.encode(i, o.x, o.y, o.rows, () => `row ${row} of ${uri}`)) continue;
        o.records[o.rows++] = row;
        if (o.rows < o.chunkRows) continue;
        yield chunk(o, s, false);
        fresh(o);
      }
    }
    // Side splits end before the job's own: the consumer moves to the next shard on the job's end of shard.
    for (const o of [...outs.slice(1), outs[0]]) {
      if (o.rows > 0)
        yield {
          ...chunk(o, s, false),
          x: o.x.slice(0, o.rows * cols),
          y: o.y.slice(0, o.rows * yCols),
          records: o.records.slice(0, o.rows),
        };
      yield o.main ? endOfShard(s) : { ...endOfShard(s), part: o.part };
    }
  }
}

export const endOfShard = (shard: number): Chunk => ({
  x: new Float32Array(0),
  y: new Float32Array(0),
  rows: 0,
  shard,
  records: new Int32Array(0),
  last: true,
});
