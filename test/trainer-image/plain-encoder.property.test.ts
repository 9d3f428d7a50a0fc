/**
 * Pass 2 from plain CSV (the fast scanner's fields through PlainRowEncoder, csv-parse for the rest of a shard from
 * its first line that is not plain) against csv-parse and RowEncoder on every record's text (the path before):
 * for generated CSVs (numbers in every spelling the decimal rule takes or refuses, missing markers, categories,
 * labels that are numbers, quotes, spaces, wrong field counts, empty lines, mixed line endings, a BOM, a wrong
 * header) and generated preprocessing (imputes, scales, vocabularies, classes, missing policies), read after a
 * generated number of records (a resume), both give the same records in the same order, each with the same
 * number, split, and bit-identical float32 inputs and targets, the same drop, or the same refusal; and the
 * same error at the end, if any. And a consumer that stops early closes the read.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { encodingArbitrary } from "./encoding-arbitraries";
import { RowEncoder } from "../../trainer-image/src/encoder";
import type { Preprocess } from "../../trainer-image/src/preprocess";
import { rowsToEncode } from "../../trainer-image/src/rows-to-encode";
import { resolveShards, type Shard } from "../../trainer-image/src/shards";
import type { RunSpec } from "../../trainer-image/src/spec";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 200);
const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-plain-encoder-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const number = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "0",
      "-0",
      "+3",
      ".5",
      "5.",
      "-.25",
      "1e5",
      "1E-3",
      "2.5e+10",
      "12345678901234567890",
      "0.000000000000000000123",
      "3.4028236e38",
      "1e39",
      "007",
      "1.0000000000000002",
    ),
  },
);
/** Values a numeric column refuses by name (rare, so most files reach their end). */
const bad = fc.constantFrom("abc", "0x1f", "Infinity", "1e400", "-1e400", "1.2.3", "1e", "+", ".");
const missing = fc.constantFrom("", "NA", "na", "N/A", "NaN", "null", "NONE", "?");
const category = fc.constantFrom("red", "green", "blue", "1.5", "3", "007", "-0", "abc");
const label = fc.constantFrom("1", "1.0", "01", "0", "-0", "a", "b", "1e21", "1e400", "2");
/** Cells only csv-parse reads: the rest of the shard goes to it. */
const odd = fc.constantFrom(" 1.5", "2 ", '"3"', '"a,b"', '"x""y"', "\t4", "\u00e9");

const cell = (clean: fc.Arbitrary<string>, badWeight: number, oddWeight: number) =>
  fc.oneof(
    { weight: 40, arbitrary: clean },
    { weight: 4, arbitrary: missing },
    { weight: badWeight, arbitrary: bad },
    { weight: oddWeight, arbitrary: odd },
  );
const COLUMNS = ["id", "x", "d", "s", "c", "y", "t"];
const FEATURES = ["x", "d", "s", "c"];
/** A record; with `oddWeight`, its cells are sometimes ones only csv-parse reads. */
const record = (oddWeight: number) =>
  fc
    .tuple(
      fc.nat(99).map(String),
      cell(number, 1, oddWeight),
      cell(number, 1, oddWeight),
      cell(fc.oneof(number, category), 1, oddWeight),
      cell(category, 1, oddWeight),
      cell(number, 1, oddWeight),
      cell(label, 0, oddWeight),
    )
    .map((r) => r.join(","));
/** A line: mostly a plain record; sometimes one that is not plain, an empty line or a wrong field count. */
const line = fc.oneof(
  { weight: 80, arbitrary: record(0) },
  { weight: 2, arbitrary: record(10) },
  { weight: 1, arbitrary: fc.constantFrom("", "1,2,3", "1,2,red,4,5,6,7,8") },
);
const csv = fc.record({
  lines: fc.array(line, { maxLength: 40, size: "medium" }),
  ending: fc.constantFrom("\n", "\r\n"),
  /** Index of a line that ends in the other style (none when beyond the lines). */
  mixedAt: fc.nat(400),
  finalNewline: fc.boolean(),
  header: fc.constantFrom(...Array(20).fill(COLUMNS.join(",")), "\ufeffid,x,d,s,c,y,t", "id,x,d,s,c,t,y"),
});

const encoding = (column: string) =>
  encodingArbitrary(column, ["red", "green", "1.5", "3", "abc", "007", "0", "\u00e9", "\u20ac"]);
