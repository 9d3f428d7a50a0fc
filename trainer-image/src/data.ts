/** CSV reading (streamed through csv-parse) and row parsing with errors that name column and row. */
import { pipeline, Readable } from "node:stream";
import { parse } from "csv-parse";
import type { RunSpec } from "./spec";
import { clip } from "./clip";
import { LineGuard, MAX_RECORD_BYTES } from "./csv-lines";

/** A data problem the user must fix in the file or the spec (exit code 1, message names column/row). */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}

export interface RawTable {
  readonly columns: string[];
  readonly rows: string[][];
  /** 1-based source line of each row (for error messages). */
  readonly lines: number[];
}

const MISSING = new Set(["", "na", "n/a", "nan", "null", "none", "?"]);
export function isMissing(v: string | undefined): boolean {
  if (v === undefined) return true;
  // Every missing marker is at most 4 characters: longer cells (most numbers) skip the lower-casing.
  const t = v.trim();
  return t.length <= 4 && MISSING.has(t.toLowerCase());
}

export type CsvItem = { record: string[]; info: { lines: number } };

/** Largest finite float32: the model's tensors cannot hold a value beyond it. */
export const FLOAT32_MAX = 3.4028234663852886e38;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV cell as decimal data: `0x1f`, `0b1`, `Infinity` and the like are not numbers here (NaN). */
export function decimal(text: string): number {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : NaN;
}

/** A class label: labels equal as decimal numbers ("1", "1.0", "01") are one class, written canonically. */
export function canonicalLabel(text: string): string {
  const n = decimal(text);
  return Number.isFinite(n) ? String(n) : text;
}

/**
 * Streams CSV records (header first) through csv-parse; every parse problem becomes a DataError.
 * `lines`: track each record's source line (csv-parse's info, about a third of its time); else line 0.
 */
export async function* csvRecords(source: Readable | string, name: string, lines = true): AsyncGenerator<CsvItem> {
  for await (const batch of csvBatches(source, name, lines)) yield* batch;
}

const NO_LINE = { lines: 0 };
/** Records per batch of csvBatches: enough to amortise the awaits, small next to a shuffle buffer. */
const BATCH_RECORDS = 2048;

/**
 * csvRecords in batches: each await yields every record csv-parse has ready (up to BATCH_RECORDS), read
 * synchronously off the parser. One await per record through two async generators cost more than the
 * parsing (measured on 1M rows: 16 s vs 6 s). Leaving the loop early closes the source.
 */
