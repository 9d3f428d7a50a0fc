/**
 * Pass 2's hot path: a CSV record straight into float32 model input and target (no per-row arrays),
 * with the same arithmetic as encodeRow/encodeTarget in preprocess.ts.
 */
import { canonicalLabel, DataError, decimal, isMissing } from "./data";
import type { Preprocess, ScaleStats } from "./preprocess";

type Column =
  | { kind: "numeric"; name: string; index: number; impute: number | null; scale: ScaleStats }
  | {
      kind: "categorical";
      name: string;
      index: number;
      offsets: Map<string, number>;
      impute: string | null;
      width: number;
    };

/** A numeric input as the model sees it: standardised, min-max scaled (0 for a constant column) or as is. */
export function scaled(n: number, s: ScaleStats): number {
  if (s.kind === "standard") return (n - s.mean) / s.std;
  if (s.kind === "minmax") return s.max > s.min ? (n - s.min) / (s.max - s.min) : 0;
  return n;
}

/** Pass 2's refusal of a numeric input that is not a decimal number, whatever the format it came from. */
export const notDecimal = (column: string, where: string, text: string) =>
  new DataError(
    `column "${column}", ${where}: "${text.slice(0, 40)}" is not a decimal number (the data changed after the statistics pass?)`,
  );

export class RowEncoder {
  /** Model inputs per row. */
  readonly cols: number;
  /** Target values per row (1, or the classes of a multiclass task). */
  readonly yCols: number;
  private readonly columns: Column[];
  private readonly targetIndex: number;
  private readonly classIndex: Map<string, number> | undefined;

  constructor(
    private readonly pre: Preprocess,
    header: readonly string[],
  ) {
    this.columns = pre.features.map((f) => {
      const index = header.indexOf(f.column);
      if (f.kind === "numeric") return { kind: "numeric", name: f.column, index, impute: f.impute, scale: f.scale };
      return {
        kind: "categorical",
        name: f.column,
        index,
        offsets: new Map(f.categories.map((c, i) => [c, i])),
        impute: f.impute,
        width: f.categories.length,
      };
    });
    this.cols = pre.inputs.length;
    this.yCols = pre.task === "multiclass" ? pre.classes!.length : 1;
    this.targetIndex = header.indexOf(pre.target);
    this.classIndex = pre.classes ? new Map(pre.classes.map((c, i) => [c, i])) : undefined;
  }

  /**
   * Writes row `r` of x (cols wide) and y (yCols wide); false when the row is dropped (a missing target,
   * or a missing feature with missing: drop). `where` names the row for an error (data changed since pass 1).
   */
  encode(record: readonly string[], x: Float32Array, y: Float32Array, r: number, where: () => string): boolean {
    const rawTarget = record[this.targetIndex];
    if (isMissing(rawTarget)) return false;
    let o = r * this.cols;
    for (const c of this.columns) {
      const raw = record[c.index];
      const missing = isMissing(raw);
      if (c.kind === "categorical") {
        const value = missing ? c.impute : raw.trim();
        if (missing && value === null && this.pre.missing === "drop") return false;
        x.fill(0, o, o + c.width);
        const at = value === null ? undefined : c.offsets.get(value);
        if (at !== undefined) x[o + at] = 1;
        o += c.width;
        continue;
      }
      let n: number;
      if (missing) {
        if (this.pre.missing === "drop") return false;
        n = c.impute ?? NaN;
      } else {
        n = decimal(raw);
        if (!Number.isFinite(n)) throw notDecimal(c.name, where(), raw);
      }
      x[o++] = scaled(n, c.scale);
    }
    const yo = r * this.yCols;
    if (!this.classIndex) {
      y[yo] = decimal(rawTarget);
      return true;
    }
    const idx = this.classIndex.get(canonicalLabel(rawTarget.trim()));
    if (idx === undefined)
      throw new DataError(
        `column "${this.pre.target}" (target), ${where()}: label "${rawTarget.slice(0, 40)}" was not seen in the statistics pass`,
      );
    if (this.pre.task === "binary") y[yo] = idx;
    else {
      y.fill(0, yo, yo + this.yCols);
      y[yo + idx] = 1;
    }
    return true;
  }
}
