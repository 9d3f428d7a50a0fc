/**
 * Class 9 of issue 26: a sweep value may contain a comma. `--set` takes quoted items (`p="a,b",c`), `\,`, or
 * a YAML/JSON list (`p=["a,b","c"]`); a value is never split into two grid points. The chart's grid (its
 * sweep.values are lists, never split on commas) equals the plugin's for the same values, under real helm.
 */
import fc from "fast-check";
import { parseSetFlags, sweepGrid } from "../../cli/src/sweep";
import { renderTrainer } from "../charts/helm";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);
const HELM_RUNS = Number(process.env.KILN_HELM_PROPERTY_RUNS ?? 15);

/** Strings full of the characters that break naive splitting: commas, quotes, backslashes, blanks, brackets. */
const text = fc
  .array(
    fc.constantFrom("a", "b", "z", "0", "7", ",", ", ", '"', "'", "\\", " ", "[", "]", ":", "#", "-", "é", "s3://d/x"),
    { minLength: 1, maxLength: 8 },
  )
  .map((cs) => cs.join(""));
const value = fc.oneof(
  text,
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ min: 1e-6, max: 10, noNaN: true }),
  fc.boolean(),
);
const values = fc.array(value, { minLength: 1, maxLength: 5 });

/** The quoted form: every string in double quotes (YAML reads JSON's escapes), numbers and booleans bare. */
const quotedForm = (vs: readonly (string | number | boolean)[]) =>
  vs.map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v))).join(",");
/** The same with single quotes (`''` for a quote inside), for strings without a backslash-escape need. */
const singleForm = (vs: readonly (string | number | boolean)[]) =>
  vs.map((v) => (typeof v === "string" ? `'${v.replace(/'/g, "''")}'` : String(v))).join(", ");

let points = 0;
afterAll(() =>
  console.log(
    `sweep commas property: ${RUNS} generated value lists (${points} grid points) per form, ${HELM_RUNS} through helm; numRuns ${RUNS}`,
  ),
);

test("every value list survives the quoted, single-quoted and list forms exactly: one grid point per value", () => {
  fc.assert(
    fc.property(values, (vs) => {
      for (const form of [quotedForm(vs), singleForm(vs), JSON.stringify(vs)]) {
        const parsed = parseSetFlags([`dataset.target=${form}`])["dataset.target"];
        expect(parsed).toEqual(vs);
        expect(sweepGrid({ "dataset.target": parsed })).toHaveLength(vs.length);
      }
      points += vs.length;
    }),
    { numRuns: RUNS },
  );
});

test("the chart renders the same grid as the plugin for values with commas (real helm template)", () => {
  fc.assert(
    fc.property(
      fc.array(text, { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 512 }), { minLength: 1, maxLength: 2 }),
      (targets, batches) => {
        const flags = [`dataset.target=${quotedForm(targets)}`, `training.batchSize=${JSON.stringify(batches)}`];
        const fromPlugin = sweepGrid(parseSetFlags(flags));
        const cm = renderTrainer({
          sweep: { enabled: true, values: { "dataset.target": targets, "training.batchSize": batches } },
        }).find("ConfigMap", "kiln-trainer-sweep-overrides");
        expect(JSON.parse(cm.data["overrides.json"])).toEqual(fromPlugin);
      },
    ),
    { numRuns: HELM_RUNS },
  );
}, 300_000);

describe("the issue's example: a value with a comma", () => {
  test.each([
    ['dataset.uri="s3://d/a,b.csv",s3://d/c.csv', ["s3://d/a,b.csv", "s3://d/c.csv"]],
    ["dataset.uri='s3://d/a,b.csv', s3://d/c.csv", ["s3://d/a,b.csv", "s3://d/c.csv"]],
    ["dataset.uri=s3://d/a\\,b.csv,s3://d/c.csv", ["s3://d/a,b.csv", "s3://d/c.csv"]],
    ['dataset.uri=["s3://d/a,b.csv", "s3://d/c.csv"]', ["s3://d/a,b.csv", "s3://d/c.csv"]],
    ['x.s="32",32', ["32", 32]],
  ])("%s", (flag, expected) => {
    expect(Object.values(parseSetFlags([flag]))[0]).toEqual(expected);
  });

  test("an unclosed quote or a bad list is a usage error, not a guess", () => {
    expect(() => parseSetFlags(['dataset.target="a,b'])).toThrow(/a double quote is not closed/);
    expect(() => parseSetFlags(["dataset.target=[a, {b: 1}]"])).toThrow(
      /a list value must be a non-empty list of numbers, booleans or strings/,
    );
    expect(() => parseSetFlags(["dataset.target=[]"])).toThrow(/non-empty list/);
  });
});
