/**
 * Generated run specs and CSV files, careless and hostile ones included: each is either accepted with a
 * correct result or refused with the trainer's own error naming the field (spec) or the column/row (CSV),
 * quickly, never with another error.
 */
import { Readable } from "node:stream";
import fc from "fast-check";
import { DataError, FLOAT32_MAX, readCsv, parseRows, streamRows } from "../../trainer-image/src/data";
import { parseRunSpec, RunSpecError } from "../../trainer-image/src/spec";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 500);
const counts = { spec: { accepted: 0, refused: 0 }, csv: { accepted: 0, refused: 0 } };
afterAll(() => {
  console.log(
    `run spec property: ${counts.spec.accepted + counts.spec.refused} generated specs (${counts.spec.accepted} accepted, ${counts.spec.refused} refused)`,
  );
  console.log(
    `CSV property: ${counts.csv.accepted + counts.csv.refused} generated CSV files (${counts.csv.accepted} accepted, ${counts.csv.refused} refused)`,
  );
});

const mostly = (good: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: good, weight: 5 }, { arbitrary: bad, weight: 1 });
const anything = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);

const spec = fc.record(
  {
    runId: mostly(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/), anything),
    dataset: mostly(
      fc.record(
        {
          uri: mostly(fc.constantFrom("s3://datasets/x.csv", "/data/x.csv"), anything),
          target: mostly(fc.constant("y"), anything),
          drop: fc.option(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }), { nil: undefined }),
        },
        { requiredKeys: ["uri", "target"] },
      ),
      anything,
    ),
    task: mostly(fc.constantFrom("regression", "binary", "multiclass"), anything),
    training: fc.option(
      fc.record(
        {
          epochs: mostly(fc.integer({ min: 1, max: 500 }), anything),
          batchSize: mostly(fc.integer({ min: 1, max: 4096 }), anything),
          optimizer: mostly(
            fc.record({
              name: fc.constantFrom("adam", "sgd", "rmsprop", "lbfgs"),
              learningRate: fc.oneof(fc.double({ min: 1e-6, max: 1 }), anything),
            }),
            anything,
          ),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
    output: mostly(
      fc.record({ uri: mostly(fc.constantFrom("s3://artifacts/runs", "/tmp/runs", "file:/out"), anything) }),
      anything,
    ),
    unknown: fc.option(anything, { nil: undefined }),
  },
  { requiredKeys: [] },
);

test("a generated run spec is valid with its invariants, or refused naming its fields", () => {
  fc.assert(
    fc.property(spec, fc.boolean(), (s, asText) => {
      const t0 = Date.now();
      const clean = JSON.parse(JSON.stringify(s));
      try {
        const parsed = parseRunSpec(asText ? JSON.stringify(clean) : clean);
        expect(parsed.training.epochs).toBeGreaterThanOrEqual(1);
        expect(parsed.output.uri).toMatch(/^(s3:\/\/[a-z0-9.-]{3,63}|file:\/|\/)/);
        expect(["regression", "binary", "multiclass"]).toContain(parsed.task);
        counts.spec.accepted++;
      } catch (e) {
        if (!(e instanceof RunSpecError)) throw new Error(`not a RunSpecError: ${(e as Error).stack}`);
        for (const p of e.problems) {
          expect(p).toMatch(/^([A-Za-z0-9_"-]+(\.[A-Za-z0-9_"-]+|\[\d+\])*: |spec[ :])/);
          expect(p.length).toBeLessThan(400);
        }
        counts.spec.refused++;
      }
      expect(Date.now() - t0).toBeLessThan(1000);
    }),
    { numRuns: RUNS },
  );
});

const cell = fc.oneof(
  { arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String), weight: 6 },
  { arbitrary: fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(String), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      "",
      "NA",
      "0x1f",
      "0b1",
      "1e39",
      "-1e39",
      "Infinity",
      " 7 ",
      "1,5",
      '"3"',
      "abc",
      "1e",
      "+.5",
    ),
    weight: 1,
  },
);
const header = fc.oneof(
  { arbitrary: fc.constant(["a", "b", "y"]), weight: 5 },
  { arbitrary: fc.constantFrom(["a", "", "y"], ["a", "a", "y"], ["a", "b"], [" ", "b", "y"]), weight: 1 },
);
const csv = fc
  .tuple(header, fc.array(fc.tuple(cell, cell, cell), { minLength: 0, maxLength: 30 }))
  .map(
    ([h, rows]) =>
      `${[h.join(","), ...rows.map((r) => r.map((c) => (c.includes(",") ? `"${c}"` : c)).join(","))].join("\n")}\n`,
  );

const csvSpec = parseRunSpec({
  dataset: { uri: "gen.csv", target: "y" },
  task: "regression",
  preprocess: { missing: "drop" },
  output: { uri: "/tmp/unused" },
});

test("a generated CSV is parsed into finite float32 values, or refused naming the file, column or row", async () => {
  await fc.assert(
    fc.asyncProperty(csv, fc.boolean(), async (text, streamed) => {
      const t0 = Date.now();
      try {
        const rows = streamed
          ? await streamRows(csvSpec, Readable.from([text]), "gen.csv")
          : parseRows(csvSpec, await readCsv(text, "gen.csv"), "gen.csv");
        for (const r of rows.x)
          for (const v of r) if (v !== null) expect(Math.abs(v as number)).toBeLessThanOrEqual(FLOAT32_MAX);
        for (const y of rows.y) expect(Number.isFinite(y as number)).toBe(true);
        expect(rows.x.length).toBe(rows.y.length);
        expect(rows.rowsRead - rows.droppedRows).toBe(rows.x.length);
        counts.csv.accepted++;
      } catch (e) {
        if (!(e instanceof DataError)) throw new Error(`not a DataError: ${(e as Error).stack}`);
        expect((e as Error).message).toMatch(/gen\.csv|column "|dataset\./);
        expect((e as Error).message.length).toBeLessThan(500);
        counts.csv.refused++;
      }
      expect(Date.now() - t0).toBeLessThan(1000);
    }),
    { numRuns: RUNS },
  );
});
