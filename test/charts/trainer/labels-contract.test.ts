/**
 * The chart writes the contract's labels and names by hand (Helm templates cannot import TypeScript): the
 * rendered objects must carry exactly what contract/labels.ts says, or the plugin, the accountant and the
 * dashboard stop finding the chart's runs.
 */
import {
  PART_OF,
  PART_OF_LABEL,
  QUEUE_LABEL,
  RUN_LABEL,
  RUN_SELECTOR,
  SWEEP_LABEL,
  TRAINER_CONTAINER,
  TRAINER_NAME,
} from "../../../contract/labels";
import { renderTrainer, type K8sObject } from "../helm";

const rendered = renderTrainer({
  queue: "team-a",
  run: { enabled: true, name: "one-off" },
  sweep: { enabled: true, name: "grid", values: { "training.epochs": [1, 2] } },
});
const selector = Object.fromEntries(RUN_SELECTOR.split(",").map((kv) => kv.split("=")));
const matchesRunSelector = (labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const jobs = rendered.all("Job");
const cron = rendered.find("CronJob", TRAINER_NAME);

test("every object the chart renders is part of kiln", () => {
  expect(rendered.objects.length).toBeGreaterThan(3);
  for (const o of rendered.objects)
    expect([`${o.kind}/${o.metadata.name}`, o.metadata.labels?.[PART_OF_LABEL]]).toEqual([
      `${o.kind}/${o.metadata.name}`,
      PART_OF,
    ]);
});

test("the template, its Jobs and their pods match the run selector the plugin and the accountant list by", () => {
  const podLabels = (j: K8sObject) => j.spec.template.metadata.labels;
  expect(jobs.map((j) => j.metadata.name).sort()).toEqual(["grid", "one-off"]);
  for (const j of jobs) {
    expect(matchesRunSelector(j.metadata.labels)).toBe(true);
    expect(matchesRunSelector(podLabels(j))).toBe(true);
    expect(j.metadata.labels[RUN_LABEL]).toBe(j.metadata.name);
    expect(j.metadata.labels[QUEUE_LABEL]).toBe("team-a");
    expect(j.spec.template.spec.containers.map((c: { name: string }) => c.name)).toContain(TRAINER_CONTAINER);
  }
  expect(matchesRunSelector(cron.spec.jobTemplate.metadata.labels)).toBe(true);
  expect(matchesRunSelector(cron.spec.jobTemplate.spec.template.metadata.labels)).toBe(true);
  expect(cron.spec.jobTemplate.spec.template.spec.containers.map((c: { name: string }) => c.name)).toContain(
    TRAINER_CONTAINER,
  );
});

test("only the sweep Job carries the sweep label, and its overrides ConfigMap names the sweep's run", () => {
  expect(jobs.filter((j) => j.metadata.labels[SWEEP_LABEL] === "true").map((j) => j.metadata.name)).toEqual(["grid"]);
  expect(rendered.find("ConfigMap", "grid-overrides").metadata.labels[RUN_LABEL]).toBe("grid");
});

test("the chart's own names are the contract's: template CronJob and trainer ServiceAccount", () => {
  expect(rendered.find("ServiceAccount").metadata.name).toBe(TRAINER_NAME);
});
