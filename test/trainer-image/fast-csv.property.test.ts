/**
 * The statistics pass's fast path for plain CSV against csv-parse: for generated CSVs (numbers in every
 * spelling the decimal rule takes or refuses, missing markers, categories, quotes, spaces, non-ASCII, empty
 * lines, wrong field counts, long lines, mixed line endings, a BOM) both give identical statistics, splits and
 * drop counts, or the identical refusal. And the CSV limits (issue 26, class 10) on both paths: a record
 * longer than the limit is refused naming its line, and mixed line endings are refused saying so.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { MAX_RECORD_BYTES } from "../../trainer-image/src/csv-lines";
import { resolveShards } from "../../trainer-image/src/shards";
import { parseRunSpec } from "../../trainer-image/src/spec";
import { scanDataset, type ScanOptions } from "../../trainer-image/src/stats";

const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-fastcsv-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const number = fc.oneof(
  fc.double({ min: -1e30, max: 1e30, noNaN: true }).map(String),
  fc.integer({ min: -100000, max: 100000 }).map(String),
  fc.tuple(fc.integer({ min: -999, max: 999 }), fc.nat(999999)).map(([a, b]) => `${a}.${String(b).padStart(6, "0")}`),
  fc.constantFrom(
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
    "1e400",
    "-1e-400",
    "3.4028236e38",
    "007",
    "1.0000000000000002",
  ),
);
const bad = fc.constantFrom(
  "abc",
  "0x1f",
  "0b1",
  "Infinity",
  "1.2.3",
  "--1",
  "1e",
  "e5",
  "1e5.5",
  "+",
  ".",
  "1,5",
  "\u00e9",
  "1 2",
);
const missing = fc.constantFrom("", "NA", "na", "N/A", "NaN", "null", "NONE", "?");
const category = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom("red", "green") },
  { weight: 1, arbitrary: fc.constantFrom("blue", "r-1", "7") },
);
const odd = fc.constantFrom(" 1.5", "2 ", '"3"', '"a,b"', '"x""y"', "\t4");
const clean = (kind: "num" | "cat") =>
  fc.oneof({ weight: 8, arbitrary: kind === "num" ? number : category }, { weight: 1, arbitrary: missing });
const dirty = (kind: "num" | "cat") => fc.oneof(clean(kind), bad, odd);
const row = (cell: typeof clean) =>
  fc.tuple(fc.nat(99).map(String), cell("num"), cell("cat"), cell("num")).map((r) => r.join(","));
/** A line: mostly a clean row; sometimes one with bad or odd cells, a field too many or too few, or empty. */
const line = fc.oneof(
  { weight: 40, arbitrary: row(clean) },
  { weight: 2, arbitrary: row(dirty) },
  { weight: 1, arbitrary: fc.constantFrom("", "1,2,3", "1,2,red,4,5") },
);

const csv = fc.record({
  lines: fc.array(line, { minLength: 0, maxLength: 30 }),
  ending: fc.constantFrom("\n", "\r\n"),
  /** Index of a line that ends in the other style (none when beyond the lines). */
  mixedAt: fc.nat(150),
  /** Index of a line made long (none when beyond the lines). */
  longAt: fc.nat(150),
  finalNewline: fc.boolean(),
  bom: fc.boolean().map((b) => b && Math.random() < 0.2),
});

const specFor = (uri: string, task: "regression" | "binary", missingPolicy: "drop" | "mean") =>
  parseRunSpec({
    dataset: {
      uri,
      target: task === "regression" ? "y" : "c",
      drop: ["id"],
      categorical: task === "regression" ? ["c"] : [],
    },
    task,
    preprocess: { missing: missingPolicy },
    split: { test: 0.2, validation: 0.2, seed: 11 },
    output: { uri: "/tmp/unused" },
  });

