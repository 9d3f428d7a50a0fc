import { resolveRunSpec, sweepOverrides } from "../../trainer-image/src/loadSpec";
import { applyOverrides, parseRunSpec, RunSpecError } from "../../trainer-image/src/spec";

const MINIMAL = `
dataset: {uri: s3://datasets/auto-mpg/auto-mpg.csv, target: Miles_per_Gallon, drop: [Name], categorical: [Origin]}
task: regression
output: {uri: s3://artifacts/runs}
`;

function problemsOf(input: string | object): string[] {
  try {
    parseRunSpec(input);
  } catch (err) {
    if (err instanceof RunSpecError) return err.problems;
    throw err;
  }
  throw new Error("spec was accepted");
}

describe("run spec", () => {
  test("a minimal spec gets the documented defaults", () => {
    const spec = parseRunSpec(MINIMAL);
    expect(spec.preprocess).toEqual({ missing: "drop", scale: "standard" });
    expect(spec.split).toEqual({ test: 0.2, validation: 0.2, seed: 42 });
    expect(spec.model).toEqual({ layers: [], init: "glorotUniform" });
    expect(spec.training).toMatchObject({
      optimizer: { name: "adam", learningRate: 0.001 },
      epochs: 100,
      batchSize: 32,
      seed: 42,
      checkpointEvery: 1,
    });
    expect(spec.training.earlyStopping).toBeUndefined();
  });

  test("the issue's example spec parses as YAML and as JSON", () => {
    const yaml = `
runId: mpg-001
dataset: {uri: s3://datasets/auto-mpg.csv, target: Miles_per_Gallon, drop: [Name], categorical: [Origin]}
task: regression
preprocess: {missing: drop, scale: standard}
split: {test: 0.2, validation: 0.2, seed: 42}
model: {layers: [{units: 64, activation: relu}, {units: 64, activation: relu}], init: glorotUniform}
training: {loss: mse, optimizer: {name: adam, learningRate: 0.001}, epochs: 100, batchSize: 32,
           earlyStopping: {patience: 10}, seed: 42, checkpointEvery: 1}
output: {uri: s3://artifacts/runs}
`;
    const spec = parseRunSpec(yaml);
    expect(spec.model.layers).toHaveLength(2);
    expect(spec.training.earlyStopping).toEqual({ patience: 10, minDelta: 0, restoreBest: true });
    expect(parseRunSpec(JSON.stringify(spec))).toEqual(spec);
  });

  test("every problem is named with its field and bad value", () => {
    const problems = problemsOf({
      runId: "Bad_ID",
      dataset: { uri: "s3://d/x.csv", target: "y", drop: ["y"], colour: "red" },
      task: "clustering",
      training: { optimizer: { name: "adagrad", learningRate: -1 }, epochs: 0 },
      output: {},
    });
    const text = problems.join("\n");
    expect(text).toMatch(/^runId: .*lowercase.*\(got "Bad_ID"\)/m);
    expect(text).toMatch(/^dataset\.colour: is not a run spec field of dataset/m);
    expect(text).toMatch(/^task: .*regression.*\(got "clustering"\)/m);
    expect(text).toMatch(/^training\.optimizer\.name: .*\(got "adagrad"\)/m);
    expect(text).toMatch(/^training\.optimizer\.learningRate: .*\(got -1\)/m);
    expect(text).toMatch(/^training\.epochs: .*\(got 0\)/m);
    expect(text).toMatch(/^output\.uri: /m);
    expect(problems.length).toBeGreaterThanOrEqual(7);
  });

  test("cross-field rules: losses fit the task, the target is neither dropped nor a feature", () => {
    const base = parseRunSpec(MINIMAL);
    expect(problemsOf({ ...base, training: { ...base.training, loss: "crossentropy" } })).toEqual([
      "training.loss: crossentropy needs task binary or multiclass; use mse or mae for regression",
    ]);
    expect(problemsOf({ ...base, task: "binary", training: { ...base.training, loss: "mse" } })[0]).toMatch(
      /training\.loss: mse is a regression loss/,
    );
    expect(problemsOf({ ...base, dataset: { ...base.dataset, drop: ["Miles_per_Gallon"] } })[0]).toMatch(
      /dataset\.drop: drops the target/,
    );
    expect(problemsOf({ ...base, split: { test: 0.5, validation: 0.5, seed: 1 } })[0]).toMatch(
      /^split: test \+ validation = 1/,
    );
  });

  test("text that is not a mapping is refused with a clear message", () => {
    expect(problemsOf("just a string")[0]).toMatch(/spec must be a mapping/);
    expect(problemsOf("a: [unclosed")[0]).toMatch(/not valid YAML/);
  });

  test("applyOverrides sets dotted paths and re-validates", () => {
    const spec = applyOverrides(parseRunSpec(MINIMAL), {
      "training.optimizer.learningRate": 0.05,
      "training.batchSize": 64,
      "model.layers": [{ units: 8 }],
    });
    expect(spec.training.optimizer.learningRate).toBe(0.05);
    expect(spec.training.batchSize).toBe(64);
    expect(spec.model.layers).toEqual([{ units: 8, activation: "relu" }]);
    expect(() => applyOverrides(parseRunSpec(MINIMAL), { "training.batchSize": "big" })).toThrow(/training\.batchSize/);
    expect(() => applyOverrides(parseRunSpec(MINIMAL), { "task.x": 1 })).toThrow(/"task" is not a mapping/);
  });
});

