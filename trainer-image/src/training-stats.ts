/**
 * The statistics pass's running state: what preprocessing needs from the training rows (Welford mean/variance,
 * min/max, missing counts, capped category vocabularies, a seeded sample for medians) and every record's fate
 * (dropped and why, or its split). Fed one parsed record at a time (addRecord) or a batch column by column
 * (addColumns): both give the same state, update for update, because each column's statistics see its values
 * in record order either way.
 */
import { DataError, type ParsedRecord } from "./data";
import { KEPT, MISSING_TARGET, type ParsedColumns } from "./parsed-columns";
import { MAX_CATEGORIES } from "./preprocess";
import { splitOfHash, type SplitName } from "./records";
import { NumericStats } from "./numeric-stats";
import { Rng } from "./rng";
import type { RunSpec } from "./spec";

export class TrainingStats {
  /** Per feature: its statistics when numeric. */
  readonly numeric: (NumericStats | undefined)[];
  /** Per feature: its category counts when categorical. */
  readonly categories: (Map<string, number> | undefined)[];
  /** Labels from every usable row (as fitPreprocess does), capped so a float target cannot fill memory. */
  readonly labels = new Set<string>();
  readonly dropReasons: Record<string, number> = {};
  readonly split: Record<SplitName, number> = { train: 0, validation: 0, test: 0 };
  /** The first training target, and whether every training target equals it. */
  first: number | string | undefined;
  constant = true;
  private readonly missingTarget: string;
  /** The numeric features' indices and statistics. */
  private readonly numericAt: number[];
  private readonly numericStats: NumericStats[];
  /** addColumns's scratch: the batch's training records. */
  private train = new Int32Array(0);

  constructor(
    private readonly spec: RunSpec,
    private readonly features: readonly string[],
    categorical: ReadonlySet<string>,
  ) {
    this.numeric = features.map((c, k) =>
      categorical.has(c)
        ? undefined
        : new NumericStats(spec.preprocess.missing === "median" ? new Rng(spec.split.seed + k) : undefined),
    );
    this.categories = features.map((c) => (categorical.has(c) ? new Map<string, number>() : undefined));
    this.missingTarget = `missing target ${spec.dataset.target}`;
    this.numericAt = features.flatMap((_, k) => (this.numeric[k] ? [k] : []));
    this.numericStats = this.numericAt.map((k) => this.numeric[k]!);
  }

  private drop(reason: string): void {
    this.dropReasons[reason] = (this.dropReasons[reason] ?? 0) + 1;
  }

  /** Counts a usable record's label and split; true when it is a training record. */
  private place(target: number | string, p: SplitName): boolean {
    if (this.spec.task !== "regression" && this.labels.size <= MAX_CATEGORIES) this.labels.add(String(target));
    this.split[p]++;
    if (p !== "train") return false;
    if (this.first === undefined) this.first = target;
    else if (target !== this.first) this.constant = false;
    return true;
  }

  private tooManyCategories(k: number, value: string, row: number, uri: string): DataError {
    return new DataError(
      `column "${this.features[k]}" has more than ${MAX_CATEGORIES} distinct values in the training split (the ${MAX_CATEGORIES + 1}th, "${value.slice(0, 40)}", at row ${row} of ${uri}); one-hot encoding caps a categorical column at ${MAX_CATEGORIES}: list it in dataset.drop, or bucket it before training`,
    );
  }

  /** One record (`row`: 1-based in its shard) and its split (asked only when the record is usable). */
  addRecord(parsed: ParsedRecord | { dropped: string }, part: () => SplitName, row: number, uri: string): void {
    if ("dropped" in parsed) {
      this.drop(parsed.dropped);
      return;
    }
    if (!this.place(parsed.target, part())) return;
    for (let k = 0; k < this.features.length; k++) {
      const v = parsed.values[k];
      const counts = this.categories[k];
      if (!counts) {
        this.numeric[k]!.add(v as number | null);
        continue;
      }
      if (v === null) continue;
      counts.set(v as string, (counts.get(v as string) ?? 0) + 1);
      if (counts.size > MAX_CATEGORIES) throw this.tooManyCategories(k, String(v), row, uri);
    }
  }

  /**
   * A batch of records (`firstRow`: the 1-based row of its first record in its shard), each with its split hash.
   * Fates and splits go record by record, then each feature's statistics over the batch's training records.
   */
  addColumns(batch: ParsedColumns, hashes: Uint32Array, firstRow: number, uri: string): void {
    const { count, fate } = batch;
    if (this.train.length < count) this.train = new Int32Array(Math.max(count, 2 * this.train.length));
    const train = this.train;
    const regression = this.spec.task === "regression";
    let rows = 0;
    for (let r = 0; r < count; r++) {
      const f = fate[r];
      if (f !== KEPT) {
        this.drop(f === MISSING_TARGET ? this.missingTarget : `missing ${this.features[f]}`);
        continue;
      }
      const p = splitOfHash(hashes[r], this.spec.split);
      if (!regression || p !== "train") {
        if (this.place(regression ? batch.targetNumbers[r] : batch.targetLabels[r], p)) train[rows++] = r;
        continue;
      }
      // place() for a training row of a regression, without its keyed count (counted after the loop).
      const target = batch.targetNumbers[r];
      if (this.first === undefined) this.first = target;
      else if (target !== this.first) this.constant = false;
      train[rows++] = r;
    }
    if (regression) this.split.train += rows;
    NumericStats.addRowsTogether(
      this.numericStats,
      this.numericAt.map((k) => batch.numbers[k]),
      this.numericAt.map((k) => batch.missing[k]),
      train,
      rows,
    );
    // The record-by-record order refuses the first record (then the first column) past the category cap.
    let refusal: { k: number; r: number } | undefined;
    for (let k = 0; k < this.features.length; k++) {
      const missing = batch.missing[k];
      const counts = this.categories[k];
      if (!counts) continue;
      const texts = batch.texts[k];
      for (let i = 0; i < rows; i++) {
        const r = train[i];
        if (missing[r]) continue;
        const v = texts[r];
        counts.set(v, (counts.get(v) ?? 0) + 1);
        if (counts.size <= MAX_CATEGORIES) continue;
        if (!refusal || r < refusal.r) refusal = { k, r };
        break;
      }
    }
    if (refusal) throw this.tooManyCategories(refusal.k, batch.texts[refusal.k][refusal.r], firstRow + refusal.r, uri);
  }
}