const preprocess: fc.Arbitrary<Preprocess> = fc
  .record({
    task: fc.constantFrom("regression" as const, "binary" as const, "multiclass" as const),
    missing: fc.constantFrom("drop" as const, "mean" as const, "median" as const),
    features: fc.subarray(FEATURES, { minLength: 1 }).chain((cs) => fc.tuple(...cs.map(encoding))),
    classes: fc.shuffledSubarray(["1", "0", "a", "b", "2", "1e+21", "1e400", "-0"], { minLength: 2 }),
  })
  .map(({ task, missing, features, classes }) => ({
    task,
    target: task === "regression" ? "y" : "t",
    classes: task === "regression" ? undefined : task === "binary" ? classes.slice(0, 2) : classes,
    missing,
    features,
    inputs: features.flatMap((f) => (f.kind === "numeric" ? [f.column] : f.categories.map((c) => `${f.column}=${c}`))),
  }));
const split = fc.record({
  test: fc.constantFrom(0, 0.2, 0.5),
  validation: fc.constantFrom(0, 0.2),
  seed: fc.nat(1000),
});

/** Records already read before a resume: mostly none or a few, sometimes past the end. */
const skips = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(6) }, fc.nat(45));

/** What encoding one record gives: the bits of x and y, or dropped, or the refusal. */
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

/** Every record pass 2 reads from `file` after `skip`: its number, split and encoding; then the error, if any. */
async function pass2(file: string, pre: Preprocess, s: RunSpec["split"], skip: number, fastCsv: boolean) {
  const [shard] = await resolveShards(file, retry);
  const { cols, yCols } = new RowEncoder(pre, COLUMNS);
  const records: unknown[] = [];
  try {
    for await (const batch of rowsToEncode(shard, COLUMNS, pre, s, skip, fastCsv))
      for (let i = 0; i < batch.count; i++) {
        const row = batch.row(i);
        const where = () => `row ${row} of ${file}`;
        records.push([row, batch.part(i), outcome((x, y) => batch.encode(i, x, y, 0, where), cols, yCols)]);
      }
    return { records };
  } catch (err) {
    return { records, error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

test("plain CSV records encode from the fast scanner's fields exactly as their text through RowEncoder", async () => {
  let encoded = 0;
  let plainFiles = 0;
  await fc.assert(
    fc.asyncProperty(csv, preprocess, split, skips, async (c, pre, s, skip) => {
      const other = c.ending === "\n" ? "\r\n" : "\n";
      let text = `${c.header}${c.ending}`;
      c.lines.forEach(
        (l, i) => (text += l + (i === c.lines.length - 1 && !c.finalNewline ? "" : i === c.mixedAt ? other : c.ending)),
      );
      const file = path.join(dir, `p-${n++}.csv`);
      writeFileSync(file, text);
      const fast = await pass2(file, pre, s, skip, true);
      const slow = await pass2(file, pre, s, skip, false);
      expect(fast).toEqual(slow);
      encoded += fast.records.filter((r) => typeof (r as unknown[])[2] === "object").length;
      if (c.header === COLUMNS.join(",") && !/[" \t\u00e9]/.test(text) && fast.records.length) plainFiles++;
    }),
    { numRuns: RUNS },
  );
  console.log(
    `plain CSV encoder property: ${encoded} records encoded, ${plainFiles} files read by the fast path alone`,
  );
  expect(encoded).toBeGreaterThan(RUNS);
  expect(plainFiles).toBeGreaterThan(RUNS / 4);
});

test("a consumer that stops early closes the shard's read (fast path)", async () => {
  const source = new PassThrough();
  const shard: Shard = {
    uri: "memory://early.csv",
    format: "csv",
    open: async () => source,
    ranged: () => Promise.reject(new Error("not ranged")),
  };
  // The stream never ends: only closing it ends the read.
  source.write(`${COLUMNS.join(",")}\n${"1,2,3,4,red,5,a\n".repeat(1000)}`);
  const pre: Preprocess = {
    task: "regression",
    target: "y",
    missing: "drop",
    features: [{ column: "x", kind: "numeric", impute: null, scale: { kind: "none" } }],
    inputs: ["x"],
  };
  for await (const batch of rowsToEncode(shard, COLUMNS, pre, { test: 0, validation: 0, seed: 1 }, 0)) {
    expect(batch.count).toBe(1000);
    break;
  }
  expect(source.destroyed).toBe(true);
});
