/**
 * Pass 2 from Parquet columns (ParquetRowEncoder) against RowEncoder on each row's text record (cellText of every
 * value, the path before): for generated tables (doubles with nulls, NaN, -0 and infinities, int32, int64,
 * booleans, numbers and bad values as text, categories with missing markers, targets of every task) and
 * generated preprocessing (imputes, scales, vocabularies, missing policies), every row gives bit-identical
 * float32 inputs and targets, the same drop, or the same refusal.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { encodingArbitrary } from "./encoding-arbitraries";
import { RowEncoder } from "../../trainer-image/src/encoder";
import { fileOrder, ParquetRecordParser, parquetColumnBatches } from "../../trainer-image/src/parquet";
import { ParquetRowEncoder } from "../../trainer-image/src/parquet-encoder";
import { writeParquetBuffer } from "../../trainer-image/src/parquet-write";
import type { Preprocess } from "../../trainer-image/src/preprocess";
import { resolveShards } from "../../trainer-image/src/shards";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 200);
const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-pq-encoder-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const double = fc.oneof(
  { weight: 20, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(-0, 0, Number.NaN, 3.4e38, 1e300) },
  { weight: 1, arbitrary: fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
);
const maybe = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 8, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) });
const text = fc.oneof(
  { weight: 6, arbitrary: double.map(String) },
  { weight: 2, arbitrary: fc.constantFrom("", "NA", " nan ", "?", "None", " 1.5 ", "+3", ".5", "1e400", "-0") },
  { weight: 1, arbitrary: fc.constantFrom("abc", "0x1f", "red", " red ", "green") },
);
const label = fc.constantFrom("1", "1.0", "0", "a", " b ", "b", "", "NA");

const row = fc.record({
  x: maybe(double),
  d: double,
  i: maybe(fc.integer({ min: -1000, max: 1000 })),
  big: maybe(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })),
  flag: maybe(fc.boolean()),
  s: maybe(text),
  c: maybe(text),
  y: maybe(double),
  t: maybe(label),
});
const COLUMNS = ["x", "d", "i", "big", "flag", "s", "c", "y", "t"];
const FEATURES = ["x", "d", "i", "big", "flag", "s", "c"];

const encoding = (column: string) => encodingArbitrary(column, ["red", "green", "1.5", "3", "abc", "true", "0"]);
const preprocess: fc.Arbitrary<Preprocess> = fc
  .record({
    task: fc.constantFrom("regression" as const, "binary" as const, "multiclass" as const),
    missing: fc.constantFrom("drop" as const, "mean" as const, "median" as const),
    features: fc.subarray(FEATURES, { minLength: 1 }).chain((cs) => fc.tuple(...cs.map(encoding))),
    classes: fc.uniqueArray(fc.constantFrom("1", "0", "a", "b"), { minLength: 2 }),
  })
  .map(({ task, missing, features, classes }) => ({
    task,
    target: task === "regression" ? "y" : "t",
    classes: task === "regression" ? undefined : task === "binary" ? classes.slice(0, 2) : classes,
    missing,
    features,
    inputs: features.flatMap((f) => (f.kind === "numeric" ? [f.column] : f.categories.map((c) => `${f.column}=${c}`))),
  }));

/** What encoding one row gives: the bits of x and y, or dropped, or the refusal. */
function outcome(encode: (x: Float32Array, y: Float32Array) => boolean, cols: number, yCols: number): unknown {
  const x = new Float32Array(cols).fill(7);
  const y = new Float32Array(yCols).fill(7);
  try {
    if (!encode(x, y)) return "dropped";
    return { x: [...new Uint32Array(x.buffer)], y: [...new Uint32Array(y.buffer)] };
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

test("Parquet rows encode from their columns exactly as their text records through RowEncoder", async () => {
  let encoded = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(row, { maxLength: 40 }), preprocess, async (rows, pre) => {
      const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
      const file = path.join(dir, `t-${n++}.parquet`);
      writeFileSync(
        file,
        Buffer.from(
          writeParquetBuffer({
            columnData: [
              { name: "x", data: col("x"), type: "DOUBLE" },
              { name: "d", data: Float64Array.from(col("d")), type: "DOUBLE", nullable: false },
              { name: "i", data: col("i"), type: "INT32" },
              { name: "big", data: col("big"), type: "INT64" },
              { name: "flag", data: col("flag"), type: "BOOLEAN" },
              { name: "s", data: col("s"), type: "STRING" },
              { name: "c", data: col("c"), type: "STRING" },
              { name: "y", data: col("y"), type: "DOUBLE" },
              { name: "t", data: col("t"), type: "STRING" },
            ],
            rowGroupSize: 7,
          }),
        ),
      );
      const [shard] = await resolveShards(file, retry);
      const ordered = fileOrder(COLUMNS, [pre.target, ...pre.features.map((f) => f.column)]);
      const text = new RowEncoder(pre, COLUMNS);
      const columns = new ParquetRowEncoder(pre, ordered);
      expect([columns.cols, columns.yCols]).toEqual([text.cols, text.yCols]);
      for await (const batch of parquetColumnBatches(shard, COLUMNS, ordered, 0, 1)) {
        columns.use(batch);
        for (let r = 0; r < batch.count; r++) {
          const where = () => `row ${batch.start + r + 1} of ${file}`;
          const record = ParquetRecordParser.record(batch, r, ordered, COLUMNS);
          const want = outcome((x, y) => text.encode(record, x, y, 0, where), text.cols, text.yCols);
          expect(outcome((x, y) => columns.encode(r, x, y, 0, where), text.cols, text.yCols)).toEqual(want);
          if (typeof want === "object") encoded++;
        }
      }
    }),
    { numRuns: RUNS },
  );
  console.log(`Parquet encoder property: ${encoded} rows encoded (the rest dropped or refused alike)`);
  expect(encoded).toBeGreaterThan(RUNS);
});
