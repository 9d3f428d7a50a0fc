/**
 * Class 3 of issue 26: every config key is checked where the program reads it (parseConfig, called by the
 * program with pulumi.runtime.allConfig()), not only by `npm run plan --set`: unknown keys, case variants of
 * the namespace and keys with extra segments are refused naming the nearest known key.
 */
import fc from "fast-check";
import { ConfigError, configKeyProblem, configSchema, parseConfig } from "../../infra/config";
import { KilnMocks } from "../../scripts/plan/engine/mocks";
import { runStack } from "./cluster/support";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);
const DECLARED = Object.keys(configSchema.shape);
const BASE = {
  "kiln:trainer": JSON.stringify({ repository: "registry.test/kiln/trainer" }),
  "aws:region": "us-west-2",
};

function problemsOf(raw: Record<string, string>): string[] {
  try {
    parseConfig(raw, "prop");
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return [...e.problems];
  }
}

const declared = fc.constantFrom(...DECLARED);
/** `kiln` in a case other than all lowercase. */
const otherCase = fc
  .array(fc.boolean(), { minLength: 4, maxLength: 4 })
  .filter((up) => up.some(Boolean))
  .map((up) => [..."kiln"].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join(""));
/** One edit of a declared key: a changed, dropped or doubled letter, or a changed case. */
const typo = fc.tuple(declared, fc.nat(), fc.constantFrom("swapCase", "drop", "double", "x")).map(([k, at, how]) => {
  const i = at % k.length;
  const ch = k[i];
  const edited =
    how === "swapCase"
      ? ch === ch.toLowerCase()
        ? ch.toUpperCase()
        : ch.toLowerCase()
      : how === "drop"
        ? ""
        : how === "double"
          ? ch + ch
          : "x";
  return { key: k.slice(0, i) + edited + k.slice(i + 1), meant: k };
});

type Case = { raw: string; meant?: string; kind: string };
const badKey: fc.Arbitrary<Case> = fc.oneof(
  fc.tuple(otherCase, declared).map(([ns, k]): Case => ({ raw: `${ns}:${k}`, meant: k, kind: "case" })),
  fc
    .tuple(declared, fc.stringMatching(/^[A-Za-z0-9:]{1,12}$/))
    .map(([k, junk]): Case => ({ raw: `kiln:${k}:${junk}`, meant: k, kind: "segments" })),
  typo
    .filter((t) => t.key !== t.meant && !DECLARED.includes(t.key))
    .map((t): Case => ({ raw: `kiln:${t.key}`, meant: t.meant, kind: "typo" })),
  fc
    .stringMatching(/^[a-z]{1,20}$/)
    .filter((k) => !DECLARED.includes(k))
    .map((k): Case => ({ raw: `kiln:${k}`, kind: "unknown" })),
);

const counts: Record<string, number> = {};
afterAll(() =>
  console.log(
    `config keys property: ${Object.values(counts).reduce((a, b) => a + b, 0)} generated keys (${JSON.stringify(counts)}), numRuns ${RUNS}`,
  ),
);

test("a key that is not declared is refused, named, with the key it probably meant", () => {
  fc.assert(
    fc.property(badKey, fc.constantFrom("3", "[]", "{}", "x"), (bad, value) => {
      counts[bad.kind] = (counts[bad.kind] ?? 0) + 1;
      const found = problemsOf({ ...BASE, [bad.raw]: value });
      const line = found.find((p) => p.startsWith(`${bad.raw.slice(0, 60)}: `));
      expect(line).toBeDefined();
      // A key that is one edit away, a case variant or a key with extra segments: the message names the real key.
      if (bad.kind !== "typo" || bad.meant!.length >= 6) if (bad.meant) expect(line).toContain(`kiln:${bad.meant}`);
      expect(configKeyProblem(bad.raw)).toBeDefined();
    }),
    { numRuns: RUNS },
  );
});

test("every declared key and every other namespace's key passes the key check", () => {
  for (const k of DECLARED) expect(configKeyProblem(`kiln:${k}`)).toBeUndefined();
  for (const k of ["aws:region", "pulumi:disable-default-providers", "kubernetes:context"])
    expect(configKeyProblem(k)).toBeUndefined();
});

test.each([
  [
    "KILN:azCount",
    "is not a key of this project: config keys are case-sensitive and its namespace is 'kiln': did you mean kiln:azCount?",
  ],
  ["Kiln:platform", "did you mean kiln:platform?"],
  ["kiln:azCount:junk", "has extra segments after the key: write kiln:azCount"],
  ["kiln:azcount", "unknown key: did you mean kiln:azCount?"],
  ["kiln:gpuPool", "unknown key: did you mean kiln:gpuPools?"],
])("the issue's example %s is refused: %s", (key, says) => {
  expect(problemsOf({ ...BASE, [key]: "2" })).toEqual([`${key}: ${configKeyProblem(key)}`]);
  expect(configKeyProblem(key)).toContain(says);
});

test("on the program path (the config the engine hands the program), a case variant stops it before any resource", async () => {
  const spy = jest.spyOn(KilnMocks.prototype, "newResource");
  let error: unknown;
  try {
    await runStack("local", { "KILN:azCount": 2, "kiln:teams:junk": "[]" });
  } catch (e) {
    error = e;
  }
  await new Promise((r) => setTimeout(r, 200));
  const registered = spy.mock.calls.length;
  spy.mockRestore();
  // The program ran in its own module registry, with its own ConfigError class.
  expect((error as Error).name).toBe("ConfigError");
  expect((error as ConfigError).problems).toEqual([
    expect.stringMatching(/^KILN:azCount: .*did you mean kiln:azCount\?/),
    expect.stringMatching(/^kiln:teams:junk: has extra segments/),
  ]);
  expect(registered).toBe(0);
}, 60_000);
