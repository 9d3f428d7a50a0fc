/**
 * Parquet shards through hyparquet (+ hyparquet-compressors): the footer and then the spec's columns, row group
 * by row group over ranged reads, turned into the same string records the CSV reader yields (so the split hash,
 * missing-value rules, statistics and encoders are the CSV path's). Columns the trainer cannot use are refused
 * by name before any data is read.
 */
import {
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type AsyncBuffer,
  type ColumnData,
  type DecodedArray,
  type FileMetaData,
  type SchemaTree,
} from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { canonicalLabel, DataError, decimal, FLOAT32_MAX, isMissing, type ParsedRecord } from "./data";
import { hashColumns } from "./parquet-hash";
import type { ShardRecord } from "./records";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";

/** Codecs hyparquet decodes (SNAPPY and UNCOMPRESSED built in, the rest from hyparquet-compressors). */
export const PARQUET_CODECS: readonly string[] = ["UNCOMPRESSED", "SNAPPY", ...Object.keys(compressors)].filter(
  (c, i, all) => all.indexOf(c) === i,
);

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
  if (
    e.type === "INT96" ||
    logical === "DATE" ||
    logical === "TIME" ||
    logical === "TIMESTAMP" ||
    (e.converted_type && DATE_TIME.has(e.converted_type))
  )
    return "a date/time type, which the trainer does not convert (no time zone or unit is assumed): write it as a number (e.g. seconds since the epoch) or list it in dataset.drop";
  if (logical && UNUSABLE_LOGICAL.has(logical)) return `of logical type ${logical}: list it in dataset.drop`;
  if (e.converted_type === "JSON" || e.converted_type === "BSON")
    return `of type ${e.converted_type}: list it in dataset.drop`;
  if (
    e.type === "FIXED_LEN_BYTE_ARRAY" &&
    logical !== "DECIMAL" &&
    logical !== "FLOAT16" &&
    e.converted_type !== "DECIMAL"
  )
    return "fixed-length binary: list it in dataset.drop";
  return undefined;
}

