/**
 * Pass 2's input, format by format: a shard's records after the first `skip`, batch by batch, each with its
 * 1-based record number, its split and its encoding into a chunk. CSV records go through RowEncoder as text;
 * Parquet rows go from their columns through ParquetRowEncoder (the same values, no text record per row).
 */
import { RowEncoder } from "./encoder";
import { fileOrder, parquetColumnBatches } from "./parquet";
import { ParquetRowEncoder } from "./parquet-encoder";
import type { Preprocess } from "./preprocess";
import { type ShardRecord, shardRecordBatches, splitOfHash, splitOfRecord, type SplitName } from "./records";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";

export interface RowsToEncode {
  readonly count: number;
  /** Record i's number in its shard (1-based). */
  row(i: number): number;
  part(i: number): SplitName;
  /** Writes record i into row `at` of x and y; false when it is dropped. `where` names it for an error. */
  encode(i: number, x: Float32Array, y: Float32Array, at: number, where: () => string): boolean;
}

export async function* rowsToEncode(
  shard: Shard,
  columns: readonly string[],
  pre: Preprocess,
  split: RunSpec["split"],
  skip: number,
): AsyncGenerator<RowsToEncode> {
  const used = [pre.target, ...pre.features.map((f) => f.column)];
  if (shard.format === "parquet") {
    const ordered = fileOrder(columns, used);
    const encoder = new ParquetRowEncoder(pre, ordered);
    for await (const rows of parquetColumnBatches(shard, columns, ordered, skip, split.seed)) {
      encoder.use(rows);
      yield {
        count: rows.count,
        row: (i) => rows.start + i + 1,
        part: (i) => splitOfHash(rows.hashes[i], split),
        encode: (i, x, y, at, where) => encoder.encode(i, x, y, at, where),
      };
    }
    return;
  }
  const encoder = new RowEncoder(pre, columns);
  // Pass 1 checked every value, so line numbers (csv-parse's info, a third of its time) are not tracked.
  for await (const batch of shardRecordBatches(shard, columns, skip, false, used, undefined, split.seed)) {
    yield {
      count: batch.length,
      row: (i) => batch[i].row,
      part: (i) => splitOfRecord(batch[i] as ShardRecord, split),
      encode: (i, x, y, at, where) => encoder.encode(batch[i].record, x, y, at, where),
    };
  }
}
