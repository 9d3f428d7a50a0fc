/**
 * Pass 2's hot path for plain CSV: records straight from the fast scanner's fields (fast-csv.ts: byte offsets,
 * numbers already parsed) into float32 model input and target. The same values, dropped rows and refusals as
 * RowEncoder on each record's strings, without those strings: a plain field has no space around it (trim is a
 * no-op), a number field is never a missing marker, and the scanner's number is decimal(text) (the fast-csv
 * property test holds it to that). Only a categorical value or a text label becomes a string.
 */
import { ByteKeys } from "./byte-keys";
import { DataError, decimal } from "./data";
import { missingBytes, NUMBER, type PlainRows, TEXT } from "./fast-csv";
import { notDecimal, scaled } from "./encoder";
import type { Preprocess, ScaleStats } from "./preprocess";

type Column =
  | { kind: "numeric"; name: string; field: number; impute: number | null; scale: ScaleStats }
  | {
      kind: "categorical";
      field: number;
      offsets: ByteKeys;
      /** Whether a missing value is imputed (else, with missing: drop, the row is dropped). */
      imputes: boolean;
      /** The input a missing value sets: the impute's category (none when it is no category). */
      imputeHot: number | undefined;
      width: number;
    };

export class PlainRowEncoder {
  readonly cols: number;
  readonly yCols: number;
  private readonly columns: Column[];
  private readonly fields: number;
  private readonly targetField: number;
  /** The class of each label, by its bytes (undefined for regression). */
  private readonly classIndex: ByteKeys | undefined;
  /** The class of each label that is a decimal number, by that number (String(n) is the label canonicalLabel gives). */
  private readonly numericClassIndex = new Map<number, number>();
  private rows: PlainRows | undefined;
  private first = 0;

  /** `header`: the CSV's columns (every record has one field per column). */
  constructor(
    private readonly pre: Preprocess,
    header: readonly string[],
  ) {
    this.columns = pre.features.map((f) => {
      const field = header.indexOf(f.column);
      if (f.kind === "numeric") return { kind: "numeric", name: f.column, field, impute: f.impute, scale: f.scale };
      return {
        kind: "categorical",
        field,
        offsets: new ByteKeys(f.categories),
        imputes: f.impute !== null,
        // RowEncoder's offsets.get(impute) (a Map keeps the last of equal keys).
        imputeHot: f.impute === null ? undefined : lastIndex(f.categories, f.impute),
        width: f.categories.length,
      };
    });
    this.cols = pre.inputs.length;
    this.yCols = pre.task === "multiclass" ? pre.classes!.length : 1;
    this.fields = header.length;
    this.targetField = header.indexOf(pre.target);
    this.classIndex = pre.classes ? new ByteKeys(pre.classes) : undefined;
    // A finite n's label is String(n): the class spelled so, if any. (A Map's keys treat -0 as 0, as String does.)
    for (const [i, c] of (pre.classes ?? []).entries()) {
      const n = decimal(c);
      if (Number.isFinite(n) && String(n) === c) this.numericClassIndex.set(n, i);
    }
  }

  /** The batch the next encode calls read; encode(i) reads its record first + i. */
  use(rows: PlainRows, first: number): void {
    this.rows = rows;
    this.first = first;
  }

  /** RowEncoder.encode for record first + i of the batch in use: writes row `at` of x and y; false when dropped. */
  encode(i: number, x: Float32Array, y: Float32Array, at: number, where: () => string): boolean {
    const rows = this.rows!;
    const { values, kinds } = rows;
    const base = (this.first + i) * this.fields;
    const t = base + this.targetField;
    if (missingField(rows, t)) return false;
    let o = at * this.cols;
    for (const c of this.columns) {
      const k = base + c.field;
      if (c.kind === "categorical") {
        const missing = missingField(rows, k);
        if (missing && !c.imputes && this.pre.missing === "drop") return false;
        x.fill(0, o, o + c.width);
        // A plain field's text is its trimmed text: the category is found by its bytes.
        const hot = missing ? c.imputeHot : c.offsets.get(rows.buf, rows.starts[k], rows.ends[k]);
        if (hot !== undefined) x[o + hot] = 1;
        o += c.width;
        continue;
      }
      let n: number;
      if (missingField(rows, k)) {
        if (this.pre.missing === "drop") return false;
        n = c.impute ?? NaN;
      } else {
        // decimal(text): the scanned number (Infinity past a double's range), NaN for any other text.
        n = kinds[k] === NUMBER ? values[k] : NaN;
        if (!Number.isFinite(n)) throw notDecimal(c.name, where(), fieldText(rows, k));
      }
      x[o++] = scaled(n, c.scale);
    }
    const yo = at * this.yCols;
    if (!this.classIndex) {
      // RowEncoder writes decimal(text) unchecked: the scanned number, or NaN for text.
      y[yo] = kinds[t] === NUMBER ? values[t] : NaN;
      return true;
    }
    const idx =
      kinds[t] === NUMBER && Number.isFinite(values[t])
        ? this.numericClassIndex.get(values[t])
        : // Any other label is not a decimal number (or, "1e400", no finite one): canonicalLabel leaves its text as is.
          this.classIndex.get(rows.buf, rows.starts[t], rows.ends[t]);
    if (idx === undefined)
      throw new DataError(
        `column "${this.pre.target}" (target), ${where()}: label "${fieldText(rows, t).slice(0, 40)}" was not seen in the statistics pass`,
      );
    if (this.pre.task === "binary") y[yo] = idx;
    else {
      y.fill(0, yo, yo + this.yCols);
      y[yo + idx] = 1;
    }
    return true;
  }
}

/** isMissing(text of field k): a number is never a missing marker. */
const missingField = (rows: PlainRows, k: number) =>
  rows.kinds[k] === TEXT && missingBytes(rows.buf, rows.starts[k], rows.ends[k]);

/** Field k as RowEncoder sees it (plain fields are ASCII with no space around them: trim changes nothing). */
const fieldText = (rows: PlainRows, k: number) => rows.buf.toString("latin1", rows.starts[k], rows.ends[k]);

const lastIndex = (keys: readonly string[], key: string) => {
  const i = keys.lastIndexOf(key);
  return i < 0 ? undefined : i;
};
