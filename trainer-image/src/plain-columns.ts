/**
 * PlainRecordParser over a batch of plain CSV records, a column at a time: the same values, targets and drop
 * reasons, into ParsedColumns, with no array or object per record.
 */
import { canonicalLabel, FLOAT32_MAX } from "./data";
import { missingBytes, NUMBER, type PlainRows, TEXT } from "./fast-csv";
import { KEPT, MISSING_TARGET, type ParsedColumns } from "./parsed-columns";
import type { RunSpec } from "./spec";

export class PlainColumnParser {
  private readonly featureIdx: number[];
  private readonly isCategorical: boolean[];
  private readonly targetIdx: number;

  constructor(
    private readonly spec: RunSpec,
    columns: readonly string[],
    features: readonly string[],
    categorical: ReadonlySet<string>,
  ) {
    this.featureIdx = features.map((c) => columns.indexOf(c));
    this.isCategorical = features.map((c) => categorical.has(c));
    this.targetIdx = columns.indexOf(spec.dataset.target);
  }

  /**
   * Fills `out` with the records' parse. false when a record needs RecordParser (a value that is not a decimal
   * number or overflows float32): the caller parses that batch record by record, which refuses it.
   */
  parse(rows: PlainRows, cols: number, out: ParsedColumns): boolean {
    const { buf, starts, ends, values, kinds, count } = rows;
    out.reset(count);
    const { fate } = out;
    const regression = this.spec.task === "regression";
    for (let r = 0, t = this.targetIdx; r < count; r++, t += cols) {
      if (kinds[t] === TEXT && missingBytes(buf, starts[t], ends[t])) fate[r] = MISSING_TARGET;
      else if (!regression) out.targetLabels[r] = canonicalLabel(buf.toString("latin1", starts[t], ends[t]));
      else if (kinds[t] !== NUMBER || !(Math.abs(values[t]) <= FLOAT32_MAX)) return false;
      else out.targetNumbers[r] = values[t];
    }
    for (let k = 0; k < this.featureIdx.length; k++) {
      const missing = out.missing[k];
      const categorical = this.isCategorical[k];
      const numbers = out.numbers[k];
      const texts = out.texts[k];
      for (let r = 0, f = this.featureIdx[k]; r < count; r++, f += cols) {
        if (kinds[f] === TEXT && missingBytes(buf, starts[f], ends[f])) missing[r] = 1;
        else if (categorical) texts[r] = buf.toString("latin1", starts[f], ends[f]);
        else if (kinds[f] === NUMBER && Math.abs(values[f]) <= FLOAT32_MAX) numbers[r] = values[f];
        // A record dropped for its target never has its features read.
        else if (fate[r] !== MISSING_TARGET) return false;
      }
    }
    if (this.spec.preprocess.missing === "drop")
      for (let k = 0; k < this.featureIdx.length; k++) {
        const missing = out.missing[k];
        for (let r = 0; r < count; r++) if (missing[r] && fate[r] === KEPT) fate[r] = k;
      }
    return true;
  }
}
