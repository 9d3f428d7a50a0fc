/** CSV reading (streamed through csv-parse) and row parsing with errors that name column and row. */
import { Readable } from "node:stream";
import { parse } from "csv-parse";
import type { RunSpec } from "./spec";

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
export const isMissing = (v: string | undefined): boolean => v === undefined || MISSING.has(v.trim().toLowerCase());

/** Streams a CSV with a header row into memory as strings. */
export async function readCsv(source: Readable | string, name: string): Promise<RawTable> {
  const input = typeof source === "string" ? Readable.from([source]) : source;
  const parser = input.pipe(parse({ skip_empty_lines: true, trim: true, relax_column_count: false, info: true, bom: true }));
  let columns: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!columns) {
        columns = item.record;
        const dup = columns.find((c, i) => columns!.indexOf(c) !== i);
        if (dup !== undefined) throw new DataError(`${name}: header names column "${dup}" twice`);
        continue;
      }
      rows.push(item.record);
      lines.push(item.info.lines);
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${name}: not a readable CSV: ${(err as Error).message}`);
  }
  if (!columns) throw new DataError(`${name}: file is empty; expected a header row and data rows`);
  return { columns, rows, lines };
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
  if (chosen.length === 0) throw new DataError(`no feature columns left in ${name}: every column is the target or dropped`);
  return chosen;
}

/** Parses strings into numbers/categories, dropping rows per the spec's missing-value policy. */
export function parseRows(spec: RunSpec, table: RawTable, name: string): ParsedRows {
  const features = resolveColumns(spec, table.columns, name);
  const categorical = new Set(spec.dataset.categorical);
  const featureIdx = features.map((c) => table.columns.indexOf(c));
  const targetIdx = table.columns.indexOf(spec.dataset.target);
  const numericTarget = spec.task === "regression";
  const x: (number | string | null)[][] = [];
  const y: (number | string)[] = [];
  const dropReasons: Record<string, number> = {};
  const dropped = (reason: string) => (dropReasons[reason] = (dropReasons[reason] ?? 0) + 1);
  const where = (r: number) => `row ${r + 1} (line ${table.lines[r]}) of ${name}`;

  for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r];
    const rawTarget = row[targetIdx];
    if (isMissing(rawTarget)) {
      dropped(`missing target ${spec.dataset.target}`);
      continue;
    }
    let target: number | string = rawTarget.trim();
    if (numericTarget) {
      target = Number(rawTarget);
      if (!Number.isFinite(target)) {
        throw new DataError(`column "${spec.dataset.target}" (target), ${where(r)}: "${rawTarget}" is not a number; regression needs a numeric target`);
      }
    }
    const values: (number | string | null)[] = [];
    let missingColumn: string | undefined;
    features.forEach((c, k) => {
      const raw = row[featureIdx[k]];
      if (isMissing(raw)) {
        missingColumn ??= c;
        values.push(null);
      } else if (categorical.has(c)) {
        values.push(raw.trim());
      } else {
        const v = Number(raw);
        if (!Number.isFinite(v)) {
          throw new DataError(`column "${c}", ${where(r)}: "${raw}" is not a number; fix the value or list "${c}" in dataset.categorical`);
        }
        values.push(v);
      }
    });
    if (missingColumn !== undefined && spec.preprocess.missing === "drop") {
      dropped(`missing ${missingColumn}`);
      continue;
    }
    x.push(values);
    y.push(target);
  }
  const droppedRows = table.rows.length - x.length;
  if (x.length === 0) {
    const why = Object.entries(dropReasons).map(([k, v]) => `${v} x ${k}`).join(", ") || "no data rows";
    throw new DataError(`${name}: no usable rows (${table.rows.length} read, ${droppedRows} dropped: ${why})`);
  }
  return { features, categorical, x, y, rowsRead: table.rows.length, droppedRows, dropReasons };
}