describe("run spec resolution (env)", () => {
  test("KILN_RUN_ID overrides spec.runId", () => {
    expect(resolveRunSpec(`runId: a\n${MINIMAL}`, { KILN_RUN_ID: "job-7" }).runId).toBe("job-7");
    expect(resolveRunSpec(`runId: a\n${MINIMAL}`, {}).runId).toBe("a");
    expect(resolveRunSpec(MINIMAL, {}).runId).toMatch(/^run-\d{14}-[0-9a-f]{6}$/);
  });

  test("a sweep member applies KILN_SWEEP_OVERRIDES[JOB_COMPLETION_INDEX] and suffixes the run id", () => {
    const env = {
      KILN_RUN_ID: "sweep",
      KILN_SWEEP_OVERRIDES: JSON.stringify([
        { "training.optimizer.learningRate": 0.01 },
        { "training.optimizer.learningRate": 0.1, "training.batchSize": 8 },
      ]),
      JOB_COMPLETION_INDEX: "1",
    };
    const spec = resolveRunSpec(MINIMAL, env);
    expect(spec.runId).toBe("sweep-1");
    expect(spec.training.optimizer.learningRate).toBe(0.1);
    expect(spec.training.batchSize).toBe(8);
  });

  test("sweep env mistakes are usage errors naming the variable", () => {
    expect(() => sweepOverrides({ KILN_SWEEP_OVERRIDES: "[{}]" })).toThrow(/JOB_COMPLETION_INDEX/);
    expect(() => sweepOverrides({ KILN_SWEEP_OVERRIDES: "[{}]", JOB_COMPLETION_INDEX: "3" })).toThrow(
      /out of range: KILN_SWEEP_OVERRIDES has 1 entries/,
    );
    expect(() => sweepOverrides({ KILN_SWEEP_OVERRIDES: "{", JOB_COMPLETION_INDEX: "0" })).toThrow(
      /KILN_SWEEP_OVERRIDES: not valid JSON/,
    );
    expect(() => sweepOverrides({ KILN_SWEEP_OVERRIDES: "[1]", JOB_COMPLETION_INDEX: "0" })).toThrow(
      /array of objects/,
    );
    expect(sweepOverrides({})).toBeUndefined();
  });

  test("an override that makes the spec invalid names the field", () => {
    const env = { KILN_SWEEP_OVERRIDES: JSON.stringify([{ "training.batchSize": 0 }]), JOB_COMPLETION_INDEX: "0" };
    expect(() => resolveRunSpec(MINIMAL, env)).toThrow(/training\.batchSize/);
  });

  test("a run id made invalid by KILN_RUN_ID says where it came from", () => {
    expect(() => resolveRunSpec(MINIMAL, { KILN_RUN_ID: "Not Valid" })).toThrow(/runId: .*from KILN_RUN_ID/);
  });
});

describe("output.uri is checked when the spec is read, not when the first write fails", () => {
  const base = { dataset: { uri: "s3://d/x.csv", target: "y" }, task: "regression" };
  test.each(["relative/dir", "s3://", "s3://B/runs", "s3://ab", "http://store/runs", "s3://bucket/with space"])(
    "%j is refused naming output.uri",
    (uri) => {
      expect(() => parseRunSpec({ ...base, output: { uri } })).toThrow(RunSpecError);
      try {
        parseRunSpec({ ...base, output: { uri } });
      } catch (e) {
        expect((e as RunSpecError).problems.join("\n")).toMatch(
          /^output\.uri: ".*" is not a place runs can be written/m,
        );
      }
    },
  );
  test.each(["s3://artifacts/runs", "s3://my.bucket-1", "file:/data/runs", "/tmp/runs"])("%j is accepted", (uri) => {
    expect(parseRunSpec({ ...base, output: { uri } }).output.uri).toBe(uri);
  });
});

describe("big or hostile spec text", () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `  k${i}: ${i}`).join("\n");

  test("a map of 40,000 keys parses in linear time (the yaml package's own duplicate check is quadratic)", () => {
    const text = `dataset:\n  uri: s3://d/x.csv\n  target: y\ntask: regression\noutput: {uri: s3://artifacts/runs}\nextra:\n${keys(40_000)}\n`;
    const t0 = Date.now();
    let err: unknown;
    try {
      parseRunSpec(text);
    } catch (e) {
      err = e;
    }
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(RunSpecError);
    const message = (err as Error).message;
    expect(message).toMatch(/extra/);
    expect(message.length).toBeLessThan(2000);
  });

  test("duplicate keys are still refused, naming the key", () => {
    expect(() => parseRunSpec("task: regression\ntask: binary\n")).toThrow(
      /map keys must be unique: "task" appears twice/,
    );
  });
});
