/**
 * THE run spec: schema, parsing with every problem named, and sweep overrides.
 * Shared with the kubectl plugin (imported by relative path), so this file imports no tfjs.
 */
import { z } from "zod";
import { parseYaml } from "./yaml";
import { clip } from "./clip";
import { MAX_NESTING, tooDeep } from "./yaml-depth";

const RUN_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const TASKS = ["regression", "binary", "multiclass"] as const;
export const INITIALIZERS = ["randomNormal", "randomUniform", "glorotUniform", "glorotNormal", "heNormal"] as const;
export const ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear", "elu", "selu", "softplus", "swish"] as const;
export const LOSSES = ["mse", "mae", "crossentropy"] as const;
export const OPTIMIZERS = ["sgd", "adam", "rmsprop"] as const;

const columnList = z.array(z.string().min(1, "column names must be non-empty"));

/** Most units in one layer. */
export const MAX_LAYER_UNITS = 65_536;
/** Most rows in one batch. */
export const MAX_BATCH_SIZE = 1_048_576;
/**
 * Most elements of any one weight or activation tensor: 2^28 float32 values, 1 GiB (the optimizer keeps two
 * more of each weight). Past it tfjs fails with "Invalid typed array length" or runs out of memory.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

/** The smallest normal and the largest finite float32. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
const FLOAT32_MAX = (2 - 2 ** -23) * 2 ** 127;

/** A float the trainer hands to tfjs: float32 must not make it 0 (when it is not) or infinite. */
const float32 = (schema: z.ZodNumber) =>
  schema.superRefine((v, ctx) => {
    const f = Math.fround(v);
    if ((f === 0 && v !== 0) || !Number.isFinite(f))
      ctx.addIssue({
        code: "custom",
        message: `${v} is ${f === 0 ? "0" : "infinite"} in float32, the precision training runs in: use a value from ${FLOAT32_MIN_NORMAL.toPrecision(3)} to ${FLOAT32_MAX.toPrecision(3)}`,
      });
  });
const grouped = (n: number) => n.toLocaleString("en-US");

const datasetSchema = z.strictObject({
  /**
   * CSV data: one object, a prefix ending in "/" or a glob of shards (s3://bucket/dir/part-*.csv.gz);
   * s3://, file:/path or a plain path; shards ending in .gz are gunzipped.
   */
  uri: z.string().min(1, "dataset.uri is required, e.g. s3://datasets/auto-mpg/auto-mpg.csv"),
  /** Rows held by the seeded shuffle buffer (memory: rows x model inputs x 4 bytes). */
  shuffleBuffer: z.int().min(1).max(10_000_000).default(10_000),
  /** Encoded rows kept in memory after their first read, so later epochs skip download and parsing (0: off). */
  memoryCacheMiB: z.number().min(0).max(1_048_576).default(128),
  /**
   * Encoded rows past the memory cache written to local disk (KILN_CACHE_DIR, in a pod its emptyDir) on
   * their first read, so later epochs read binary shards instead of downloading and parsing (absent or 0: off).
   */
  diskCacheGiB: z.number().min(0).max(65_536).optional(),
  /** Column to predict. */
  target: z.string().min(1),
  /** Input columns; default: every column but the target and `drop`. */
  features: columnList.optional(),
  /** Columns ignored entirely. */
  drop: columnList.default([]),
  /** Columns one-hot encoded instead of parsed as numbers. */
  categorical: columnList.default([]),
  /** Binary task: the label counted as positive; default "1", "true" or the last label in sorted order. */
  positiveClass: z.union([z.string(), z.number()]).optional(),
});

const layerSchema = z.strictObject({
  units: z
    .int()
    .positive()
    .max(MAX_LAYER_UNITS, `must be at most ${grouped(MAX_LAYER_UNITS)} (the widest layer the trainer builds)`),
  activation: z.enum(ACTIVATIONS).default("relu"),
});

