/** Run outputs: test evaluation, the model in tfjs layers format, run.json bookkeeping. */
import * as tf from "@tensorflow/tfjs";
import {
  binaryMetrics,
  multiclassMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type RegressionMetrics,
} from "./metrics";
import type { Preprocess } from "./preprocess";
import type { RunSpec } from "./spec";
import type { Store } from "./storage";

export type TestMetrics = RegressionMetrics | ClassificationMetrics;

/** Predicts the test split and computes the task's metrics (null when there is no test split). */
export function evaluate(model: tf.LayersModel, pre: Preprocess, x: tf.Tensor2D, y: tf.Tensor2D): TestMetrics | null {
  if (x.shape[0] === 0) return null;
  const pred = tf.tidy(() => model.predict(x) as tf.Tensor2D);
  const p = pred.arraySync();
  const t = y.arraySync();
  pred.dispose();
  if (pre.task === "regression")
    return regressionMetrics(
      t.map((r) => r[0]),
      p.map((r) => r[0]),
    );
  if (pre.task === "binary")
    return binaryMetrics(
      t.map((r) => r[0]),
      p.map((r) => r[0]),
    );
  const argmax = (r: number[]) => r.indexOf(Math.max(...r));
  return multiclassMetrics(t.map(argmax), p.map(argmax), pre.classes!.length);
}

/** Grows a Float32Array as values are appended (test predictions of a streamed split). */
class Floats {
  private data = new Float32Array(1024);
  length = 0;

  push(values: ArrayLike<number>): void {
    if (this.length + values.length > this.data.length) {
      const bigger = new Float32Array(Math.max(this.data.length * 2, this.length + values.length));
      bigger.set(this.data.subarray(0, this.length));
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }

  values(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

const argmaxRows = (v: ArrayLike<number>, rows: number, cols: number) =>
  Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (v[r * cols + c] > v[r * cols + best]) best = c;
    return best;
  });

/** Predicts a streamed test split batch by batch (one float per row kept; argmax for multiclass). */
export async function evaluateBatches(
  model: tf.LayersModel,
  pre: Preprocess,
  batches: AsyncIterable<{ x: Float32Array; y: Float32Array; rows: number }>,
  cols: number,
): Promise<TestMetrics | null> {
  const truth = new Floats();
  const predicted = new Floats();
  const k = pre.task === "multiclass" ? pre.classes!.length : 1;
  for await (const b of batches) {
    const out = tf.tidy(() => model.predict(tf.tensor2d(b.x, [b.rows, cols]), { batchSize: b.rows }) as tf.Tensor);
    const p = out.dataSync();
    out.dispose();
    if (k === 1) {
      truth.push(b.y);
      predicted.push(p);
    } else {
      truth.push(argmaxRows(b.y, b.rows, k));
      predicted.push(argmaxRows(p, b.rows, k));
    }
  }
  if (truth.length === 0) return null;
  if (pre.task === "regression") return regressionMetrics(truth.values(), predicted.values());
  if (pre.task === "binary") return binaryMetrics(truth.values(), predicted.values());
  return multiclassMetrics(truth.values(), predicted.values(), k);
}

/** Saves the model as model/model.json + model/weights.bin through the store (tfjs layers format). */
export async function saveModel(model: tf.LayersModel, store: Store, metadata: Record<string, unknown>): Promise<void> {
  model.setUserDefinedMetadata(JSON.parse(JSON.stringify(metadata)) as object);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
      await store.put("model/weights.bin", weights);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      };
      await store.put("model/model.json", JSON.stringify(modelJson), "application/json");
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

import type { TrainerUsage } from "./usage";

export interface RunRecord {
  runId: string;
  status: "running" | "succeeded" | "failed";
  attempts: number;
  spec: RunSpec;
  firstStartedAt: string;
  startedAt: string;
  endedAt?: string;
  backend?: string;
  error?: string;
  /** Set when the last attempt stopped on a signal after checkpointing. */
  interruptedAt?: string;
  /** GPU time of the attempts so far, by the trainer's clock (trainer-image/src/usage.ts). */
  usage?: TrainerUsage;
}

export async function readRunRecord(store: Store): Promise<RunRecord | undefined> {
  const raw = await store.get("run.json");
  return raw ? (JSON.parse(raw.toString("utf8")) as RunRecord) : undefined;
}

export async function writeRunRecord(store: Store, record: RunRecord): Promise<void> {
  await store.put("run.json", `${JSON.stringify(record, null, 2)}\n`, "application/json");
}

/** Stable JSON of a spec (keys sorted) to tell "the same run retried" from "another run with this id". */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