export async function* csvBatches(
  source: Readable | string,
  name: string,
  lines = true,
  maxRecordBytes = MAX_RECORD_BYTES,
): AsyncGenerator<CsvItem[]> {
  const input = typeof source === "string" ? Readable.from([source]) : source;
  const parser = parse({ skip_empty_lines: true, trim: true, relax_column_count: false, info: lines, bom: true });
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  parser.on("readable", poke);
  parser.on("end", () => {
    ended = true;
    poke();
  });
  // Whole lines only, up to the first one too long or ending in another style (that error comes after the
  // records before it, as the fast path reports it).
  const guard = new LineGuard(name, maxRecordBytes);
  // pipeline, not pipe: a read error (store connection reset, bad gzip) reaches the parser and ends the loop.
  pipeline(input, guard, parser, (err) => {
    if (err && !failure) failure = err;
    poke();
  });
  try {
    for (;;) {
      const batch: CsvItem[] = [];
      while (batch.length < BATCH_RECORDS) {
        const r: unknown = parser.read();
        if (r === null) break;
        batch.push(lines ? (r as CsvItem) : { record: r as string[], info: NO_LINE });
      }
      if (batch.length) {
        yield batch;
        continue;
      }
      if (failure) throw failure;
      if (ended) {
        if (guard.rules.error) {
          input.destroy();
          throw guard.rules.error;
        }
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${name}: not a readable CSV: ${(err as Error).message}`);
  } finally {
    if (!ended) parser.destroy();
  }
}

export function checkHeader(columns: string[] | undefined, name: string): string[] {
  if (!columns) throw new DataError(`${name}: file is empty; expected a header row and data rows`);
  const unnamed = columns.findIndex((c) => c.trim() === "");
  if (unnamed >= 0) throw new DataError(`${name}: header column ${unnamed + 1} has no name; every column needs one`);
  const dup = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dup !== undefined) throw new DataError(`${name}: header names column "${dup}" twice`);
  return columns;
}

/**
 * Reads a whole CSV into memory as strings: the in-memory reference the streaming path (stats.ts, stream.ts) is
 * tested against, and the bench's in-memory ceiling. Runs never use it.
 */
export async function readCsv(source: Readable | string, name: string): Promise<RawTable> {
  let columns: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  for await (const item of csvRecords(source, name)) {
    if (!columns) {
      columns = checkHeader(item.record, name);
      continue;
    }
    rows.push(item.record);
    lines.push(item.info.lines);
  }
  return { columns: checkHeader(columns, name), rows, lines };
}

/** One parsed row: feature values (number, category string, or null = missing) and the target. */
export interface ParsedRows {
  readonly features: string[];
  readonly categorical: Set<string>;
  readonly x: (number | string | null)[][];
  readonly y: (number | string)[];
  readonly rowsRead: number;
  readonly droppedRows: number;
  readonly dropReasons: Record<string, number>;
}

/** Resolves the feature columns of a spec against a header; every unknown column is named. */
export function resolveColumns(spec: RunSpec, columns: string[], name: string): string[] {
  const { target, drop, categorical, features } = spec.dataset;
  const problems: string[] = [];
  const known = (field: string, c: string) => {
    if (!columns.includes(c)) problems.push(`dataset.${field}: column "${c}" is not in ${name}`);
  };
  known("target", target);
  drop.forEach((c) => known("drop", c));
  categorical.forEach((c) => known("categorical", c));
  features?.forEach((c) => known("features", c));
  if (problems.length) throw new DataError(`${problems.join("; ")} (columns: ${columns.join(", ")})`);
  const chosen = features ?? columns.filter((c) => c !== target && !drop.includes(c));
  if (chosen.length === 0)
    throw new DataError(`no feature columns left in ${name}: every column is the target or dropped`);
  return chosen;
}

/** One record's parsed values: numbers, category strings or null (missing), and the target. */
export interface ParsedRecord {
  readonly values: (number | string | null)[];
  readonly target: number | string;
}

/**
 * Turns one CSV record into numbers/categories, or the reason it is dropped (missing-value policy).
 * Every bad value is a DataError naming the column, the row, the line and the file (or shard).
 */
export class RecordParser {
  readonly features: string[];
  readonly categorical: Set<string>;
  private readonly featureIdx: number[];
  private readonly targetIdx: number;

  constructor(
    private readonly spec: RunSpec,
    columns: string[],
    private readonly name: string,
  ) {
    this.features = resolveColumns(spec, columns, name);
    this.categorical = new Set(spec.dataset.categorical);
    this.featureIdx = this.features.map((c) => columns.indexOf(c));
    this.targetIdx = columns.indexOf(spec.dataset.target);
  }

  /** `row` is 1-based among the data records of the file, `line` its source line. */
  parse(record: string[], row: number, line: number, name = this.name): ParsedRecord | { dropped: string } {
    // Line 0: no source line (Parquet rows, or not tracked).
    const where = `row ${row}${line ? ` (line ${line})` : ""} of ${name}`;
    const { spec } = this;
    const rawTarget = record[this.targetIdx];
    if (isMissing(rawTarget)) return { dropped: `missing target ${spec.dataset.target}` };
    let target: number | string;
    if (spec.task !== "regression") target = canonicalLabel(rawTarget.trim());
    else {
      target = decimal(rawTarget);
      if (!Number.isFinite(target)) {
        throw new DataError(
          `column "${spec.dataset.target}" (target), ${where}: "${clip(rawTarget)}" is not a decimal number; regression needs a numeric target`,
        );
      }
      if (Math.abs(target) > FLOAT32_MAX)
        throw new DataError(
          `column "${spec.dataset.target}" (target), ${where}: ${clip(rawTarget)} overflows float32 (|x| > 3.4e38)`,
        );
    }
    const values: (number | string | null)[] = [];
    let missingColumn: string | undefined;
    for (let k = 0; k < this.features.length; k++) {
      const c = this.features[k];
      const raw = record[this.featureIdx[k]];
      if (isMissing(raw)) {
        missingColumn ??= c;
        values.push(null);
      } else if (this.categorical.has(c)) {
        values.push(raw.trim());
      } else {
        const v = decimal(raw);
        if (!Number.isFinite(v)) {
          throw new DataError(
            `column "${c}", ${where}: "${clip(raw)}" is not a decimal number; fix the value or list "${c}" in dataset.categorical`,
          );
        }
        if (Math.abs(v) > FLOAT32_MAX)
          throw new DataError(
            `column "${c}", ${where}: ${clip(raw)} overflows float32 (|x| > 3.4e38); rescale the column`,
          );
        values.push(v);
      }
    }
    if (missingColumn !== undefined && spec.preprocess.missing === "drop")
      return { dropped: `missing ${missingColumn}` };
    return { values, target };
  }
}

/** Collects parsed rows in memory (small files, tests and the benchmark; runs stream, see stream.ts). */
class RowParser {
  private readonly records: RecordParser;
  private readonly x: (number | string | null)[][] = [];
  private readonly y: (number | string)[] = [];
  private readonly dropReasons: Record<string, number> = {};
  private rowsRead = 0;

  constructor(
    spec: RunSpec,
    columns: string[],
    private readonly name: string,
  ) {
    this.records = new RecordParser(spec, columns, name);
  }

  add(row: string[], line: number): void {
    const parsed = this.records.parse(row, ++this.rowsRead, line);
    if ("dropped" in parsed) {
      this.dropReasons[parsed.dropped] = (this.dropReasons[parsed.dropped] ?? 0) + 1;
      return;
    }
    this.x.push(parsed.values);
    this.y.push(parsed.target);
  }

  finish(): ParsedRows {
    const droppedRows = this.rowsRead - this.x.length;
    if (this.x.length === 0) throw noUsableRows(this.name, this.rowsRead, this.dropReasons);
    const { x, y, rowsRead, dropReasons } = this;
    return {
      features: this.records.features,
      categorical: this.records.categorical,
      x,
      y,
      rowsRead,
      droppedRows,
      dropReasons,
    };
  }
}

export function noUsableRows(name: string, rowsRead: number, dropReasons: Record<string, number>): DataError {
  const dropped = Object.values(dropReasons).reduce((a, b) => a + b, 0);
  const why =
    Object.entries(dropReasons)
      .map(([k, v]) => `${v} x ${k}`)
      .join(", ") || "no data rows";
  return new DataError(`${name}: no usable rows (${rowsRead} read, ${dropped} dropped: ${why})`);
}

/** Parses an in-memory table (see readCsv). */
export function parseRows(spec: RunSpec, table: RawTable, name: string): ParsedRows {
  const parser = new RowParser(spec, table.columns, name);
  table.rows.forEach((row, r) => parser.add(row, table.lines[r]));
  return parser.finish();
}

/** Loading was stopped (SIGTERM) before training began: nothing was written, a restart starts over. */
export class LoadStopped extends Error {}

/** Streams a CSV and parses each record as it arrives: the raw text is never held in memory. */
export async function streamRows(
  spec: RunSpec,
  source: Readable | string,
  name: string,
  shouldStop?: () => boolean,
): Promise<ParsedRows> {
  let parser: RowParser | undefined;
  let n = 0;
  for await (const item of csvRecords(source, name)) {
    if (shouldStop && ++n % 1000 === 0 && shouldStop()) {
      if (typeof source !== "string") source.destroy();
      throw new LoadStopped(`stopped while reading ${name} (${n} records read)`);
    }
    if (!parser) parser = new RowParser(spec, checkHeader(item.record, name), name);
    else parser.add(item.record, item.info.lines);
  }
  if (!parser) checkHeader(undefined, name);
  return parser!.finish();
}
