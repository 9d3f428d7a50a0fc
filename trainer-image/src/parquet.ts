/**
 * Parquet shards through hyparquet (+ hyparquet-compressors): the footer and then the spec's columns, row group
 * by row group over ranged reads, turned into the same string records the CSV reader yields (so the split hash,
 * missing-value rules, statistics and encoders are the CSV path's). Columns the trainer cannot use are refused
 * by name before any data is read.
 */
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer, type ColumnData, type DecodedArray, type FileMetaData, type SchemaTree } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { DataError } from "./data";
import type { ShardRecord } from "./records";
import type { Shard } from "./shards";

/** Codecs hyparquet decodes (SNAPPY and UNCOMPRESSED built in, the rest from hyparquet-compressors). */
export const PARQUET_CODECS: readonly string[] = ["UNCOMPRESSED", "SNAPPY", ...Object.keys(compressors)].filter((c, i, all) => all.indexOf(c) === i);

/** Records per batch handed on (as csvBatches): amortises the awaits, small next to a shuffle buffer. */
const BATCH_RECORDS = 2048;

export interface ParquetFile {
  readonly metadata: FileMetaData;
  readonly buffer: AsyncBuffer;
  /** Top-level column names in schema order: the shard's "header". */
  readonly columns: string[];
  readonly tree: SchemaTree;
}

