/**
 * ParquetRecordParser over a batch of rows, a column at a time: the same values, targets and drop reasons, into
 * ParsedColumns, with no array or object per row. A decoded Float64Array column (the usual numeric column) is
 * read in a tight loop.
 */
import { canonicalLabel, FLOAT32_MAX, isMissing } from "./data";
import { cellText, ParquetRecordParser, type ParquetRows } from "./parquet";
import { KEPT, MISSING_TARGET, type ParsedColumns } from "./parsed-columns";
import type { RunSpec } from "./spec";

export class ParquetColumnParser {
  private readonly featureAt: number[];
  private readonly isCategorical: boolean[];
  private readonly targetAt: number;

  constructor(
    private readonly spec: RunSpec,
    ordered: readonly string[],
    features: readonly string[],
    categorical: ReadonlySet<string>,
  ) {
    this.featureAt = features.map((c) => ordered.indexOf(c));
    this.isCategorical = features.map((c) => categorical.has(c));
    this.targetAt = ordered.indexOf(spec.dataset.target);
  }

  /**
   * Fills `out` with the rows' parse. false when a row needs RecordParser (a value that is not a decimal number
   * or overflows float32): the caller parses that batch row by row, which refuses it naming column and row.
   */
  parse(rows: ParquetRows, out: ParsedColumns): boolean {
    const { count, values: cols } = rows;
    out.reset(count);
    const { fate } = out;
    const target = cols[this.targetAt];
    if (this.spec.task !== "regression") {
      const labels = out.targetLabels;
      for (let r = 0; r < count; r++) {
        const text = cellText(target[r]);
        if (isMissing(text)) fate[r] = MISSING_TARGET;
        else labels[r] = canonicalLabel(text.trim());
      }
    } else if (!numbers(target, count, out.targetNumbers, undefined, fate, true)) return false;
    for (let k = 0; k < this.featureAt.length; k++) {
      const col = cols[this.featureAt[k]];
      const missing = out.missing[k];
      if (!this.isCategorical[k]) {
        if (!numbers(col, count, out.numbers[k], missing, fate, false)) return false;
        continue;
      }
      const texts = out.texts[k];
      for (let r = 0; r < count; r++) {
        const text = cellText(col[r]);
        if (isMissing(text)) missing[r] = 1;
        else texts[r] = text.trim();
      }
    }
    if (this.spec.preprocess.missing === "drop")
      for (let k = 0; k < this.featureAt.length; k++) {
        const missing = out.missing[k];
        for (let r = 0; r < count; r++) if (missing[r] && fate[r] === KEPT) fate[r] = k;
      }
    return true;
  }
}

/**
 * ParquetRecordParser's number of each value of `col` into `to` (-0 as 0), flagging nulls and NaN in `missing`
 * (the target: as MISSING_TARGET in `fate`). false at a value only RecordParser can judge, in a row whose target
 * is not missing (a row dropped for its target never has its features read).
 */
function numbers(
  col: ArrayLike<unknown>,
  count: number,
  to: Float64Array,
  missing: Uint8Array | undefined,
  fate: Int32Array,
  isTarget: boolean,
): boolean {
  if (col instanceof Float64Array) {
    for (let r = 0; r < count; r++) {
      const v = col[r];
      if (Number.isNaN(v)) {
        if (isTarget) fate[r] = MISSING_TARGET;
        else missing![r] = 1;
      } else if (Math.abs(v) <= FLOAT32_MAX) to[r] = v === 0 ? 0 : v;
      else if (isTarget || fate[r] !== MISSING_TARGET) return false;
    }
    return true;
  }
  for (let r = 0; r < count; r++) {
    const n = ParquetRecordParser.number(col[r]);
    if (n === null) {
      if (isTarget) fate[r] = MISSING_TARGET;
      else missing![r] = 1;
    } else if (n !== undefined) to[r] = n;
    else if (isTarget || fate[r] !== MISSING_TARGET) return false;
  }
  return true;
}
