/**
 * Issue 26, the run spec's side of classes 5 and 6: deeply nested specs get an error naming the field, not a
 * stack overflow; a batch size or layer width too large for memory is refused naming training.batchSize or
 * model.layers[i].units with the limit (not "Invalid typed array length"); a float that float32 turns into 0
 * or infinity is refused.
 */
import fc from "fast-check";
import { buildModel } from "../../trainer-image/src/model";
import {
  MAX_BATCH_SIZE,
  MAX_LAYER_UNITS,
  MAX_TENSOR_ELEMENTS,
  parseRunSpec,
  type RunSpec,
  RunSpecError,
} from "../../trainer-image/src/spec";
import { MAX_NESTING } from "../../trainer-image/src/yaml-depth";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

function outcome(input: string | object): { spec?: RunSpec; problems: string[] } {
  try {
    return { spec: parseRunSpec(input), problems: [] };
  } catch (err) {
    if (err instanceof RunSpecError) return { problems: err.problems };
    throw new Error(`not a RunSpecError: ${(err as Error).name}: ${(err as Error).message.slice(0, 200)}`);
  }
}

const base = (extra: object) => ({
  dataset: { uri: "s3://datasets/x.csv", target: "y" },
  task: "regression",
  output: { uri: "s3://artifacts/runs" },
  ...extra,
});

/** Sizes spread over orders of magnitude, so the bounds are crossed often. */
const size = (max: number) =>
  fc.integer({ min: 0, max: Math.log2(max) * 100 }).map((e) => Math.max(1, Math.round(2 ** (e / 100))));
/** Floats around float32's edges: tiny, subnormal, normal, huge. */
const float = fc.oneof(
  fc.double({ min: 1e-60, max: 10, noNaN: true }),
  fc.integer({ min: -330, max: 40 }).map((e) => 10 ** e),
  fc.constantFrom(1e-50, 1e-46, 1e-45, 1.4e-45, 1e-40, 1.2e-38, 0.001, 3.5e38, 1e39, Number.MIN_VALUE),
);

const counts = { refused: 0, accepted: 0, nestedRefused: 0 };
afterAll(() => console.log(`spec limits property: ${JSON.stringify(counts)}, numRuns ${RUNS} per property`));

test("layer widths and batch sizes are accepted only when every tensor fits; a refusal names the field and the limit", () => {
  fc.assert(
    fc.property(fc.array(size(4 * MAX_LAYER_UNITS), { maxLength: 4 }), size(4 * MAX_BATCH_SIZE), (units, batchSize) => {
      const { spec, problems } = outcome(
        base({ model: { layers: units.map((u) => ({ units: u })) }, training: { batchSize } }),
      );
      const fits =
        units.every((u) => u <= MAX_LAYER_UNITS) &&
        batchSize <= MAX_BATCH_SIZE &&
        units.every((u, i) => i === 0 || u * units[i - 1] <= MAX_TENSOR_ELEMENTS) &&
        batchSize * Math.max(0, ...units) <= MAX_TENSOR_ELEMENTS;
      expect(spec !== undefined).toBe(fits);
      if (fits) counts.accepted++;
      else counts.refused++;
      for (const p of problems) {
        expect(p).toMatch(/^(model\.layers\[\d+\]\.units|training\.batchSize): /);
        expect(p).toMatch(/at most [\d,]+/);
      }
    }),
    { numRuns: RUNS },
  );
});

test("a float the trainer hands to tfjs is refused when float32 makes it 0 or infinite", () => {
  fc.assert(
    fc.property(float, float, (learningRate, minDelta) => {
      const { problems } = outcome(
        base({ training: { optimizer: { learningRate }, earlyStopping: { patience: 3, minDelta } } }),
      );
      const lost = (v: number) => (Math.fround(v) === 0 && v !== 0) || !Number.isFinite(Math.fround(v));
      expect(problems.some((p) => p.startsWith("training.optimizer.learningRate: ") && /in float32/.test(p))).toBe(
        lost(learningRate),
      );
      expect(problems.some((p) => p.startsWith("training.earlyStopping.minDelta: ") && /in float32/.test(p))).toBe(
        lost(minDelta),
      );
    }),
    { numRuns: RUNS },
  );
});

