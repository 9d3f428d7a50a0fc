/** Sweep grids: --set parsing, cartesian product order (the chart's order), index mapping, validation. */
import { parse } from "yaml";
import { parseSetFlags, sweepGrid, validateGrid } from "../../cli/src/sweep";
import { RunSpecError } from "../../trainer-image/src/spec";
import { renderTrainer } from "../charts/helm";
import { RUN_SPEC_YAML } from "./support";

describe("parseSetFlags", () => {
  test("values are typed the way YAML reads them", () => {
    expect(
      parseSetFlags([
        "training.optimizer.learningRate=0.001,1e-2",
        "training.batchSize=32,64",
        "model.init=heNormal",
        "x.flag=true",
        'x.s="32"',
      ]),
    ).toEqual({
      "training.optimizer.learningRate": [0.001, 0.01],
      "training.batchSize": [32, 64],
      "model.init": ["heNormal"],
      "x.flag": [true],
      "x.s": ["32"],
    });
  });

  test.each([
    [[], "sweep needs at least one --set path=v1,v2"],
    [["training.batchSize"], "--set training.batchSize: expected path=v1,v2,..."],
    [["=1,2"], "--set =1,2: expected path=v1,v2"],
    [["training..batchSize=1"], '"training..batchSize" is not a dotted run-spec path'],
    [["a.b=1,,2"], "--set a.b=1,,2: empty value in the list"],
    [["a.b=1", "a.b=2"], "--set a.b is given twice"],
    [["a.b=[1,[2]]"], "a list value must be a non-empty list of numbers, booleans or strings"],
  ])("%j is rejected: %s", (flags, message) => {
    expect(() => parseSetFlags(flags)).toThrow(message);
  });
});

describe("sweepGrid", () => {
  test("cartesian product, keys in alphabetical order, last key fastest", () => {
    const grid = sweepGrid({ "training.optimizer.learningRate": [0.001, 0.01], "training.batchSize": [32, 64, 128] });
    expect(grid).toEqual([
      { "training.batchSize": 32, "training.optimizer.learningRate": 0.001 },
      { "training.batchSize": 32, "training.optimizer.learningRate": 0.01 },
      { "training.batchSize": 64, "training.optimizer.learningRate": 0.001 },
      { "training.batchSize": 64, "training.optimizer.learningRate": 0.01 },
      { "training.batchSize": 128, "training.optimizer.learningRate": 0.001 },
      { "training.batchSize": 128, "training.optimizer.learningRate": 0.01 },
    ]);
  });

  test("size is the product of the list lengths; one key is its list", () => {
    expect(sweepGrid({ a: [1, 2, 3], b: [1, 2], c: [1, 2, 3, 4] })).toHaveLength(24);
    expect(sweepGrid({ a: ["x", "y"] })).toEqual([{ a: "x" }, { a: "y" }]);
  });

  test("the same values give the same grid as the chart's sweep.values (index i means the same point)", () => {
    const values = {
      "training.optimizer.learningRate": [0.001, 0.01, 0.1],
      "training.batchSize": [32, 64],
      "model.init": ["heNormal", "glorotUniform"],
    };
    const cm = renderTrainer({ sweep: { enabled: true, values } }).find("ConfigMap", "kiln-trainer-sweep-overrides");
    expect(sweepGrid(values)).toEqual(JSON.parse(cm.data["overrides.json"]));
  });
});

describe("validateGrid", () => {
  const spec = parse(RUN_SPEC_YAML);

  test("valid points pass", () => {
    expect(() =>
      validateGrid(
        spec,
        sweepGrid({ "training.batchSize": [16, 32], "training.optimizer.learningRate": [0.001, 0.1] }),
      ),
    ).not.toThrow();
  });

  test("each bad point is named with its index, overrides and the schema's problem", () => {
    try {
      validateGrid(spec, sweepGrid({ "training.batchSize": [32, -1], "training.optimizer.name": ["adam"] }));
      throw new Error("expected a RunSpecError");
    } catch (err) {
      expect(err).toBeInstanceOf(RunSpecError);
      const problems = (err as RunSpecError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^grid point 1 \{"training.batchSize":-1,"training.optimizer.name":"adam"\}: training.batchSize: /,
      );
    }
  });
});

describe("bad --set values are quoted by a short prefix", () => {
  test("a huge flag does not end up whole in the message", () => {
    const huge = `training.${"x".repeat(100_000)}-not-a-path=1`;
    let message = "";
    try {
      parseSetFlags([huge]);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/is not a dotted run-spec path|must be/);
    expect(message.length).toBeLessThan(300);
  });
});
