/** The data records of each shard, header checked (every shard must have the first shard's columns). */
import { checkHeader, csvRecords, DataError } from "./data";
import { hashRecord } from "./rng";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";

export interface ShardRecord {
  readonly record: string[];
  /** 1-based among the shard's data records. */
  readonly row: number;
  /** Source line (0 when not tracked). */
  readonly line: number;
}

export async function readHeader(shard: Shard): Promise<string[]> {
  for await (const item of csvRecords(await openShard(shard), shard.uri)) return checkHeader(item.record, shard.uri);
  return checkHeader(undefined, shard.uri);
}

async function openShard(shard: Shard) {
  try {
    return await shard.open();
  } catch (err) {
    throw new DataError(`cannot read ${shard.uri}: ${(err as Error).message}`);
  }
}

/**
 * Streams the data records of `shard` after the first `skip`; its header must equal `columns`.
 * Leaving the loop early closes the download.
 */
export async function* shardRecords(shard: Shard, columns: readonly string[], skip = 0, lines = true): AsyncGenerator<ShardRecord> {
  let header: string[] | undefined;
  let row = 0;
  for await (const item of csvRecords(await openShard(shard), shard.uri, lines)) {
    if (!header) {
      header = checkHeader(item.record, shard.uri);
      if (header.length !== columns.length || header.some((c, i) => c !== columns[i])) {
        throw new DataError(`${shard.uri}: its header (${header.join(", ")}) differs from the first shard's (${columns.join(", ")}); every shard needs the same columns in the same order`);
      }
      continue;
    }
    if (++row <= skip) continue;
    yield { record: item.record, row, line: item.info.lines };
  }
  if (!header) checkHeader(undefined, shard.uri);
}

export type SplitName = "train" | "validation" | "test";

/** The split of a record: a seeded hash of its content, so the same in every epoch, pass and shard order. */
export function splitOf(record: readonly string[], split: RunSpec["split"]): SplitName {
  const u = hashRecord(record, split.seed) / 4294967296;
  return u < split.test ? "test" : u < split.test + split.validation ? "validation" : "train";
}
