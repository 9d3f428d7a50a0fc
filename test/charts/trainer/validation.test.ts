/** Invalid values are rejected by values.schema.json or templates/validation.yaml with a message naming the value. */
import { helmTemplateRaw } from "../helm";

function rejects(values: Record<string, unknown>): string {
  const r = helmTemplateRaw(values);
  expect(r.status).not.toBe(0);
  return r.stderr;
}

describe("values.schema.json rejects", () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ["an unknown top-level key", { gpu: 1 }, /additional properties 'gpu' not allowed/],
    ["a negative gpus", { gpus: -1 }, /\/gpus/],
    ["a fractional gpus", { gpus: 1.5 }, /\/gpus/],
    ["gpus as a string", { gpus: "2" }, /\/gpus/],
    ["a pull policy outside the enum", { image: { pullPolicy: "Sometimes" } }, /\/image\/pullPolicy.*IfNotPresent/],
    ["an empty image tag", { image: { tag: "" } }, /\/image\/tag/],
    ["a queue that is not a DNS label", { queue: "Team_Queue" }, /\/queue/],
    ["an unknown key under job", { job: { retries: 2 } }, /\/job.*retries/],
    ["a grace period under 30 s", { job: { terminationGracePeriodSeconds: 5 } }, /terminationGracePeriodSeconds/],
    ["a sweep value that is not a list", { sweep: { values: { "training.batchSize": 32 } } }, /\/sweep\/values/],
    ["an empty sweep list", { sweep: { values: { "training.batchSize": [] } } }, /\/sweep\/values/],
    [
      "a sweep path that is not dotted identifiers",
      { sweep: { values: { "training..batchSize": [1] } } },
      /invalid propertyName 'training\.\.batchSize'/,
    ],
    ["parallelism 0", { sweep: { parallelism: 0 } }, /\/sweep\/parallelism/],
    ["an endpoint without a scheme", { objectStore: { endpoint: "minio:9000" } }, /\/objectStore\/endpoint/],
    [
      "a resource quantity that is not one",
      { resources: { limits: { memory: "lots" } } },
      /\/resources\/limits\/memory/,
    ],
  ])("%s", (_name, values, message) => {
    expect(rejects(values)).toMatch(message);
  });
});

describe("templates/validation.yaml rejects, naming the value and the fix", () => {
  test.each<[string, Record<string, unknown>, string]>([
    [
      "image tag latest",
      { image: { tag: "latest" } },
      `image.tag "latest" is not pinned: set image.tag to a release tag`,
    ],
    ["image tag main", { image: { tag: "main" } }, `image.tag "main" is not pinned`],
    ["gpuPool without GPUs", { gpuPool: "a100", gpus: 0 }, `gpuPool "a100" is set but gpus is 0: set gpus >= 1`],
    [
      "nvidia.com/gpu in resources",
      { resources: { limits: { "nvidia.com/gpu": 1 } } },
      "must not set nvidia.com/gpu: set gpus instead",
    ],
    [
      "sweep enabled with no values",
      { sweep: { enabled: true } },
      "sweep.enabled is true but sweep.values is empty: set sweep.values",
    ],
    [
      "run and sweep with one name",
      { run: { enabled: true, name: "x" }, sweep: { enabled: true, name: "x", values: { "a.b": [1] } } },
      `run.name and sweep.name are both "x"`,
    ],
  ])("%s", (_name, values, message) => {
    expect(rejects(values)).toContain(message);
  });
});
