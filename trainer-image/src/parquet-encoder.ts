/**
 * Pass 2's hot path for Parquet: rows straight from their decoded columns into float32 model input and target.
 * The same values, dropped rows and refusals as RowEncoder on each row's text record (cellText of every value),
 * without that record: no number becomes text to be parsed back.
 */
import { canonicalLabel, DataError, decimal, isMissing } from "./data";
import { cellText, type ParquetRows } from "./parquet";
import { notDecimal, scaled } from "./encoder";
import type { Preprocess, ScaleStats } from "./preprocess";

type Column =
  | { kind: "numeric"; name: string; at: number; impute: number | null; scale: ScaleStats }
  | { kind: "categorical"; at: number; offsets: Map<string, number>; impute: string | null; width: number };

/** RowEncoder's number for cellText(v): null when missing, undefined when it refuses the text (not decimal). */
export function encodedNumber(v: unknown): number | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") {
    // String(v) is "NaN" (missing), "Infinity" (not decimal), or text that reads back as v ("0" for -0).
    if (Number.isNaN(v)) return null;
    if (!Number.isFinite(v)) return undefined;
    return v === 0 ? 0 : v;
  }
  if (typeof v === "boolean") return v ? 1 : 0;
  const text = cellText(v);
  if (isMissing(text)) return null;
  const n = decimal(text);
  return Number.isFinite(n) ? n : undefined;
}

/** isMissing(cellText(v)), without the text for a number (only NaN's text, "NaN", is a missing marker). */
function missingCell(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === "number") return Number.isNaN(v);
  if (typeof v === "boolean" || typeof v === "bigint") return false;
  return isMissing(cellText(v));
}

export class ParquetRowEncoder {
  readonly cols: number;
  readonly yCols: number;
  private readonly columns: Column[];
  private readonly targetAt: number;
  private readonly classIndex: Map<string, number> | undefined;
  private rows: ParquetRows | undefined;

  /** `ordered`: the columns of the ParquetRows this encoder reads, in their order. */
  constructor(
    private readonly pre: Preprocess,
    ordered: readonly string[],
  ) {
    this.columns = pre.features.map((f) => {
      const at = ordered.indexOf(f.column);
      if (f.kind === "numeric") return { kind: "numeric", name: f.column, at, impute: f.impute, scale: f.scale };
      return {
        kind: "categorical",
        at,
        offsets: new Map(f.categories.map((c, i) => [c, i])),
        impute: f.impute,
        width: f.categories.length,
      };
    });
    this.cols = pre.inputs.length;
    this.yCols = pre.task === "multiclass" ? pre.classes!.length : 1;
    this.targetAt = ordered.indexOf(pre.target);
    this.classIndex = pre.classes ? new Map(pre.classes.map((c, i) => [c, i])) : undefined;
  }

  /** The batch the next encode calls read. */
  use(rows: ParquetRows): void {
    this.rows = rows;
  }

  /** RowEncoder.encode for row `r` of the batch in use: writes row `at` of x and y; false when it is dropped. */
  encode(r: number, x: Float32Array, y: Float32Array, at: number, where: () => string): boolean {
    const values = this.rows!.values;
    const rawTarget = values[this.targetAt][r];
    if (missingCell(rawTarget)) return false;
    let o = at * this.cols;
    for (const c of this.columns) {
      const v = values[c.at][r];
      if (c.kind === "categorical") {
        const text = cellText(v);
        const missing = isMissing(text);
        const value = missing ? c.impute : text.trim();
        if (missing && value === null && this.pre.missing === "drop") return false;
        x.fill(0, o, o + c.width);
        const hot = value === null ? undefined : c.offsets.get(value);
        if (hot !== undefined) x[o + hot] = 1;
        o += c.width;
        continue;
      }
      let n = encodedNumber(v);
      if (n === null) {
        if (this.pre.missing === "drop") return false;
        n = c.impute ?? NaN;
      } else if (n === undefined) throw notDecimal(c.name, where(), cellText(v));
      x[o++] = scaled(n, c.scale);
    }
    const yo = at * this.yCols;
    if (!this.classIndex) {
      // RowEncoder writes decimal(text) unchecked (pass 1 refused what is not a number): NaN for "Infinity".
      y[yo] =
        typeof rawTarget === "number"
          ? Number.isFinite(rawTarget)
            ? rawTarget === 0
              ? 0
              : rawTarget
            : NaN
          : decimal(cellText(rawTarget));
      return true;
    }
    const text = cellText(rawTarget);
    const idx = this.classIndex.get(canonicalLabel(text.trim()));
    if (idx === undefined)
      throw new DataError(
        `column "${this.pre.target}" (target), ${where()}: label "${text.slice(0, 40)}" was not seen in the statistics pass`,
      );
    if (this.pre.task === "binary") y[yo] = idx;
    else {
      y.fill(0, yo, yo + this.yCols);
      y[yo + idx] = 1;
    }
    return true;
  }
}
