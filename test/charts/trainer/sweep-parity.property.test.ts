/**
 * The sweep exists twice: in the chart (`helm install --set sweep.enabled=true`, _helpers.tpl) and in the plugin
 * (`kubectl kiln sweep`, cli/src/sweep.ts + job.ts). On generated grids both give the same points in the same
 * order, the same Indexed Job shape and the same name limits, so neither copy can drift with its own test green.
 */
import fc from "fast-check";
import { jobFromTemplate, MAX_RUN_NAME, MAX_SWEEP_NAME, templateFromManifest } from "../../../cli/src/job";
import { sweepGrid, type Scalar } from "../../../cli/src/sweep";
import { SWEEP_LABEL } from "../../../contract/labels";
import { renderTrainer } from "../helm";

// Run-spec paths a sweep really sets, plus made-up ones: the grid rule does not care what a path means.
const path = fc.oneof(
  fc.constantFrom("training.batchSize", "training.optimizer.learningRate", "model.init", "training.epochs"),
  fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,6}(\.[a-z][a-zA-Z0-9]{0,6}){0,2}$/),
);
const scalar: fc.Arbitrary<Scalar> = fc.oneof(
  fc.integer({ min: -1000, max: 100_000 }),
  fc.double({ min: 1e-6, max: 10, noNaN: true }).map((x) => Number(x.toPrecision(4))),
  fc.boolean(),
  fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,8}$/),
);
const values = fc.dictionary(
  path,
  fc.uniqueArray(scalar, { minLength: 1, maxLength: 3, selector: (v) => JSON.stringify(v) }),
  { minKeys: 1, maxKeys: 3 },
);
const RUNS = 25;

test(`chart and plugin build the same sweep Job from the same values (${RUNS} generated grids)`, () => {
  fc.assert(
    fc.property(values, fc.integer({ min: 1, max: 12 }), (vals, parallelism) => {
      const rendered = renderTrainer({ sweep: { enabled: true, name: "grid", values: vals, parallelism } });
      const chartGrid = JSON.parse(rendered.find("ConfigMap", "grid-overrides").data["overrides.json"]);
      const grid = sweepGrid(vals);
      expect(chartGrid).toEqual(grid);

      const chartJob = rendered.find("Job", "grid");
      const template = templateFromManifest(rendered.manifest, "helm template");
      const pluginJob = jobFromTemplate(template, {
        name: "grid",
        namespace: "kiln-ml",
        specText: "{}",
        sweep: { grid, parallelism },
      });
      for (const field of ["completionMode", "completions", "parallelism"] as const)
        expect(chartJob.spec[field]).toEqual(pluginJob.spec?.[field]);
      expect(chartJob.metadata.labels[SWEEP_LABEL]).toBe(pluginJob.metadata?.labels?.[SWEEP_LABEL]);
    }),
    { numRuns: RUNS },
  );
});

test("the chart cuts sweep and run names where the plugin's limits are, and keeps names within them as given", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-z]([a-z0-9-]{0,90}[a-z0-9])?$/), (name) => {
      const r = renderTrainer({
        sweep: { enabled: true, name, values: { "training.epochs": [1] } },
        run: { enabled: true, name: `${name}r` },
      });
      const sweep = r.all("Job").find((j) => j.metadata.labels[SWEEP_LABEL] === "true")!;
      const run = r.all("Job").find((j) => j.metadata.labels[SWEEP_LABEL] !== "true")!;
      expect(sweep.metadata.name.length).toBeLessThanOrEqual(MAX_SWEEP_NAME);
      expect(run.metadata.name.length).toBeLessThanOrEqual(MAX_RUN_NAME);
      if (name.length <= MAX_SWEEP_NAME) expect(sweep.metadata.name).toBe(name);
      if (name.length < MAX_RUN_NAME) expect(run.metadata.name).toBe(`${name}r`);
    }),
    { numRuns: 15 },
  );
});