/** YAML nesting `depth` levels under `field`, in flow or block style. */
const nestedSpec = fc
  .tuple(fc.constantFrom("dataset", "model", "training", "output"), fc.integer({ min: 0, max: 5000 }), fc.boolean())
  .map(([field, depth, flow]) => {
    const value = flow
      ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
      : `\n${Array.from({ length: depth }, (_, i) => `${"  ".repeat(i + 1)}k${i}:`).join("\n")} 1`;
    const rest = [
      "task: regression",
      "dataset: {uri: s3://d/x.csv, target: y}",
      "output: {uri: s3://artifacts/runs}",
    ].filter((l) => !l.startsWith(`${field}:`));
    return { field, depth, text: [...rest, `${field}: ${value}`].join("\n") };
  });

test("a spec nested too deeply is refused naming the field where it goes too deep, never with a stack overflow", () => {
  fc.assert(
    fc.property(nestedSpec, ({ field, depth, text }) => {
      const { problems } = outcome(text);
      // The spec's mapping is one level: the field's value opens the second.
      if (depth + 1 > MAX_NESTING) {
        counts.nestedRefused++;
        expect(problems).toEqual([
          expect.stringMatching(
            new RegExp(
              `^${field}(\\[0\\]|\\.k\\d+)+(\\.\\.\\.)?: nested more than ${MAX_NESTING} levels deep \\(line \\d+\\)`,
            ),
          ),
        ]);
      } else expect(problems.join("\n")).not.toMatch(/call stack|nested more than/);
    }),
    { numRuns: RUNS },
  );
});

describe("the issue's examples", () => {
  test("a batch size too large for memory names training.batchSize and the limit", () => {
    expect(outcome(base({ training: { batchSize: 2 ** 31 } })).problems).toEqual([
      "training.batchSize: must be at most 1,048,576 rows (got 2147483648)",
    ]);
    expect(
      outcome(base({ model: { layers: [{ units: 4096 }] }, training: { batchSize: 1_000_000 } })).problems,
    ).toEqual([
      "training.batchSize: 1,000,000 rows x 4,096 (model.layers[0].units) = 4,096,000,000 activations in one batch; at most 268,435,456 (1 GiB of float32) per tensor: use a batchSize of at most 65,536",
    ]);
  });

  test("a layer too wide names model.layers[i].units and the limit", () => {
    expect(outcome(base({ model: { layers: [{ units: 8 }, { units: 1e6 }] } })).problems).toEqual([
      "model.layers[1].units: must be at most 65,536 (the widest layer the trainer builds) (got 1000000)",
    ]);
    expect(outcome(base({ model: { layers: [{ units: 65536 }, { units: 65536 }] } })).problems).toEqual([
      "model.layers[1].units: 65,536 units x 65,536 (model.layers[0].units) = 4,294,967,296 weights; at most 268,435,456 (1 GiB of float32) per tensor: use fewer units",
    ]);
  });

  test("the first layer is checked against the real inputs when the model is built, before tfjs allocates", () => {
    const spec = parseRunSpec(base({ model: { layers: [{ units: 60_000 }] }, training: { batchSize: 1 } }));
    expect(() => buildModel(spec, [10_000])).toThrow(RunSpecError);
    expect(() => buildModel(spec, [10_000])).toThrow(
      /model\.layers\[0\]\.units: 60,000 units x 10,000 \(the model's inputs\) = 600,000,000 weights; at most 268,435,456/,
    );
  });

  test("a learning rate that is 0 in float32 is refused; so is a minDelta float32 makes infinite", () => {
    expect(outcome(base({ training: { optimizer: { learningRate: 1e-50 } } })).problems).toEqual([
      expect.stringMatching(/^training\.optimizer\.learningRate: 1e-50 is 0 in float32/),
    ]);
    expect(outcome(base({ training: { earlyStopping: { patience: 2, minDelta: 1e39 } } })).problems).toEqual([
      expect.stringMatching(/^training\.earlyStopping\.minDelta: 1e\+39 is infinite in float32/),
    ]);
    expect(outcome(base({ training: { optimizer: { learningRate: 1e-40 } } })).problems).toEqual([]);
  });

  test("100,000 nested lists under dataset", () => {
    expect(outcome(`task: regression\noutput: {uri: s3://a/b}\ndataset: ${"[".repeat(100_000)}`).problems).toEqual([
      expect.stringMatching(/^dataset(\[0\])+\.\.\.: nested more than 32 levels deep \(line 3\)/),
    ]);
  });
});
