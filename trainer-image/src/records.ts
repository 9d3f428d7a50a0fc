/** The data records of each shard, header checked (every shard must have the first shard's columns). */
import { MAX_RECORD_BYTES } from "./csv-lines";
import { checkHeader, csvBatches, csvRecords, DataError } from "./data";
import { openParquet, parquetRecordBatches } from "./parquet";
import { hashRecord } from "./rng";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";

export interface ShardRecord {
  readonly record: string[];
  /** 1-based among the shard's data records. */
  readonly row: number;
  /** Source line (0 when not tracked). */
  readonly line: number;
  /** The record's split hash when its format defines its own (Parquet: over values); else hashRecord of the text. */
  readonly hash?: number;
}

export async function readHeader(shard: Shard): Promise<string[]> {
  if (shard.format === "parquet") return checkHeader((await openParquet(shard)).columns, shard.uri);
  for await (const item of csvRecords(await openShard(shard), shard.uri)) return checkHeader(item.record, shard.uri);
  return checkHeader(undefined, shard.uri);
}

/** A CSV shard's byte stream (decompressed); a store error names the shard. */
export const openCsv = (shard: Shard) => openShard(shard);

async function openShard(shard: Shard) {
  try {
    return await shard.open();
  } catch (err) {
    throw new DataError(`cannot read ${shard.uri}: ${(err as Error).message}`);
  }
}

/**
 * Streams the data records of `shard` after the first `skip`, in batches; its header must equal `columns`.
 * Leaving the loop early closes the download. `use`: the columns the run needs (Parquet reads only those;
 * the other fields of its records are empty).
 */
export async function* shardRecordBatches(
  shard: Shard,
  columns: readonly string[],
  skip = 0,
  lines = true,
  use: readonly string[] = columns,
  maxRecordBytes = MAX_RECORD_BYTES,
  seed = 0,
): AsyncGenerator<ShardRecord[]> {
  if (shard.format === "parquet") {
    yield* parquetRecordBatches(shard, columns, use, skip, seed);
    return;
  }
  let header: string[] | undefined;
  let row = 0;
  for await (const items of csvBatches(await openShard(shard), shard.uri, lines, maxRecordBytes)) {
    const out: ShardRecord[] = [];
    for (const item of items) {
      if (!header) {
        header = checkHeader(item.record, shard.uri);
        if (header.length !== columns.length || header.some((c, i) => c !== columns[i])) {
          throw new DataError(
            `${shard.uri}: its header (${header.join(", ")}) differs from the first shard's (${columns.join(", ")}); every shard needs the same columns in the same order`,
          );
        }
        continue;
      }
      if (++row <= skip) continue;
      out.push({ record: item.record, row, line: item.info.lines });
    }
    if (out.length) yield out;
  }
  if (!header) checkHeader(undefined, shard.uri);
}

/** shardRecordBatches one record at a time. */
export async function* shardRecords(
  shard: Shard,
  columns: readonly string[],
  skip = 0,
  lines = true,
): AsyncGenerator<ShardRecord> {
  for await (const batch of shardRecordBatches(shard, columns, skip, lines)) yield* batch;
}

export type SplitName = "train" | "validation" | "test";

/** The split of a record: a seeded hash of its content, so the same in every epoch, pass and shard order. */
export function splitOf(record: readonly string[], split: RunSpec["split"]): SplitName {
  return splitOfHash(hashRecord(record, split.seed), split);
}

/** The split of a shard record: its own hash (Parquet, hashed with split.seed) or its text's. */
export const splitOfRecord = (r: ShardRecord, split: RunSpec["split"]): SplitName =>
  r.hash !== undefined ? splitOfHash(r.hash, split) : splitOf(r.record, split);

/** The split of a record whose hashRecord value is `hash`. */
export function splitOfHash(hash: number, split: RunSpec["split"]): SplitName {
  const u = hash / 4294967296;
  return u < split.test ? "test" : u < split.test + split.validation ? "validation" : "train";
}
