/**
 * Class 5 of issue 26 (stack config): a deeply nested config value gets a clear error naming its key, not a
 * stack overflow. The trainer's run spec has the same guarantee (test/trainer-image/spec-limits.property.test.ts).
 */
import fc from "fast-check";
import { ConfigError, configSchema, isTextKey, parseConfig } from "../../infra/config";
import { MAX_CONFIG_NESTING } from "../../infra/lib/depth";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);
/** Keys whose value Pulumi hands over as JSON (a text key's value is its text, never nested). */
const KEYS = Object.keys(configSchema.shape).filter((k) => !isTextKey(k));

/** JSON text nested `depth` levels, each level an array or an object with a random key. */
const nested = fc
  .tuple(
    fc.integer({ min: 0, max: 20_000 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
    fc.constantFrom("a", "name", "x-y"),
  )
  .map(([depth, kinds, key]) => {
    let open = "";
    let close = "";
    for (let i = 0; i < depth; i++) {
      const array = kinds[i % kinds.length];
      open += array ? "[" : `{"${key}":`;
      close = (array ? "]" : "}") + close;
    }
    return { depth, text: `${open}1${close}` };
  });

let deep = 0;
afterAll(() =>
  console.log(
    `nesting property (config): ${RUNS} generated values, ${deep} deeper than ${MAX_CONFIG_NESTING}; numRuns ${RUNS}`,
  ),
);

test("a nested value under any key is refused naming that key when too deep, and never overflows the stack", () => {
  fc.assert(
    fc.property(fc.constantFrom(...KEYS), nested, (key, value) => {
      let problems: string[] = [];
      try {
        parseConfig(
          { "kiln:trainer": '{"repository":"registry.test/kiln/trainer"}', [`kiln:${key}`]: value.text },
          "prop",
        );
      } catch (e) {
        if (!(e instanceof ConfigError))
          throw new Error(`not a ConfigError: ${(e as Error).name}: ${(e as Error).message.slice(0, 200)}`);
        problems = [...e.problems];
      }
      if (value.depth > MAX_CONFIG_NESTING) {
        deep++;
        expect(problems).toContain(
          problems.find((p) =>
            p.startsWith(`kiln:${key}: nested more than ${MAX_CONFIG_NESTING} levels deep (at kiln:${key}`),
          ),
        );
        // The real problem only: not what the schema would say about the key being absent.
        expect(problems.filter((p) => p.startsWith(`kiln:${key}`))).toHaveLength(1);
      }
    }),
    { numRuns: RUNS },
  );
});

test("the issue's example: 100,000 nested lists in kiln:teams", () => {
  const text = "[".repeat(100_000) + "]".repeat(100_000);
  expect(() =>
    parseConfig({ "kiln:trainer": '{"repository":"registry.test/kiln/trainer"}', "kiln:teams": text }, "t"),
  ).toThrow(/kiln:teams: nested more than 32 levels deep \(at kiln:teams\[0\]\[0\]/);
});