const DATE_TIME = new Set(["DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "INTERVAL"]);
const UNUSABLE_LOGICAL = new Set(["JSON", "BSON", "UUID", "GEOMETRY", "GEOGRAPHY", "VARIANT", "FILE", "INTERVAL"]);

/** Why a top-level column cannot be a feature or target, or undefined when it can. */
export function unusable(node: SchemaTree): string | undefined {
  const e = node.element;
  const logical = e.logical_type?.type;
  if (node.children.length > 0 || e.repetition_type === "REPEATED" || logical === "LIST" || logical === "MAP")
    return "a nested type (list, map or struct); the trainer reads flat columns: list it in dataset.drop or flatten it";
  if (e.type === "INT96" || logical === "DATE" || logical === "TIME" || logical === "TIMESTAMP" || (e.converted_type && DATE_TIME.has(e.converted_type)))
    return "a date/time type, which the trainer does not convert (no time zone or unit is assumed): write it as a number (e.g. seconds since the epoch) or list it in dataset.drop";
  if (logical && UNUSABLE_LOGICAL.has(logical)) return `of logical type ${logical}: list it in dataset.drop`;
  if (e.converted_type === "JSON" || e.converted_type === "BSON") return `of type ${e.converted_type}: list it in dataset.drop`;
  if (e.type === "FIXED_LEN_BYTE_ARRAY" && logical !== "DECIMAL" && logical !== "FLOAT16" && e.converted_type !== "DECIMAL")
    return "fixed-length binary: list it in dataset.drop";
  return undefined;
}

function asyncBuffer(object: { size: number; read(start: number, end: number): Promise<Buffer> }): AsyncBuffer {
  return {
    byteLength: object.size,
    async slice(start, end = object.size) {
      const b = await object.read(start, end);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

const unreadable = (shard: Shard, err: unknown) => (err instanceof DataError ? err : new DataError(`${shard.uri}: not a readable Parquet file: ${(err as Error).message}`));

/** Opens a shard for ranged reads and parses its footer. */
export async function openParquet(shard: Shard): Promise<ParquetFile> {
  let object;
  try {
    object = await shard.ranged();
  } catch (err) {
    throw new DataError(`cannot read ${shard.uri}: ${(err as Error).message}`);
  }
  try {
    const buffer = asyncBuffer(object);
    const metadata = await parquetMetadataAsync(buffer);
    const tree = parquetSchema(metadata);
    return { metadata, buffer, tree, columns: tree.children.map((c) => c.element.name) };
  } catch (err) {
    throw unreadable(shard, err);
  }
}

/** Refuses, naming the column, what the trainer cannot use among `use`: nested, date/time, binary, codecs. */
export function checkColumns(file: ParquetFile, use: readonly string[], uri: string): void {
  for (const name of use) {
    const node = file.tree.children.find((c) => c.element.name === name);
    if (!node) throw new DataError(`${uri}: has no column "${name}" (columns: ${file.columns.join(", ")})`);
    const why = unusable(node);
    if (why) throw new DataError(`${uri}: column "${name}" is ${why}`);
  }
  for (const group of file.metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (!meta || !use.includes(meta.path_in_schema[0])) continue;
      if (!PARQUET_CODECS.includes(meta.codec))
        throw new DataError(`${uri}: column "${meta.path_in_schema[0]}" is compressed with ${meta.codec}, which the trainer cannot read (it reads ${PARQUET_CODECS.join(", ")}): rewrite the file with zstd or snappy`);
    }
  }
}

/** A Parquet value as the text a CSV cell would hold: null -> "" (missing), booleans 1/0, numbers as written by String. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "1" : "0";
  return String(v);
}

/** The decoded columns of one row group, read whole (the memory bound) and looked up by row. */
async function readRowGroup(file: ParquetFile, use: readonly string[], rowStart: number, rowEnd: number): Promise<Map<string, ColumnData[]>> {
  const chunks = new Map<string, ColumnData[]>(use.map((c) => [c, []]));
  await parquetRead({ file: file.buffer, metadata: file.metadata, columns: [...use], rowStart, rowEnd, compressors, onChunk: (c) => chunks.get(c.columnName)?.push(c) });
  return chunks;
}

/** The value of column chunks `parts` at absolute row `row`. */
function valueAt(parts: ColumnData[], row: number): unknown {
  for (const p of parts) if (row >= p.rowStart && row < p.rowEnd) return (p.columnData as DecodedArray)[row - p.rowStart];
  return undefined;
}

/**
 * The data records of a Parquet shard after the first `skip`, in batches: full-width records over `columns`
 * (the first shard's), with the columns in `use` filled and the others empty. Row groups wholly before `skip`
 * are not fetched; the next row group is fetched while one is handed on.
 */
export async function* parquetRecordBatches(shard: Shard, columns: readonly string[], use: readonly string[], skip = 0): AsyncGenerator<ShardRecord[]> {
  const file = await openParquet(shard);
  if (file.columns.length !== columns.length || file.columns.some((c, i) => c !== columns[i]))
    throw new DataError(`${shard.uri}: its columns (${file.columns.join(", ")}) differ from the first shard's (${columns.join(", ")}); every shard needs the same columns in the same order`);
  checkColumns(file, use, shard.uri);
  const index = use.map((c) => columns.indexOf(c));
  const groups: { start: number; end: number }[] = [];
  let start = 0;
  for (const g of file.metadata.row_groups) {
    const end = start + Number(g.num_rows);
    if (end > skip && end > start) groups.push({ start: Math.max(start, skip), end });
    start = end;
  }
  const fetch = (g: { start: number; end: number }) =>
    readRowGroup(file, use, g.start, g.end).catch((err: unknown) => {
      throw unreadable(shard, err);
    });
  let next = groups.length ? fetch(groups[0]) : undefined;
  for (let k = 0; k < groups.length; k++) {
    const data = await next!;
    next = k + 1 < groups.length ? fetch(groups[k + 1]) : undefined;
    // A failed prefetch surfaces when it is awaited; until then it must not count as unhandled.
    next?.catch(() => undefined);
    const parts = use.map((c) => data.get(c)!);
    const { start: from, end } = groups[k];
    for (let at = from; at < end; at += BATCH_RECORDS) {
      const out: ShardRecord[] = [];
      const stop = Math.min(end, at + BATCH_RECORDS);
      for (let row = at; row < stop; row++) {
        const record = new Array<string>(columns.length).fill("");
        for (let j = 0; j < parts.length; j++) record[index[j]] = cellText(valueAt(parts[j], row));
        out.push({ record, row: row + 1, line: 0 });
      }
      yield out;
    }
  }
}
