/**
 * A batch of parsed records held column by column: what RecordParser.parse returns for each record of the batch
 * (values, target, or the reason the record is dropped), without an array or an object per record. The
 * statistics pass reads it a column at a time (training-stats.ts); the format's column parser fills it
 * (parquet-columns.ts, plain-columns.ts). Buffers are reused from batch to batch.
 */

/** fate[r]: the record is kept. */
export const KEPT = -1;
/** fate[r]: dropped for a missing target. Any fate >= 0 is the index of the feature whose missing value drops it. */
export const MISSING_TARGET = -2;

export class ParsedColumns {
  count = 0;
  /** Per record: KEPT, MISSING_TARGET, or (missing: drop) the first feature missing in it. */
  fate = new Int32Array(0);
  /** The target of each kept record: regression. */
  targetNumbers = new Float64Array(0);
  /** The target of each kept record: classification (canonical labels). */
  targetLabels: string[] = [];
  /** Per numeric feature: its value in each record (meaningless where missing). */
  numbers: Float64Array[];
  /** Per feature: 1 where the record's value is missing. */
  missing: Uint8Array[];
  /** Per categorical feature: its trimmed text in each record (meaningless where missing). */
  readonly texts: string[][];

  constructor(private readonly categorical: readonly boolean[]) {
    this.numbers = categorical.map(() => new Float64Array(0));
    this.missing = categorical.map(() => new Uint8Array(0));
    this.texts = categorical.map(() => []);
  }

  /** Makes room for `count` records, every one KEPT and nothing missing. */
  reset(count: number): void {
    this.count = count;
    if (this.fate.length < count) {
      const n = Math.max(count, this.fate.length * 2, 1024);
      this.fate = new Int32Array(n);
      this.targetNumbers = new Float64Array(n);
      this.numbers = this.categorical.map((c) => (c ? new Float64Array(0) : new Float64Array(n)));
      this.missing = this.categorical.map(() => new Uint8Array(n));
    }
    this.fate.fill(KEPT, 0, count);
    for (const m of this.missing) m.fill(0, 0, count);
  }
}
