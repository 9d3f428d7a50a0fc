/**
 * Class 11 of issue 26: a stack file that is garbage, empty, a list or a scalar says so (and where), instead
 * of letting the config's defaults report "kiln:trainer.repository is required".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import YAML from "yaml";
import { main } from "../../../scripts/plan/cli";
import { ROOT, stackConfigOf } from "../../../scripts/plan/engine/program";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

type Case = { kind: string; text: string };
const scalarText = fc.oneof(
  fc.integer().map(String),
  fc.constantFrom("true", "~x", "hello", "'quoted'", "1.5"),
  fc.stringMatching(/^[a-z][a-z ]{0,20}$/),
);
const garbage: fc.Arbitrary<Case> = fc.oneof(
  fc
    .constantFrom("", "\n", "   \n", "# only a comment\n", "---\n", "~", "null")
    .map((text) => ({ kind: "empty", text })),
  fc
    .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 })
    .map((items) => ({ kind: "list", text: YAML.stringify(items) })),
  scalarText.map((text) => ({ kind: "scalar", text })),
  fc
    .constantFrom(
      "config: [",
      "a: b: c",
      "{unclosed",
      "config:\n  kiln:platform: local\n   bad indent: x\n  - y",
      "\t- x\n\tkey: v",
    )
    .map((text) => ({ kind: "not-yaml", text })),
  fc
    .integer({ min: 33, max: 100_000 })
    .map((n) => ({ kind: "too-deep", text: `config:\n  kiln:teams: ${"[".repeat(n)}` })),
  fc
    .oneof(fc.array(fc.string(), { maxLength: 3 }), fc.string(), fc.integer())
    .map((config) => ({ kind: "config-not-mapping", text: YAML.stringify({ config }) })),
  fc
    .constantFrom("kiln:platform: local\nkiln:azCount: 2\n", "aws:region: us-west-2\n")
    .map((text) => ({ kind: "keys-at-top", text })),
);

const counts: Record<string, number> = {};
afterAll(() =>
  console.log(
    `stack file property: ${Object.values(counts).reduce((a, b) => a + b, 0)} generated files ${JSON.stringify(counts)}; numRuns ${RUNS}`,
  ),
);

test("a stack file that is not a mapping with a config mapping is refused naming the file and what it is", () => {
  fc.assert(
    fc.property(garbage, ({ kind, text }) => {
      counts[kind] = (counts[kind] ?? 0) + 1;
      let message = "";
      try {
        stackConfigOf(text, "Pulumi.prop.yaml");
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^Pulumi\.prop\.yaml/);
      expect(message).not.toContain("required");
      const says: Record<string, RegExp> = {
        empty: /is empty/,
        list: /is a list, not a mapping|is empty/,
        scalar: /is the (number|boolean|text) .*, not a mapping|is empty|is not valid YAML/,
        "not-yaml": /is not valid YAML/,
        "too-deep": /is nested more than 32 levels deep at config\.kiln:teams\[0\]/,
        "config-not-mapping": /config is (a list|the text .*|the number .*), not a mapping|is empty/,
        "keys-at-top": /has config keys at its top level .*indent them under config:/,
      };
      expect(message).toMatch(says[kind]);
    }),
    { numRuns: RUNS },
  );
});

test("a mapping with a config mapping (or none) is read", () => {
  expect(stackConfigOf("config:\n  kiln:azCount: 2\n", "f")).toEqual({ "kiln:azCount": "2" });
  expect(stackConfigOf("encryptionsalt: abc\n", "f")).toEqual({});
});

describe("through npm run plan (exit 2, the file named, not a missing key)", () => {
  test.each([
    ["garbage", "{{{ not yaml", /Pulumi\.kiln-issue26\.yaml is not valid YAML/],
    ["empty", "", /Pulumi\.kiln-issue26\.yaml is empty/],
    ["a list", "- kiln:platform: local\n", /Pulumi\.kiln-issue26\.yaml is a list, not a mapping/],
  ])("%s", async (_, text, says) => {
    const file = path.join(ROOT, "Pulumi.kiln-issue26.yaml");
    const err: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s) => {
      err.push(String(s));
      return true;
    });
    fs.writeFileSync(file, text);
    try {
      expect(
        await main(["plan", "--stack", "kiln-issue26", "--out", path.join(fs.mkdtempSync("/tmp/kiln-sf-"), "p.json")]),
      ).toBe(2);
    } finally {
      spy.mockRestore();
      fs.rmSync(file, { force: true });
    }
    expect(err.join("")).toMatch(says);
    expect(err.join("")).not.toContain("trainer.repository");
  });
});