const trainingSchema = z.strictObject({
  /** Default: mse for regression, crossentropy for classification. */
  loss: z.enum(LOSSES).optional(),
  optimizer: z
    .strictObject({
      name: z.enum(OPTIMIZERS).default("adam"),
      learningRate: float32(z.number().positive().max(10)).default(0.001),
    })
    .default({ name: "adam", learningRate: 0.001 }),
  epochs: z.int().positive().max(100000).default(100),
  batchSize: z
    .int()
    .positive()
    .max(MAX_BATCH_SIZE, `must be at most ${grouped(MAX_BATCH_SIZE)} rows`)
    .default(32),
  earlyStopping: z
    .strictObject({
      patience: z.int().positive(),
      minDelta: float32(z.number().nonnegative()).default(0),
      restoreBest: z.boolean().default(true),
    })
    .optional(),
  seed: z.int().nonnegative().default(42),
  checkpointEvery: z.int().positive().default(1),
});

export const runSpecSchema = z
  .strictObject({
    runId: z.string().regex(RUN_ID, "must be lowercase letters, digits and '-', 1-63 chars, e.g. mpg-001").optional(),
    dataset: datasetSchema,
    task: z.enum(TASKS),
    preprocess: z
      .strictObject({
        missing: z.enum(["drop", "mean", "median"]).default("drop"),
        scale: z.enum(["standard", "minmax", "none"]).default("standard"),
      })
      .default({ missing: "drop", scale: "standard" }),
    split: z
      .strictObject({
        test: z.number().min(0).max(0.9).default(0.2),
        validation: z.number().min(0).max(0.9).default(0.2),
        seed: z.int().nonnegative().default(42),
      })
      .default({ test: 0.2, validation: 0.2, seed: 42 }),
    model: z
      .strictObject({
        layers: z.array(layerSchema).default([]),
        init: z.enum(INITIALIZERS).default("glorotUniform"),
      })
      .default({ layers: [], init: "glorotUniform" }),
    training: trainingSchema.default(() => trainingSchema.parse({})),
    output: z.strictObject({
      uri: z
        .string()
        .min(1, "output.uri is required, e.g. s3://artifacts/runs")
        .refine((u) => OUTPUT_URI.test(u), {
          error: (i) =>
            `"${clip(String(i.input), 60)}" is not a place runs can be written: s3://bucket[/prefix], file:/path or an absolute path`,
        }),
    }),
  })
  .superRefine((spec, ctx) => {
    const { dataset, split, task, training } = spec;
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (split.test + split.validation >= 0.95) {
      issue(["split"], `test + validation = ${split.test + split.validation}; leave at least 5% for training`);
    }
    if (dataset.drop.includes(dataset.target))
      issue(["dataset", "drop"], `drops the target column "${dataset.target}"`);
    if (dataset.features?.includes(dataset.target)) {
      issue(["dataset", "features"], `lists the target column "${dataset.target}"; remove it`);
    }
    for (const c of dataset.categorical) {
      if (dataset.drop.includes(c)) issue(["dataset", "categorical"], `"${c}" is also in dataset.drop`);
      if (dataset.features && !dataset.features.includes(c)) {
        issue(["dataset", "categorical"], `"${c}" is not in dataset.features`);
      }
      if (c === dataset.target)
        issue(["dataset", "categorical"], `"${c}" is the target; the task decides how it is encoded`);
    }
    if (task === "regression" && training.loss === "crossentropy") {
      issue(["training", "loss"], "crossentropy needs task binary or multiclass; use mse or mae for regression");
    }
    if (task !== "regression" && training.loss !== undefined && training.loss !== "crossentropy") {
      issue(["training", "loss"], `${training.loss} is a regression loss; use crossentropy for task ${task}`);
    }
    if (task !== "binary" && dataset.positiveClass !== undefined) {
      issue(["dataset", "positiveClass"], "only applies to task binary");
    }
    for (const p of sizeProblems(spec.model.layers, training.batchSize)) issue(p.path, p.message);
  });

/**
 * Weights and activations that would not fit: each layer's kernel (its units x the previous layer's) and each
 * batch of activations (batchSize x units) is one tensor of at most MAX_TENSOR_ELEMENTS. The first layer's
 * inputs are known only once the data is read: `inputs` checks them then (model.ts).
 */
