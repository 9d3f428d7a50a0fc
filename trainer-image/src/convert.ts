/**
 * `kiln-trainer convert`: CSV shards (one object, a prefix or a glob; .gz too) into Parquet shards in the store,
 * one per CSV shard, in row groups sized for streaming. A column whose every present cell (in every shard) is a
 * decimal number becomes DOUBLE, any other column UTF8 text; missing cells (the trainer's markers) become nulls. So the
 * trainer reads the same values from the Parquet shards as from the CSV ones.
 */
import * as path from "node:path";
import type { ColumnSource, SchemaElement } from "hyparquet-writer";
import { DataError, decimal, isMissing } from "./data";
import { ParquetFileWriter, WRITE_CODECS, type WriteCodec } from "./parquet-write";
import { readHeader, shardRecordBatches } from "./records";
import { resolveShards, type Shard } from "./shards";
import { openStore, retryOptionsFromEnv } from "./storage";

/** Rows per row group unless --row-group-rows says otherwise: ~10 MB of decoded doubles at 10 columns. */
export const DEFAULT_ROW_GROUP_ROWS = 131_072;

export interface ConvertOptions {
  readonly from: string;
  /** A prefix (s3://bucket/dir/ or a directory) the Parquet shards are written under. */
  readonly to: string;
  readonly rowGroupRows: number;
  readonly codec: WriteCodec;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: Record<string, unknown>) => void;
}

export interface ConvertedShard {
  readonly from: string;
  readonly to: string;
  readonly rows: number;
  readonly bytes: number;
  readonly types: Record<string, "DOUBLE" | "UTF8">;
}

/** The Parquet name of a CSV shard: part-0.csv.gz -> part-0.parquet. */
export const parquetName = (uri: string) => `${path.posix.basename(uri).replace(/(\.csv)?(\.gz)?$/i, "")}.parquet`;

/**
 * Pass 1 over every shard (one schema for all shards): the columns whose every present cell is a decimal
 * number, and those with a missing cell (the others are REQUIRED: readers skip the definition levels).
 */
async function columnTypes(shards: Shard[], columns: string[]): Promise<{ numeric: boolean[]; nullable: boolean[] }> {
  const numeric = columns.map(() => true);
  const nullable = columns.map(() => false);
  for (const shard of shards) {
    for await (const batch of shardRecordBatches(shard, columns, 0, false)) {
      for (const { record } of batch) {
        for (let c = 0; c < columns.length; c++) {
          if (isMissing(record[c])) nullable[c] = true;
          else if (numeric[c] && !Number.isFinite(decimal(record[c]))) numeric[c] = false;
        }
      }
    }
  }
  return { numeric, nullable };
}

async function convertShard(
  shard: Shard,
  columns: string[],
  types: { numeric: boolean[]; nullable: boolean[] },
  opts: ConvertOptions,
  put: (name: string, body: Buffer) => Promise<string>,
): Promise<ConvertedShard> {
  const { numeric, nullable } = types;
  const schema: SchemaElement[] = [
    { name: "schema", num_children: columns.length },
    ...columns.map((name, c): SchemaElement => {
      const repetition_type = nullable[c] ? "OPTIONAL" : "REQUIRED";
      return numeric[c]
        ? { name, type: "DOUBLE", repetition_type }
        : { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type };
    }),
  ];
  const file = new ParquetFileWriter(schema, opts.codec, opts.rowGroupRows);
  let data: (number | string | null)[][] = columns.map(() => []);
  let rows = 0;
  const flush = () => {
    if (data[0].length === 0) return;
    file.write(columns.map((name, c): ColumnSource => ({ name, data: data[c], nullable: nullable[c] })));
    data = columns.map(() => []);
  };
  for await (const batch of shardRecordBatches(shard, columns, 0, false)) {
    for (const { record } of batch) {
      for (let c = 0; c < columns.length; c++) {
        const v = record[c];
        data[c].push(isMissing(v) ? null : numeric[c] ? decimal(v) : v.trim());
      }
      if (++rows % opts.rowGroupRows === 0) flush();
    }
  }
  flush();
  const body = file.finish();
  const to = await put(parquetName(shard.uri), body);
  return {
    from: shard.uri,
    to,
    rows,
    bytes: body.length,
    types: Object.fromEntries(columns.map((c, i) => [c, numeric[i] ? "DOUBLE" : "UTF8"])),
  };
}

export async function convertCsvToParquet(opts: ConvertOptions): Promise<ConvertedShard[]> {
  if (!Number.isInteger(opts.rowGroupRows) || opts.rowGroupRows < 1)
    throw new DataError(`--row-group-rows ${opts.rowGroupRows}: must be a whole number >= 1`);
  if (!(opts.codec in WRITE_CODECS))
    throw new DataError(`--codec ${opts.codec}: must be one of ${Object.keys(WRITE_CODECS).join(", ")}`);
  const retry = retryOptionsFromEnv(opts.env);
  let shards: Shard[];
  try {
    shards = await resolveShards(opts.from, retry, opts.env);
  } catch (err) {
    throw new DataError(`cannot read --from ${opts.from}: ${(err as Error).message}`);
  }
  const parquet = shards.find((s) => s.format === "parquet");
  if (parquet) throw new DataError(`--from ${opts.from}: ${parquet.uri} is Parquet already; convert reads CSV shards`);
  const names = shards.map((s) => parquetName(s.uri));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice)
    throw new DataError(
      `--from ${opts.from}: two shards would both be written as ${twice}; convert each directory on its own`,
    );
  const store = openStore(opts.to, retry, opts.env);
  const put = async (name: string, body: Buffer) => {
    await store.put(name, body, "application/vnd.apache.parquet");
    return store.describe(name);
  };
  const columns = await readHeader(shards[0]);
  const types = await columnTypes(shards, columns);
  const out: ConvertedShard[] = [];
  for (const shard of shards) {
    const done = await convertShard(shard, columns, types, opts, put);
    opts.log({ event: "converted", ...done });
    out.push(done);
  }
  return out;
}

/** The subcommand: exit 0 when every shard was written, 1 on a data or store error (the message says which). */
export async function convertCommand(flags: {
  from: string;
  to: string;
  rowGroupRows: string;
  codec: string;
}): Promise<number> {
  try {
    const rowGroupRows = Number(flags.rowGroupRows);
    await convertCsvToParquet({
      from: flags.from,
      to: flags.to,
      rowGroupRows,
      codec: flags.codec as WriteCodec,
      env: process.env,
      log: (l) => console.log(JSON.stringify(l)),
    });
    return 0;
  } catch (err) {
    console.error(`kiln-trainer convert: ${(err as Error).message}`);
    return 1;
  }
}
