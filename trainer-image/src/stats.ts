/**
 * Pass 1 over the data: one streamed read of every shard that fits what preprocessing needs on the
 * training rows (Welford mean/variance, min/max, missing counts, capped category vocabularies, a seeded
 * sample for medians) and counts every row's fate. Memory is bounded by the caps, not by the data.
 */
import { MAX_RECORD_BYTES } from "./csv-lines";
import { DataError, LoadStopped, noUsableRows, RecordParser } from "./data";
import { plainCsvBatches, PlainRecordParser } from "./fast-csv";
import { classesOf, MAX_CATEGORIES, type FeatureEncoding, type Preprocess, type ScaleStats } from "./preprocess";
import { fileOrder, parquetColumnBatches, ParquetRecordParser } from "./parquet";
import { ParquetColumnParser } from "./parquet-columns";
import { ParsedColumns } from "./parsed-columns";
import { PlainColumnParser } from "./plain-columns";
import {
  openCsv,
  readHeader,
  shardRecordBatches,
  shardRecords,
  splitOfHash,
  splitOfRecord,
  type SplitName,
} from "./records";
import type { Shard } from "./shards";
import type { RunSpec } from "./spec";
import type { NumericStats } from "./numeric-stats";
import { TrainingStats } from "./training-stats";

export { MEDIAN_SAMPLE } from "./numeric-stats";

export interface DatasetScan {
  readonly pre: Preprocess;
  readonly columns: string[];
  readonly rowsRead: number;
  readonly droppedRows: number;
  readonly dropReasons: Record<string, number>;
  readonly split: Record<SplitName, number>;
  /** The training target's value when it never varies (worth a warning). */
  readonly constantTarget?: number | string;
}

function numericEncoding(column: string, s: NumericStats, spec: RunSpec): FeatureEncoding {
  if (s.n === 0) throw new DataError(`column "${column}" has no values in the training split`);
  const policy = spec.preprocess.missing;
  const impute = policy === "mean" ? s.mean : policy === "median" ? s.median() : null;
  // Statistics of the imputed column: the present values plus `missing` copies of the imputed value
  // (Chan et al.'s combination of two groups' mean and sum of squares).
  const k = impute === null ? 0 : s.missing;
  const n = s.n + k;
  const mean = k === 0 ? s.mean : (s.mean * s.n + (impute as number) * k) / n;
  const m2 = k === 0 ? s.m2 : s.m2 + s.n * (s.mean - mean) ** 2 + k * ((impute as number) - mean) ** 2;
  let scale: ScaleStats = { kind: "none" };
  if (spec.preprocess.scale === "standard") {
    const std = Math.sqrt(m2 / n);
    scale = { kind: "standard", mean, std: std > 0 ? std : 1 };
  } else if (spec.preprocess.scale === "minmax") {
    scale = {
      kind: "minmax",
      min: k ? Math.min(s.min, impute as number) : s.min,
      max: k ? Math.max(s.max, impute as number) : s.max,
    };
  }
  return { column, kind: "numeric", impute, scale };
}

function categoricalEncoding(column: string, counts: Map<string, number>, spec: RunSpec): FeatureEncoding {
  const categories = [...counts.keys()].sort();
  const mode = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
  return { column, kind: "categorical", categories, impute: spec.preprocess.missing === "drop" ? null : mode };
}

/** The source line of data record `row` of a shard. */
async function lineOf(shard: Shard, columns: string[], row: number): Promise<number> {
  for await (const r of shardRecords(shard, columns, row - 1)) return r.line;
  return 0;
}

export interface ScanOptions {
  /** The fast path for plain CSV (default on); off, csv-parse reads every record (the property test compares them). */
  readonly fastCsv?: boolean;
  /** Batches parsed and counted column by column (default on); off, record by record (the property tests compare them). */
  readonly columnar?: boolean;
  /** Longest CSV record (tests set a small one). */
  readonly maxRecordBytes?: number;
}

