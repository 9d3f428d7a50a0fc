/**
 * Splitting and preprocessing: seeded shuffle into train/validation/test, imputation and scaling
 * statistics fitted on the training split only, one-hot encoding. `Preprocess` is written to
 * preprocess.json: everything needed to turn a raw row into model input.
 */
import { canonicalLabel, DataError, type ParsedRows } from "./data";
import { permutation } from "./rng";
import type { RunSpec } from "./spec";

export interface Split {
  readonly train: number[];
  readonly validation: number[];
  readonly test: number[];
}

/** Seeded shuffle, then test rows first, validation rows next, the rest for training. */
export function splitIndices(n: number, test: number, validation: number, seed: number): Split {
  const order = Array.from(permutation(n, seed));
  const nTest = Math.round(n * test);
  const nVal = Math.round(n * validation);
  if (n - nTest - nVal < 1) throw new DataError(`only ${n} usable rows: none left for training after the split`);
  return {
    test: order.slice(0, nTest),
    validation: order.slice(nTest, nTest + nVal),
    train: order.slice(nTest + nVal),
  };
}

export type FeatureEncoding =
  | { column: string; kind: "numeric"; impute: number | null; scale: ScaleStats }
  | { column: string; kind: "categorical"; categories: string[]; impute: string | null };

export type ScaleStats =
  | { kind: "standard"; mean: number; std: number }
  | { kind: "minmax"; min: number; max: number }
  | { kind: "none" };

export interface Preprocess {
  readonly task: RunSpec["task"];
  readonly target: string;
  /** Classification labels in output order (binary: [negative, positive]). */
  readonly classes?: string[];
  readonly missing: RunSpec["preprocess"]["missing"];
  readonly features: FeatureEncoding[];
  /** Model input names after one-hot expansion, e.g. "Origin=USA". */
  readonly inputs: string[];
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function classesOf(spec: RunSpec, y: (number | string)[]): string[] | undefined {
  if (spec.task === "regression") return undefined;
  const labels = [...new Set(y.map(String))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (spec.task === "binary") {
    if (labels.length !== 2) {
      throw new DataError(
        `task binary needs exactly 2 labels in column "${spec.dataset.target}", found ${labels.length}: ${labels.slice(0, 10).join(", ")}`,
      );
    }
    const wanted = spec.dataset.positiveClass;
    const positive =
      wanted !== undefined
        ? canonicalLabel(String(wanted))
        : (labels.find((l) => l === "1" || l.toLowerCase() === "true") ?? labels[1]);
    if (!labels.includes(positive)) {
      throw new DataError(
        `dataset.positiveClass "${positive}" is not a label of "${spec.dataset.target}" (labels: ${labels.join(", ")})`,
      );
    }
    return [labels.find((l) => l !== positive)!, positive];
  }
  if (labels.length < 2)
    throw new DataError(`task multiclass needs at least 2 labels in "${spec.dataset.target}", found ${labels.length}`);
  if (labels.length > MAX_CATEGORIES)
    throw new DataError(
      `task multiclass: "${spec.dataset.target}" has ${labels.length} distinct labels; the trainer caps classes at ${MAX_CATEGORIES} (a softmax over more is not what this trainer is for)`,
    );
  return labels;
}

/** Fits imputation, scaling and encodings on the training rows. */
/** Most distinct values a categorical column may have (each becomes one model input). */
export const MAX_CATEGORIES = 1000;

export function fitPreprocess(spec: RunSpec, data: ParsedRows, train: number[]): Preprocess {
  const features: FeatureEncoding[] = data.features.map((column, k) => {
    const present = train.map((i) => data.x[i][k]).filter((v) => v !== null);
    if (data.categorical.has(column)) {
      const counts = new Map<string, number>();
      for (const v of present) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
      if (counts.size > MAX_CATEGORIES)
        throw new DataError(
          `column "${column}" has ${counts.size} distinct values in the training split; one-hot encoding caps a categorical column at ${MAX_CATEGORIES}: list it in dataset.drop, or bucket it before training`,
        );
      const categories = [...counts.keys()].sort();
      const mode = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
      return { column, kind: "categorical", categories, impute: spec.preprocess.missing === "drop" ? null : mode };
    }
    const nums = present as number[];
    if (nums.length === 0) throw new DataError(`column "${column}" has no values in the training split`);
    const impute =
      spec.preprocess.missing === "mean" ? mean(nums) : spec.preprocess.missing === "median" ? median(nums) : null;
    const filled = train.map((i) => (data.x[i][k] as number | null) ?? (impute as number));
    let scale: ScaleStats = { kind: "none" };
    if (spec.preprocess.scale === "standard") {
      const m = mean(filled);
      const std = Math.sqrt(mean(filled.map((v) => (v - m) ** 2)));
      scale = { kind: "standard", mean: m, std: std > 0 ? std : 1 };
    } else if (spec.preprocess.scale === "minmax") {
      // A loop, not Math.min(...filled): spreading a million values overflows the call stack.
      let min = Infinity;
      let max = -Infinity;
      for (const v of filled) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      scale = { kind: "minmax", min, max };
    }
    return { column, kind: "numeric", impute, scale };
  });
  const inputs = features.flatMap((f) =>
    f.kind === "numeric" ? [f.column] : f.categories.map((c) => `${f.column}=${c}`),
  );
  return {
    task: spec.task,
    target: spec.dataset.target,
    classes: classesOf(spec, data.y),
    missing: spec.preprocess.missing,
    features,
    inputs,
  };
}

/** Turns one parsed row into model input values (length = inputs.length). */
export function encodeRow(pre: Preprocess, row: (number | string | null)[]): number[] {
  const out: number[] = [];
  pre.features.forEach((f, k) => {
    const v = row[k];
    if (f.kind === "categorical") {
      const value = v === null ? f.impute : String(v);
      for (const c of f.categories) out.push(c === value ? 1 : 0);
      return;
    }
    const n = v === null ? (f.impute ?? NaN) : (v as number);
    const s = f.scale;
    out.push(
      s.kind === "standard"
        ? (n - s.mean) / s.std
        : s.kind === "minmax"
          ? s.max > s.min
            ? (n - s.min) / (s.max - s.min)
            : 0
          : n,
    );
  });
  return out;
}

/** Encodes a target: regression value, binary 0/1, multiclass one-hot. */
export function encodeTarget(pre: Preprocess, y: number | string): number[] {
  if (pre.task === "regression") return [y as number];
  const idx = pre.classes!.indexOf(String(y));
  if (pre.task === "binary") return [idx];
  return pre.classes!.map((_, i) => (i === idx ? 1 : 0));
}

export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export function encode(pre: Preprocess, data: ParsedRows, idx: number[]): { x: Matrix; y: Matrix } {
  const cols = pre.inputs.length;
  const yCols = pre.task === "multiclass" ? pre.classes!.length : 1;
  const x = new Float32Array(idx.length * cols);
  const y = new Float32Array(idx.length * yCols);
  idx.forEach((i, r) => {
    x.set(encodeRow(pre, data.x[i]), r * cols);
    y.set(encodeTarget(pre, data.y[i]), r * yCols);
  });
  return { x: { data: x, rows: idx.length, cols }, y: { data: y, rows: idx.length, cols: yCols } };
}
