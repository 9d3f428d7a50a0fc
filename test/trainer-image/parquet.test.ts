/**
 * Parquet shards written by pyarrow (fixtures/parquet/make_fixtures.py): every codec and type the trainer maps
 * gives the records a CSV of the same table gives, row groups are skipped and read by range, and the columns
 * it cannot use are refused by name.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { DataError, readCsv } from "../../trainer-image/src/data";
import { checkColumns, openParquet } from "../../trainer-image/src/parquet";
import { writeParquetBuffer } from "../../trainer-image/src/parquet-write";
import { shardRecordBatches, type ShardRecord } from "../../trainer-image/src/records";
import { resolveShards, type Shard } from "../../trainer-image/src/shards";
import { parseRunSpec, type RunSpecInput } from "../../trainer-image/src/spec";
import { scanDataset } from "../../trainer-image/src/stats";

const FIXTURES = path.join(__dirname, "fixtures", "parquet");
const fixture = (name: string) => path.join(FIXTURES, name);
const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
const COLUMNS = ["a", "b", "n", "big", "flag", "c", "y"];

async function records(shard: Shard, skip = 0, use: readonly string[] = COLUMNS): Promise<ShardRecord[]> {
  const out: ShardRecord[] = [];
  for await (const batch of shardRecordBatches(shard, COLUMNS, skip, false, use)) out.push(...batch);
  return out;
}
const one = async (file: string) => (await resolveShards(file, retry))[0];

let csv: { columns: string[]; rows: string[][] };
let dir: string;
beforeAll(async () => {
  csv = await readCsv(readFileSync(fixture("table.csv"), "utf8"), "table.csv");
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-parquet-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (uri: string, extra: Partial<RunSpecInput["dataset"]> = {}) =>
  parseRunSpec({
    dataset: { uri, target: "y", categorical: ["c"], ...extra },
    task: "regression",
    preprocess: { missing: "mean" },
    split: { test: 0.2, validation: 0.2, seed: 3 },
    output: { uri: "/tmp/unused" },
  });

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return (err as Error).message;
}

describe("Parquet written by pyarrow", () => {
  test.each(["snappy", "zstd", "gzip"])(
    "%s: four row groups, nulls, int32/int64/float32/bool and a dictionary column read as the CSV of the same table",
    async (codec) => {
      const shard = await one(fixture(`mixed-${codec}.parquet`));
      expect(shard.format).toBe("parquet");
      const file = await openParquet(shard);
      expect(file.metadata.row_groups.length).toBe(4);
      expect(file.columns).toEqual(csv.columns);
      const got = await records(shard);
      expect(got.map((r) => r.record)).toEqual(csv.rows);
      expect(got.map((r) => r.row)).toEqual(csv.rows.map((_, i) => i + 1));
      // The fixture does hold nulls (as empty cells) and a dictionary-encoded column.
      expect(got.some((r) => r.record[0] === "")).toBe(true);
      expect(got.some((r) => r.record[5] === "")).toBe(true);
      const c = file.metadata.row_groups[0].columns[5].meta_data!;
      expect(c.encodings.some((e) => /DICTIONARY/.test(e))).toBe(true);
    },
  );

  test.each(["brotli", "lz4", "uncompressed"])("%s is read", async (name) => {
    const shard = await one(fixture(`${name}.parquet`));
    const out: string[][] = [];
    for await (const b of shardRecordBatches(shard, ["y", "x"])) out.push(...b.map((r) => r.record));
    expect(out).toEqual([
      ["1", "1"],
      ["2", "2"],
      ["3", "3"],
      ["4", "4"],
    ]);
  });

  test("resuming after any number of records skips exactly those (row groups before the position are not fetched)", async () => {
    const shard = await one(fixture("mixed-zstd.parquet"));
    const all = await records(shard);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: all.length }), async (skip) => {
        const tail = await records(shard, skip);
        expect(tail).toEqual(all.slice(skip));
      }),
      { numRuns: 40 },
    );
  });

  test("only the spec's columns are fetched (ranged reads), the others are empty fields", async () => {
    // A wide unused column (15 KB per row group): hyparquet merges reads across gaps under 8 KB.
    const rows = 200;
    const file = path.join(dir, "wide.parquet");
    const pad = Array.from({ length: rows }, (_, r) =>
      Array.from({ length: 300 }, (_, i) => String.fromCharCode(33 + ((r * 7919 + i * 104729) % 90))).join(""),
    );
    const a = Array.from({ length: rows }, (_, r) => r / 4);
    writeFileSync(
      file,
      Buffer.from(
        writeParquetBuffer({
          columnData: [
            { name: "a", data: a, type: "DOUBLE" },
            { name: "pad", data: pad, type: "STRING" },
            { name: "y", data: a.map((v) => 2 * v), type: "DOUBLE" },
          ],
          rowGroupSize: 50,
          codec: "UNCOMPRESSED",
        }),
      ),
    );
    const shard = await one(file);
    const counted = () => {
      let bytes = 0;
      const wrapped: Shard = {
        ...shard,
        ranged: async () => {
          const o = await shard.ranged();
          // The first read is the footer (the last 512 KiB: all of a small file); count the column reads.
          let footer = true;
          return {
            size: o.size,
            read: (s, e) => {
              if (footer) footer = false;
              else bytes += e - s;
              return o.read(s, e);
            },
          };
        },
      };
      return { shard: wrapped, bytes: () => bytes };
    };
    const read = async (s: Shard, use: string[]) => {
      const out: string[][] = [];
      for await (const b of shardRecordBatches(s, ["a", "pad", "y"], 0, false, use))
        out.push(...b.map((r) => r.record));
      return out;
    };
    const all = counted();
    expect((await read(all.shard, ["a", "pad", "y"]))[3]).toEqual(["0.75", pad[3], "1.5"]);
    const two = counted();
    const got = await read(two.shard, ["y", "a"]);
    expect(two.bytes()).toBeLessThan(all.bytes() / 5);
    expect(got).toEqual(a.map((v) => [String(v), "", String(2 * v)]));
  });

  test("the statistics pass fits the same preprocessing on Parquet (values read as numbers) as on the CSV of the same table", async () => {
    // Every row in training: a Parquet row's split hash is over its values, a CSV row's over its text.
    const all = (uri: string) => parseRunSpec({ ...spec(uri), split: { test: 0, validation: 0, seed: 3 } });
    for (const missing of ["drop", "mean", "median"] as const) {
      const [p, c] = [fixture("mixed-gzip.parquet"), fixture("table.csv")].map((uri) => ({
        ...all(uri),
        preprocess: { ...all(uri).preprocess, missing },
      }));
      const parquet = await scanDataset(p, await resolveShards(p.dataset.uri, retry));
      const text = await scanDataset(c, await resolveShards(c.dataset.uri, retry));
      expect(parquet.pre).toEqual(text.pre);
      expect(parquet.split).toEqual(text.split);
      expect(parquet.dropReasons).toEqual(text.dropReasons);
    }
    // With a split, the Parquet split hash is a function of the values: the same rows split the same in every pass.
    const a = await scanDataset(
      spec(fixture("mixed-snappy.parquet")),
      await resolveShards(fixture("mixed-snappy.parquet"), retry),
    );
    const b = await scanDataset(
      spec(fixture("mixed-zstd.parquet")),
      await resolveShards(fixture("mixed-zstd.parquet"), retry),
    );
    expect(a.split).toEqual(b.split);
    expect(a.split.test + a.split.validation).toBeGreaterThan(0);
  });

  test("a prefix or glob of Parquet shards is one data set; CSV and Parquet shards mixed are refused", async () => {
    const d = path.join(dir, "shards");
    mkdirSync(d, { recursive: true });
    copyFileSync(fixture("mixed-snappy.parquet"), path.join(d, "part-0.parquet"));
    copyFileSync(fixture("mixed-zstd.parquet"), path.join(d, "part-1.parquet"));
    const shards = await resolveShards(`${d}/*.parquet`, retry);
    const scan = await scanDataset(spec(`${d}/*.parquet`), shards);
    expect(scan.rowsRead).toBe(2 * csv.rows.length);
    copyFileSync(fixture("table.csv"), path.join(d, "part-2.csv"));
    await expect(resolveShards(`${d}/`, retry)).rejects.toThrow(
      `${d}/ matches both Parquet (${d}/part-0.parquet) and CSV (${d}/part-2.csv) shards; name one kind`,
    );
  });
});

describe("Parquet columns the trainer cannot use are refused, naming the column", () => {
  test.each([
    ["nested-list.parquet", "tags", /column "tags" is a nested type \(list, map or struct\)/],
    ["nested-struct.parquet", "point", /column "point" is a nested type/],
    ["timestamp.parquet", "when", /column "when" is a date\/time type, which the trainer does not convert/],
    ["date.parquet", "day", /column "day" is a date\/time type/],
    ["fixed-binary.parquet", "blob", /column "blob" is fixed-length binary: list it in dataset.drop/],
  ])("%s: column %s", async (file, column, message) => {
    const uri = fixture(file);
    const msg = await refusal(scanDataset(spec(uri, { categorical: [] }), await resolveShards(uri, retry)));
    expect(msg).toMatch(message);
    expect(msg).toContain(uri);
    // Dropped, the column is never read, and the rest of the file trains.
    const scan = await scanDataset(spec(uri, { categorical: [], drop: [column] }), await resolveShards(uri, retry));
    expect(scan.rowsRead).toBe(4);
    expect(scan.pre.inputs).toEqual(["x"]);
  });

  test.each([
    [Infinity, '"Infinity" is not a decimal number; fix the value or list "x" in dataset.categorical'],
    [1e39, "1e+39 overflows float32 (|x| > 3.4e38); rescale the column"],
  ])("a value the model cannot take (%s) is refused naming column and row, as in a CSV", async (bad, message) => {
    const file = path.join(dir, `bad-${String(bad)}.parquet`);
    writeFileSync(
      file,
      Buffer.from(
        writeParquetBuffer({
          columnData: [
            { name: "x", data: [1, 2, bad], type: "DOUBLE" },
            { name: "y", data: [1, 2, 3], type: "DOUBLE" },
          ],
        }),
      ),
    );
    const msg = await refusal(scanDataset(spec(file, { categorical: [] }), await resolveShards(file, retry)));
    expect(msg).toBe(`column "x", row 3 of ${file}: ${message}`);
  });

  test("a codec the reader lacks is refused naming the column and the codec", async () => {
    const file = await openParquet(await one(fixture("mixed-snappy.parquet")));
    file.metadata.row_groups[1].columns[2].meta_data!.codec = "LZO";
    expect(() => checkColumns(file, ["a", "y"], "f.parquet")).not.toThrow();
    expect(() => checkColumns(file, ["n", "y"], "f.parquet")).toThrow(
      /^f\.parquet: column "n" is compressed with LZO, which the trainer cannot read \(it reads UNCOMPRESSED, SNAPPY, .*ZSTD.*\): rewrite the file with zstd or snappy$/,
    );
  });

  test("a file that is not Parquet says so", async () => {
    const bad = path.join(dir, "bad.parquet");
    copyFileSync(fixture("table.csv"), bad);
    const msg = await refusal(scanDataset(spec(bad), await resolveShards(bad, retry)));
    expect(msg).toMatch(new RegExp(`^${bad}: not a readable Parquet file: `));
  });
});