function asyncBuffer(object: { size: number; read(start: number, end: number): Promise<Buffer> }): AsyncBuffer {
  return {
    byteLength: object.size,
    async slice(start, end = object.size) {
      const b = await object.read(start, end);
      // A read of its own (not a slice of Buffer's pool) is handed on as it is, not copied.
      if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer as ArrayBuffer;
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
}

const unreadable = (shard: Shard, err: unknown) =>
  err instanceof DataError
    ? err
    : new DataError(`${shard.uri}: not a readable Parquet file: ${(err as Error).message}`);

/** Opens a shard for ranged reads and parses its footer. */
export async function openParquet(shard: Shard): Promise<ParquetFile> {
  let object: Awaited<ReturnType<typeof shard.ranged>>;
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
        throw new DataError(
          `${uri}: column "${meta.path_in_schema[0]}" is compressed with ${meta.codec}, which the trainer cannot read (it reads ${PARQUET_CODECS.join(", ")}): rewrite the file with zstd or snappy`,
        );
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
async function readRowGroup(
  file: ParquetFile,
  use: readonly string[],
  rowStart: number,
  rowEnd: number,
): Promise<Map<string, ColumnData[]>> {
  const chunks = new Map<string, ColumnData[]>(use.map((c) => [c, []]));
  await parquetRead({
    file: file.buffer,
    metadata: file.metadata,
    columns: [...use],
    rowStart,
    rowEnd,
    compressors,
    onChunk: (c) => chunks.get(c.columnName)?.push(c),
  });
  return chunks;
}

/** The value of column chunks `parts` at absolute row `row`. */
function valueAt(parts: ColumnData[], row: number): unknown {
  for (const p of parts)
    if (row >= p.rowStart && row < p.rowEnd) return (p.columnData as DecodedArray)[row - p.rowStart];
  return undefined;
}

/** The used columns of a run of rows: values[j] holds column use[j] from row `start` (0-based in the file). */
export interface ParquetRows {
  readonly start: number;
  readonly count: number;
  /** Per used column: the decoded values of these rows (numbers, bigints, booleans, strings, null). */
  readonly values: ArrayLike<unknown>[];
  /** Each row's split hash (hashColumns). */
  readonly hashes: Uint32Array;
}

/** The columns of `use` in the file's column order (the hash's order, whatever order the caller lists them in). */
export const fileOrder = (columns: readonly string[], use: readonly string[]) =>
  [...new Set(use)].sort((a, b) => columns.indexOf(a) - columns.indexOf(b));

/**
 * The used columns of a Parquet shard after the first `skip` rows, in runs of rows. `use` must be in file
 * order (fileOrder). Row groups wholly before `skip` are not fetched; the next row group is fetched while one
 * is handed on.
 */
export async function* parquetColumnBatches(
  shard: Shard,
  columns: readonly string[],
  use: readonly string[],
  skip: number,
  seed: number,
): AsyncGenerator<ParquetRows> {
  const file = await openParquet(shard);
  if (file.columns.length !== columns.length || file.columns.some((c, i) => c !== columns[i]))
    throw new DataError(
      `${shard.uri}: its columns (${file.columns.join(", ")}) differ from the first shard's (${columns.join(", ")}); every shard needs the same columns in the same order`,
    );
  checkColumns(file, use, shard.uri);
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
    const { start: from, end } = groups[k];
    for (let at = from; at < end; at += BATCH_RECORDS) {
      const stop = Math.min(end, at + BATCH_RECORDS);
      const values = use.map((c) => slice(data.get(c)!, at, stop));
      const hashes = new Uint32Array(stop - at);
      hashColumns(values, hashes.length, seed, hashes);
      yield { start: at, count: stop - at, values, hashes };
    }
  }
}

/** Rows [from, to) of a column read as chunks (usually one per row group). */
function slice(parts: ColumnData[], from: number, to: number): ArrayLike<unknown> {
  const one = parts.find((p) => from >= p.rowStart && to <= p.rowEnd);
  const data = one?.columnData as
    | (ArrayLike<unknown> & {
        subarray?: (a: number, b: number) => ArrayLike<unknown>;
        slice: (a: number, b: number) => ArrayLike<unknown>;
      })
    | undefined;
  if (one && data)
    return data.subarray
      ? data.subarray(from - one.rowStart, to - one.rowStart)
      : data.slice(from - one.rowStart, to - one.rowStart);
  return Array.from({ length: to - from }, (_, i) => valueAt(parts, from + i));
}

/**
 * The data records of a Parquet shard after the first `skip`, in batches: full-width records over `columns`
 * (the first shard's), with the columns in `use` filled as text and the others empty, each with its split hash.
 */
export async function* parquetRecordBatches(
  shard: Shard,
  columns: readonly string[],
  use: readonly string[],
  skip: number,
  seed: number,
): AsyncGenerator<ShardRecord[]> {
  const ordered = fileOrder(columns, use);
  const index = ordered.map((c) => columns.indexOf(c));
  for await (const rows of parquetColumnBatches(shard, columns, ordered, skip, seed)) {
    const out: ShardRecord[] = [];
    for (let r = 0; r < rows.count; r++) {
      const record = new Array<string>(columns.length).fill("");
      for (let j = 0; j < ordered.length; j++) record[index[j]] = cellText(rows.values[j][r]);
      out.push({ record, row: rows.start + r + 1, line: 0, hash: rows.hashes[r] });
    }
    yield out;
  }
}

/**
 * RecordParser.parse for a Parquet row straight from its values (no text for numbers): the same values, drop
 * reasons and refusals as parsing cellText of each value. undefined when the row needs RecordParser itself
 * (a value that is not a decimal number or overflows float32: it throws the error naming it).
 */
export class ParquetRecordParser {
  private readonly featureAt: number[];
  private readonly isCategorical: boolean[];
  private readonly targetAt: number;

  constructor(
    private readonly spec: RunSpec,
    ordered: readonly string[],
    private readonly features: readonly string[],
    categorical: ReadonlySet<string>,
  ) {
    this.featureAt = features.map((c) => ordered.indexOf(c));
    this.isCategorical = features.map((c) => categorical.has(c));
    this.targetAt = ordered.indexOf(spec.dataset.target);
  }

  /** The value as a number, null when missing, undefined when only RecordParser can say (text, bad values). */
  static number(v: unknown): number | null | undefined {
    if (v === null || v === undefined) return null;
    if (typeof v === "number") {
      if (Number.isNaN(v)) return null;
      // -0 as text is "0": the same zero here.
      return Math.abs(v) <= FLOAT32_MAX ? (v === 0 ? 0 : v) : undefined;
    }
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "bigint") return ParquetRecordParser.number(Number(v));
    if (isMissing(v as string)) return null;
    const n = decimal(v as string);
    return Math.abs(n) <= FLOAT32_MAX ? n : undefined;
  }

  parse(rows: ParquetRows, r: number): ParsedRecord | { dropped: string } | undefined {
    const { values: cols } = rows;
    const rawTarget = cols[this.targetAt][r];
    let target: number | string;
    if (this.spec.task !== "regression") {
      const text = cellText(rawTarget);
      if (isMissing(text)) return { dropped: `missing target ${this.spec.dataset.target}` };
      target = canonicalLabel(text.trim());
    } else {
      const n = ParquetRecordParser.number(rawTarget);
      if (n === null) return { dropped: `missing target ${this.spec.dataset.target}` };
      if (n === undefined) return undefined;
      target = n;
    }
    const values: (number | string | null)[] = new Array(this.features.length);
    let missingColumn: string | undefined;
    for (let k = 0; k < this.features.length; k++) {
      const v = cols[this.featureAt[k]][r];
      if (this.isCategorical[k]) {
        const text = cellText(v);
        if (isMissing(text)) {
          missingColumn ??= this.features[k];
          values[k] = null;
        } else values[k] = text.trim();
        continue;
      }
      const n = ParquetRecordParser.number(v);
      if (n === undefined) return undefined;
      if (n === null) missingColumn ??= this.features[k];
      values[k] = n;
    }
    if (missingColumn !== undefined && this.spec.preprocess.missing === "drop")
      return { dropped: `missing ${missingColumn}` };
    return { values, target };
  }

  /** The row as the full-width text record RecordParser reads (for its messages). */
  static record(rows: ParquetRows, r: number, ordered: readonly string[], columns: readonly string[]): string[] {
    const out = new Array<string>(columns.length).fill("");
    ordered.forEach((c, j) => (out[columns.indexOf(c)] = cellText(rows.values[j][r])));
    return out;
  }
}
