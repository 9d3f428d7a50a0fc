/**
 * Class 8 of issue 26: the plugin checks every name flag where it enters: -n/--namespace, --name, --queue,
 * --team and the run argument of cancel/logs/status/run-local are DNS labels, and a look-alike (Cyrillic,
 * Greek, fullwidth) or invisible (zero-width, bidi, BOM) character is refused with its code point shown.
 */
import fc from "fast-check";
import { helmTemplateRaw } from "../charts/helm";
import { RUN_SPEC_YAML, runCli, tempFile } from "./support";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);
const specFile = tempFile("names-run.yaml", RUN_SPEC_YAML);
const templateFile = tempFile("names-template.yaml", helmTemplateRaw({ gpus: 1, gpuPool: "a100" }).stdout);

const LOOK_ALIKES = [
  "\u0430",
  "\u0435",
  "\u043e",
  "\u0440",
  "\u0441",
  "\u0445",
  "\u0456",
  "\u0455",
  "\u03bf",
  "\uff41",
  "\uff10",
  "\u0131",
];
const INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u00ad", "\u180e"];
const char = fc.oneof(
  { arbitrary: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-"), weight: 30 },
  { arbitrary: fc.constantFrom(...LOOK_ALIKES, ...INVISIBLES), weight: 2 },
  { arbitrary: fc.constantFrom("A", "Z", "_", ".", " ", "\t", "/", ":"), weight: 1 },
);
const name = fc.array(char, { minLength: 0, maxLength: 70 }).map((cs) => cs.join(""));

const SUBMIT = ["submit", "--spec", specFile, "--template", templateFile, "--dry-run"];
const SWEEP = [
  "sweep",
  "--spec",
  specFile,
  "--template",
  templateFile,
  "--set",
  "training.batchSize=8,16",
  "--dry-run",
];
/** Each name flag: the argv with the name in it, the label its message starts with, its length limit. */
const FLAGS: { flag: string; argv: (v: string) => string[]; label: string; max: number }[] = [
  { flag: "-n", argv: (v) => [`--namespace=${v}`, ...SUBMIT], label: "-n/--namespace", max: 63 },
  { flag: "submit --name", argv: (v) => [...SUBMIT, `--name=${v}`], label: "--name", max: 63 },
  { flag: "submit --queue", argv: (v) => [...SUBMIT, `--queue=${v}`], label: "--queue", max: 63 },
  { flag: "sweep --name", argv: (v) => [...SWEEP, `--name=${v}`], label: "--name", max: 52 },
  { flag: "sweep --queue", argv: (v) => [...SWEEP, `--queue=${v}`], label: "--queue", max: 63 },
  { flag: "usage --team", argv: (v) => ["usage", `--team=${v}`], label: "--team", max: 63 },
  { flag: "cancel RUN", argv: (v) => ["cancel", "--", v], label: "run name", max: 63 },
  { flag: "logs RUN", argv: (v) => ["logs", "--", v], label: "run name", max: 63 },
  { flag: "status RUN", argv: (v) => ["status", "--", v], label: "run name", max: 63 },
  { flag: "run-local JOB", argv: (v) => ["run-local", "--", v], label: "run name", max: 63 },
];

const isLabel = (v: string, max: number) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) && v.length <= max;

const tally = { refused: 0, accepted: 0 };
afterAll(() =>
  console.log(
    `name flags property: ${tally.refused + tally.accepted} generated (flag, name) pairs over ${FLAGS.length} flags, ${tally.refused} refused; numRuns ${RUNS}`,
  ),
);

test("every name flag refuses what is not a DNS label, showing the character at fault, and lets labels through", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...FLAGS), name, async (f, value) => {
      const r = await runCli(f.argv(value));
      if (isLabel(value, f.max)) {
        tally.accepted++;
        expect(r.stderr).not.toContain("is invalid");
        return;
      }
      tally.refused++;
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: ${f.label} "`);
      const bad = [...value].find((ch) => !/^[a-z0-9-]$/.test(ch));
      if (bad !== undefined && bad.codePointAt(0)! > 0x7e)
        expect(r.stderr).toContain(`U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`);
      // The value is shown with invisible characters spelt out, never raw.
      for (const ch of INVISIBLES) expect(r.stderr).not.toContain(ch);
    }),
    { numRuns: RUNS },
  );
}, 300_000);

test.each([
  [
    "kiln-r\u0435search",
    "U+0435 ('\u0435') at position 7, a non-ASCII character that only looks like a letter or digit",
  ],
  ["kiln\u200b-research", "an invisible character (U+200B) at position 5"],
  ["kiln-research\u202e", "an invisible character (U+202E) at position 14"],
])("-n %j is refused: %s", async (ns, says) => {
  const r = await runCli(["-n", ns, ...SUBMIT]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(says);
  expect(r.stderr).toContain('-n/--namespace "kiln');
});

test("--context with an invisible character is refused; a kubeconfig path is checked like any other path", async () => {
  expect((await runCli(["--context", "prod\u200b", "ls"])).stderr).toContain(
    '--context "prod\\u{200b}" is invalid: it holds an invisible character (U+200B)',
  );
  expect((await runCli(["--kubeconfig", "/proc/self/status", "ls"])).stderr).toContain(
    "--kubeconfig /proc/self/status: is under /proc",
  );
});