/** Streams every shard once (sorted order) and returns the preprocessing fitted on the training rows. */
export async function scanDataset(
  spec: RunSpec,
  shards: Shard[],
  shouldStop?: () => boolean,
  options: ScanOptions = {},
): Promise<DatasetScan> {
  const columns = await readHeader(shards[0]);
  const parser = new RecordParser(
    spec,
    columns,
    shards.length === 1 ? shards[0].uri : `${shards[0].uri} (first of ${shards.length} shards)`,
  );
  const features = parser.features;
  const used = [spec.dataset.target, ...features];
  const stats = new TrainingStats(spec, features, parser.categorical);
  const columnar = options.columnar !== false;
  const batch = new ParsedColumns(features.map((c) => parser.categorical.has(c)));
  let rowsRead = 0;
  /** Counts `count` records read, asking shouldStop at every thousandth (as streamRows does). */
  const read = (count: number, shard: Shard) => {
    for (let next = Math.floor(rowsRead / 1000 + 1) * 1000; shouldStop && next <= rowsRead + count; next += 1000)
      if (shouldStop()) throw new LoadStopped(`stopped while reading ${shard.uri} (${next} records read)`);
    rowsRead += count;
  };
  /** RecordParser on a record's strings; a refusal is raised again with the record's source line. */
  const parseSlow = async (record: string[], row: number, shard: Shard) => {
    try {
      return parser.parse(record, row, 0, shard.uri);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      return parser.parse(record, row, shard.format === "csv" ? await lineOf(shard, columns, row) : 0, shard.uri);
    }
  };
  const plain = new PlainRecordParser(spec, columns, features, parser.categorical);
  const plainColumns = new PlainColumnParser(spec, columns, features, parser.categorical);
  const cols = columns.length;
  for (const shard of shards) {
    let skip = 0;
    if (shard.format === "parquet") {
      // Values straight from the columns: no number becomes text.
      const ordered = fileOrder(columns, used);
      const rowParser = new ParquetRecordParser(spec, ordered, features, parser.categorical);
      const columnParser = new ParquetColumnParser(spec, ordered, features, parser.categorical);
      for await (const rows of parquetColumnBatches(shard, columns, ordered, 0, spec.split.seed)) {
        read(rows.count, shard);
        if (columnar && columnParser.parse(rows, batch)) {
          stats.addColumns(batch, rows.hashes, rows.start + 1, shard.uri);
          continue;
        }
        // A row that only RecordParser can judge (it refuses it by name), or the record-by-record reference.
        for (let r = 0; r < rows.count; r++) {
          const row = rows.start + r + 1;
          const parsed =
            rowParser.parse(rows, r) ??
            (await parseSlow(ParquetRecordParser.record(rows, r, ordered, columns), row, shard));
          stats.addRecord(parsed, () => splitOfHash(rows.hashes[r], spec.split), row, shard.uri);
        }
      }
      continue;
    }
    if (shard.format === "csv" && options.fastCsv !== false) {
      // The fast path for plain CSV; at the first line that is not plain, csv-parse takes the rest of the shard.
      const it = plainCsvBatches(
        await openCsv(shard),
        shard.uri,
        columns,
        options.maxRecordBytes ?? MAX_RECORD_BYTES,
        spec.split.seed,
      );
      for (let step = await it.next(); ; step = await it.next()) {
        if (step.done) {
          skip = step.value ?? -1;
          break;
        }
        const rows = step.value;
        read(rows.count, shard);
        if (columnar && plainColumns.parse(rows, cols, batch)) {
          stats.addColumns(batch, rows.hashes, skip + 1, shard.uri);
          skip += rows.count;
          continue;
        }
        for (let r = 0; r < rows.count; r++) {
          const row = ++skip;
          const parsed =
            plain.parse(rows, r, cols) ?? (await parseSlow(PlainRecordParser.record(rows, r, cols), row, shard));
          stats.addRecord(parsed, () => splitOfHash(rows.hashes[r], spec.split), row, shard.uri);
        }
      }
      if (skip < 0) continue;
    }
    // Without csv-parse's line tracking (a third of its time): a bad row's line is found by a second read.
    for await (const records of shardRecordBatches(
      shard,
      columns,
      skip,
      false,
      used,
      options.maxRecordBytes,
      spec.split.seed,
    )) {
      for (const r of records) {
        read(1, shard);
        stats.addRecord(await parseSlow(r.record, r.row, shard), () => splitOfRecord(r, spec.split), r.row, shard.uri);
      }
    }
  }
  const { split, labels, dropReasons, first, constant } = stats;
  const usable = split.train + split.validation + split.test;
  const name = shards.length === 1 ? shards[0].uri : `${spec.dataset.uri} (${shards.length} shards)`;
  if (usable === 0) throw noUsableRows(name, rowsRead, dropReasons);
  if (split.train === 0) throw new DataError(`only ${usable} usable rows: none left for training after the split`);
  if (spec.task === "multiclass" && labels.size > MAX_CATEGORIES)
    throw new DataError(
      `task multiclass: "${spec.dataset.target}" has more than ${MAX_CATEGORIES} distinct labels; the trainer caps classes at ${MAX_CATEGORIES} (a softmax over more is not what this trainer is for)`,
    );
  const encodings = features.map((column, k) =>
    stats.categories[k]
      ? categoricalEncoding(column, stats.categories[k]!, spec)
      : numericEncoding(column, stats.numeric[k]!, spec),
  );
  const pre: Preprocess = {
    task: spec.task,
    target: spec.dataset.target,
    classes: classesOf(spec, [...labels]),
    missing: spec.preprocess.missing,
    features: encodings,
    inputs: encodings.flatMap((f) => (f.kind === "numeric" ? [f.column] : f.categories.map((c) => `${f.column}=${c}`))),
  };
  return {
    pre,
    columns,
    rowsRead,
    droppedRows: rowsRead - usable,
    dropReasons,
    split,
    ...(constant && first !== undefined ? { constantTarget: first } : {}),
  };
}
