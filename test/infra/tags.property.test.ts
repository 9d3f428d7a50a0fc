/**
 * Class 2 of issue 26: tag keys in Kiln's namespace (`kiln:`) and AWS's (`aws:`), in any case, and the keys
 * Kiln writes itself, are refused naming the tag, never silently overridden.
 */
import fc from "fast-check";
import { ConfigError, parseConfig } from "../../infra/config";
import { KILN_SET_TAG_KEYS, kilnTags } from "../../infra/aws/tags";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

/** `kiln:`/`aws:` in a random case, with optional surrounding blanks. */
const reservedPrefix = fc
  .tuple(
    fc.constantFrom("kiln:", "aws:"),
    fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    fc.constantFrom("", " "),
  )
  .map(([p, upper, pad]) => pad + [...p].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch)).join(""));
const suffix = fc.stringMatching(/^[a-zA-Z0-9_.:/=+@-]{0,20}$/);
const key = fc.oneof(
  fc.tuple(reservedPrefix, suffix).map(([p, s]) => p + s),
  fc.constantFrom(...KILN_SET_TAG_KEYS, "kiln:cluster", "kiln:stack", "KILN:stack", "Aws:x"),
  fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.:/=+@-]{0,20}$/),
);
const tags = fc.dictionary(key, fc.stringMatching(/^[a-zA-Z0-9 _.:/=+@-]{0,20}$/), { maxKeys: 6 });

const isReserved = (k: string) =>
  /^\s*(kiln|aws):/i.test(k) || (KILN_SET_TAG_KEYS as readonly string[]).includes(k.trim());

let refused = 0;
let accepted = 0;
afterAll(() =>
  console.log(
    `tags property: ${refused + accepted} generated tag maps (${refused} refused, ${accepted} accepted), numRuns ${RUNS}`,
  ),
);

test("a tag map is refused naming each reserved key, or every user tag reaches the resources unchanged", () => {
  fc.assert(
    fc.property(tags, (t) => {
      const raw = {
        "kiln:trainer": JSON.stringify({ repository: "registry.test/kiln/trainer" }),
        "kiln:tags": JSON.stringify(t),
      };
      const reserved = Object.keys(t).filter(isReserved);
      try {
        const c = parseConfig(raw, "prop");
        expect(reserved).toEqual([]);
        const onResource = kilnTags(c, { Name: "x-role", "karpenter.sh/discovery": "x" });
        for (const [k, v] of Object.entries(c.tags)) expect(onResource[k]).toBe(v);
        accepted++;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const k of reserved)
          expect(
            e.problems.some(
              (p) =>
                p.startsWith(`kiln:tags.${k.slice(0, 40)}`) && /reserved by AWS|Kiln's own|Kiln sets the tag/.test(p),
            ),
          ).toBe(true);
        refused++;
      }
    }),
    { numRuns: RUNS },
  );
});

test.each([
  ["kiln:cluster", "Kiln's own"],
  ["KILN:stack", "Kiln's own"],
  ["Kiln:owner", "Kiln's own"],
  ["aws:createdBy", "reserved by AWS"],
  ["AWS:x", "reserved by AWS"],
  ["Name", "Kiln sets the tag 'Name' itself"],
])("tag key %j is refused: %s", (k, why) => {
  expect(() =>
    parseConfig(
      { "kiln:trainer": '{"repository":"registry.test/kiln/trainer"}', "kiln:tags": JSON.stringify({ [k]: "v" }) },
      "t",
    ),
  ).toThrow(new RegExp(`kiln:tags\\.${k}: .*${why}`));
});