export function sizeProblems(
  layers: readonly { units: number }[],
  batchSize: number,
  inputs?: number,
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const limit = `at most ${grouped(MAX_TENSOR_ELEMENTS)} (1 GiB of float32) per tensor`;
  layers.forEach((layer, i) => {
    const fanIn = i === 0 ? inputs : layers[i - 1].units;
    const from = i === 0 ? "the model's inputs" : `model.layers[${i - 1}].units`;
    if (fanIn !== undefined && layer.units * fanIn > MAX_TENSOR_ELEMENTS)
      out.push({
        path: ["model", "layers", i, "units"],
        message: `${grouped(layer.units)} units x ${grouped(fanIn)} (${from}) = ${grouped(layer.units * fanIn)} weights; ${limit}: use fewer units`,
      });
  });
  const widest = layers.reduce((best, l, i) => (l.units > (layers[best]?.units ?? 0) ? i : best), -1);
  const width = Math.max(layers[widest]?.units ?? 0, inputs ?? 0);
  if (width > 0 && batchSize * width > MAX_TENSOR_ELEMENTS) {
    const what = (layers[widest]?.units ?? 0) >= (inputs ?? 0) ? `model.layers[${widest}].units` : "the model's inputs";
    out.push({
      path: ["training", "batchSize"],
      message: `${grouped(batchSize)} rows x ${grouped(width)} (${what}) = ${grouped(batchSize * width)} activations in one batch; ${limit}: use a batchSize of at most ${grouped(Math.floor(MAX_TENSOR_ELEMENTS / width))}`,
    });
  }
  return out;
}

export type RunSpec = z.output<typeof runSpecSchema>;

/** An S3 bucket (3-63 lowercase letters, digits, '.', '-') with an optional prefix, a file: URI or an absolute path. */
const OUTPUT_URI = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?|file:\/[^\s]*|\/[^\s]*)$/;
export type RunSpecInput = z.input<typeof runSpecSchema>;

/** A spec that failed validation; `problems` has one line per problem, each naming the field. */
export class RunSpecError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid run spec:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "RunSpecError";
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `model.layers[2].units`: a problem's path as the field is written. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, p) => (typeof p === "number" ? `${out}[${p}]` : out === "" ? String(p) : `${out}.${String(p)}`),
    "",
  );
}

/** Parses YAML/JSON text or an object into a validated RunSpec; throws RunSpecError naming every problem. */
export function parseRunSpec(input: string | object): RunSpec {
  let raw: unknown = input;
  if (typeof input === "string") {
    const deep = tooDeep(input);
    if (deep)
      throw new RunSpecError([
        `${deep.path}: nested more than ${MAX_NESTING} levels deep (line ${deep.line}); a run spec is a few levels deep: check the brackets and indentation there`,
      ]);
    try {
      raw = parseYaml(input);
    } catch (err) {
      throw new RunSpecError([`spec is not valid YAML/JSON: ${(err as Error).message.split("\n")[0]}`]);
    }
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new RunSpecError([`spec must be a mapping with dataset, task and output; got ${describe(raw)}`]);
  }
  const result = runSpecSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((i) => {
    // An unknown key is named as the field it would be, so every problem starts with a field path.
    if (i.code === "unrecognized_keys")
      return i.keys
        .slice(0, 10)
        .map(
          (k) =>
            `${fieldPath([...i.path, clip(k)])}: is not a run spec field${i.path.length ? ` of ${fieldPath(i.path)}` : ""} (see trainer-image/README.md)`,
        );
    const where = i.path.length ? fieldPath(i.path) : "spec";
    const got = "input" in i && i.input !== undefined && i.code !== "custom" ? ` (got ${describe(i.input)})` : "";
    return `${where}: ${i.message}${got}`;
  });
  throw new RunSpecError(problems);
}

/**
 * Applies dotted-path overrides (e.g. {"training.optimizer.learningRate": 0.01}) on top of a spec and
 * re-validates. Used for sweeps: KILN_SWEEP_OVERRIDES[JOB_COMPLETION_INDEX].
 */
export function applyOverrides(spec: RunSpec | RunSpecInput, overrides: Record<string, unknown>): RunSpec {
  const copy = structuredClone(spec) as Record<string, unknown>;
  const problems: string[] = [];
  for (const [path, value] of Object.entries(overrides)) {
    const keys = path.split(".");
    if (keys.some((k) => k === "" || k === "__proto__" || k === "constructor" || k === "prototype")) {
      problems.push(`override "${path}": not a valid dotted path`);
      continue;
    }
    let node: Record<string, unknown> = copy;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node[key] = {};
      else if (next === null || typeof next !== "object" || Array.isArray(next)) {
        problems.push(`override "${path}": "${key}" is not a mapping`);
        node = {};
        break;
      }
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  if (problems.length) throw new RunSpecError(problems);
  return parseRunSpec(copy);
}