async function outcome(uri: string, spec: ReturnType<typeof specFor>, options: ScanOptions): Promise<unknown> {
  try {
    const shards = await resolveShards(uri, retry);
    return { ok: await scanDataset(spec, shards, undefined, options) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

const LIMIT = 64;

test("fast path and csv-parse give identical statistics or identical refusals on generated CSVs", async () => {
  let runs = 0;
  let fastOk = 0;
  await fc.assert(
    fc.asyncProperty(
      csv,
      fc.constantFrom("regression" as const, "binary" as const),
      fc.constantFrom("drop" as const, "mean" as const),
      async (c, task, policy) => {
        runs++;
        const other = c.ending === "\n" ? "\r\n" : "\n";
        const body = c.lines.map((l, i) => (i === c.longAt ? `${l},${"9".repeat(LIMIT)}` : l));
        let text = `${c.bom ? "\ufeff" : ""}id,x,c,y${c.ending}`;
        body.forEach(
          (l, i) => (text += l + (i === body.length - 1 && !c.finalNewline ? "" : i === c.mixedAt ? other : c.ending)),
        );
        const file = path.join(dir, `p-${n++}.csv`);
        writeFileSync(file, text);
        const spec = specFor(file, task, policy);
        const fast = await outcome(file, spec, { fastCsv: true, maxRecordBytes: LIMIT });
        const slow = await outcome(file, spec, { fastCsv: false, maxRecordBytes: LIMIT });
        expect(fast).toEqual(slow);
        if ("ok" in (fast as object)) fastOk++;
      },
    ),
    { numRuns: 300 },
  );
  console.log(`fast-csv property: ${runs} generated CSVs, ${fastOk} scanned without a refusal`);
  // The generator must reach the statistics, not only refusals: about a quarter do (72-75 of 300 in four
  // runs, 51 once in CI), so the floor is a tenth, far enough below that only a broken generator fails it.
  expect(fastOk).toBeGreaterThan(runs / 10);
});

describe("CSV limits (both paths)", () => {
  test.each([true, false])(
    "a record longer than the limit is refused naming its line, before the rest of it is read (fast path: %s)",
    async (fastCsv) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 3 }),
          fc.constantFrom("\n", "\r\n"),
          async (at, factor, ending) => {
            const lines = Array.from({ length: 25 }, (_, i) => `${i},${i / 2},red,${i}`);
            lines[at - 1] = `${at},${"1".repeat(LIMIT * factor)},red,1`;
            const file = path.join(dir, `long-${n++}.csv`);
            writeFileSync(file, `id,x,c,y${ending}${lines.join(ending)}${ending}`);
            const spec = specFor(file, "regression", "drop");
            await expect(
              scanDataset(spec, await resolveShards(file, retry), undefined, { fastCsv, maxRecordBytes: LIMIT }),
            ).rejects.toThrow(
              `${file}: line ${at + 1} is longer than ${LIMIT} bytes, the longest CSV record the trainer reads; is this a CSV file with one row per line?`,
            );
          },
        ),
        { numRuns: 30 },
      );
    },
  );

  test("a 1 GB line is refused at the default limit without reading it into memory", async () => {
    const { Readable } = await import("node:stream");
    const { csvBatches } = await import("../../trainer-image/src/data");
    let sent = 0;
    const chunk = Buffer.alloc(1 << 16, 0x31);
    // An endless line, produced on demand: the reader must stop long before 1 GB.
    const source = new Readable({
      read() {
        if (sent === 0) this.push("a,b\n");
        sent += chunk.length;
        this.push(sent > 2 ** 30 ? null : chunk);
      },
    });
    const before = process.memoryUsage().rss;
    await expect(
      (async () => {
        for await (const b of csvBatches(source, "huge.csv")) void b;
      })(),
    ).rejects.toThrow(`huge.csv: line 2 is longer than ${MAX_RECORD_BYTES} bytes`);
    expect(sent).toBeLessThan(4 * MAX_RECORD_BYTES);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 2 ** 20);
  });

  test.each([true, false])(
    "mixed line endings are refused naming the first line that differs (fast path: %s)",
    async (fastCsv) => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 20 }), fc.constantFrom("\n", "\r\n"), async (at, ending) => {
          const other = ending === "\n" ? "\r\n" : "\n";
          const lines = Array.from({ length: 25 }, (_, i) => `${i},${i / 2},red,${i}`);
          const text = `id,x,c,y${ending}${lines.map((l, i) => l + (i === at - 1 ? other : ending)).join("")}`;
          const file = path.join(dir, `mixed-${n++}.csv`);
          writeFileSync(file, text);
          const show = (e: string) => (e === "\n" ? "\\n" : "\\r\\n");
          await expect(
            scanDataset(specFor(file, "regression", "drop"), await resolveShards(file, retry), undefined, { fastCsv }),
          ).rejects.toThrow(
            `${file}: mixed line endings: line ${at + 1} ends with ${show(other)} but the lines before it end with ${show(ending)}; convert the file to one style (e.g. dos2unix)`,
          );
        }),
        { numRuns: 30 },
      );
    },
  );
});
