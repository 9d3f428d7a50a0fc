/**
 * Pass 2's input, format by format: a shard's records after the first `skip`, batch by batch, each with its
 * 1-based record number, its split and its encoding into a chunk. Plain CSV records go from the fast scanner's
 * fields through PlainRowEncoder; from the first line that is not plain, csv-parse reads the rest of the shard
 * and RowEncoder encodes its text records (the statistics pass falls back the same way). Parquet rows go from
 * their columns through ParquetRowEncoder. All three give what RowEncoder gives on the records' text.
 */
import { MAX_RECORD_BYTES } from "./csv-lines";
import { RowEncoder } from "./encoder";
import { plainCsvBatches } from "./fast-csv";
import { fileOrder, parquetColumnBatches } from "./parquet";
import { ParquetRowEncoder } from "./parquet-encoder";
import { PlainRowEncoder } from "./plain-encoder";
import type { Preprocess } from "./preprocess";
import { openCsv, type ShardRecord, shardRecordBatches, splitOfHash, splitOfRecord, type SplitName } from "./records";
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
  fastCsv = true,
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
  if (fastCsv) {
    const read = yield* plainRowsToEncode(shard, columns, pre, split, skip);
    if (read === undefined) return;
    skip = Math.max(skip, read);
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

/**
 * The fast path's part of a CSV shard: its plain records after the first `skip`. Returns undefined when it read
 * the whole shard, else the number of records it read before the line it cannot judge (csv-parse goes on from
 * there). A shard without a data record is left to csv-parse too: it says what is wrong with its header.
 */
async function* plainRowsToEncode(
  shard: Shard,
  columns: readonly string[],
  pre: Preprocess,
  split: RunSpec["split"],
  skip: number,
): AsyncGenerator<RowsToEncode, number | undefined> {
  const encoder = new PlainRowEncoder(pre, columns);
  const batches = plainCsvBatches(await openCsv(shard), shard.uri, columns, MAX_RECORD_BYTES, split.seed);
  let read = 0;
  try {
    for (let step = await batches.next(); ; step = await batches.next()) {
      if (step.done) return step.value === undefined && read > 0 ? undefined : read;
      const rows = step.value;
      const before = read;
      read += rows.count;
      const first = Math.min(rows.count, Math.max(0, skip - before));
      if (first === rows.count) continue;
      encoder.use(rows, first);
      yield {
        count: rows.count - first,
        row: (i) => before + first + i + 1,
        part: (i) => splitOfHash(rows.hashes[first + i], split),
        encode: (i, x, y, at, where) => encoder.encode(i, x, y, at, where),
      };
    }
  } finally {
    // A consumer that stops early closes the read (plainCsvBatches destroys its source).
    await batches.return(undefined);
  }
}
