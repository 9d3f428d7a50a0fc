/**
 * The training loop: one trainOnBatch per batch of a BatchSource (streamed shards in a run, tensors in
 * tests), the batch order of epoch e a function of (seed, e) only, early stopping, checkpoints every N
 * epochs and on stop (mid-epoch with the stream's position). Because every input to an epoch is a function
 * of the checkpointed state, a resumed run ends with the same weights as an uninterrupted one.
 */
import * as tf from "@tensorflow/tfjs";
import {
  memorySource,
  validationBatchRows,
  type Batch,
  type BatchSource,
  type StreamState,
  type TrainData,
} from "./batches";
import { optimizerExtra, restoreOptimizerExtra, type EpochLog, type TensorGroups, type TrainState } from "./checkpoint";
import type { RunSpec } from "./spec";

export type { TrainData } from "./batches";

export interface TrainOptions {
  spec: RunSpec;
  /** A compiled model. */
  model: tf.LayersModel;
  /** Streamed batches, or tensors in memory (each epoch a seeded permutation of their rows). */
  data: TrainData | BatchSource;
  /** State to resume from (from a checkpoint), else a fresh run. */
  resume?: { state: TrainState; groups: TensorGroups };
  /** Persists a checkpoint (every checkpointEvery epochs, and when stopping on a signal). */
  checkpoint?: (state: TrainState, groups: TensorGroups) => Promise<void>;
  /** Polled after every batch: true asks the loop to checkpoint and stop (SIGTERM). */
  shouldStop?: () => boolean;
  /** Receives one object per epoch (the JSON log line). */
  log?: (line: EpochLog) => void;
}

export interface TrainResult {
  state: TrainState;
  outcome: "completed" | "early-stopped" | "interrupted";
}

export const freshState = (): TrainState => ({
  epoch: 0,
  batch: 0,
  history: [],
  early: null,
  trainSeconds: 0,
  samplesSeen: 0,
});

const round = (v: number, d = 6) => Number(v.toFixed(d));

function disposeGroups(groups: TensorGroups): void {
  Object.values(groups).forEach((g) => g.forEach((t) => t.tensor.dispose()));
}

/** Restores weights and optimizer state into a compiled model. */
export async function restore(model: tf.LayersModel, groups: TensorGroups): Promise<void> {
  model.setWeights(groups.weights.map((w) => w.tensor));
  if (groups.optimizer?.length)
    await model.optimizer.setWeights(groups.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
  if (groups.optimizerExtra?.length) restoreOptimizerExtra(model.optimizer, groups.optimizerExtra);
}

async function snapshot(model: tf.LayersModel, best: tf.Tensor[] | null, stream?: StreamState): Promise<TensorGroups> {
  const values = model.getWeights();
  return {
    weights: model.weights.map((w, i) => ({ name: w.name, tensor: values[i] })),
    optimizer: (await model.optimizer.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor })),
    optimizerExtra: optimizerExtra(model.optimizer),
    best: best ? best.map((t, i) => ({ name: `best_${i}`, tensor: t })) : [],
    stream: Object.entries(stream?.arrays ?? {}).map(([name, a]) => ({ name, tensor: tf.tensor1d(a) })),
  };
}

const toTensors = (b: Batch, cols: number, yCols: number) =>
  [tf.tensor2d(b.x, [b.rows, cols]), tf.tensor2d(b.y, [b.rows, yCols])] as const;

/** Batches between reads of the loss and metrics from the backend. */
export const LOSS_READBACK_BATCHES = 32;

/**
 * One optimizer step on a batch, returning its loss and metrics as scalars (model.metricsNames order) without
 * reading them back: trainOnBatch's own train function (it awaits every value before returning).
 */
function trainStep(model: tf.LayersModel): (xs: tf.Tensor, ys: tf.Tensor) => tf.Scalar[] {
  type Trainable = { makeTrainFunction(): (data: tf.Tensor[]) => tf.Scalar[] };
  // A Sequential trains (and delegates trainOnBatch to) the LayersModel it wraps.
  const inner =
    model instanceof tf.Sequential ? (model as unknown as { model: Trainable }).model : (model as unknown as Trainable);
  const fn = inner.makeTrainFunction();
  return (xs, ys) => fn([xs, ys]);
}

/** Loss and metrics of a batch, in model.metricsNames order. */
const asList = (v: number | number[] | tf.Scalar | tf.Scalar[]): number[] =>
  (Array.isArray(v) ? v : [v]).map((s) => (typeof s === "number" ? s : (s.dataSync()[0] as number)));

/** Weighted means of loss and metrics over the validation batches (undefined without validation rows). */
async function validate(model: tf.LayersModel, source: BatchSource, batchSize: number): Promise<number[] | undefined> {
  if (source.validationRows === 0) return undefined;
  let rows = 0;
  let sums: number[] = [];
  for await (const b of source.validation(validationBatchRows(batchSize))) {
    const [xs, ys] = toTensors(b, source.cols, source.yCols);
    const out = model.evaluate(xs, ys, { batchSize: b.rows }) as tf.Scalar | tf.Scalar[];
    const values = asList(out);
    tf.dispose([xs, ys, out]);
    sums = values.map((v, i) => (sums[i] ?? 0) + v * b.rows);
    rows += b.rows;
  }
  return rows > 0 ? sums.map((s) => s / rows) : undefined;
}

/** Training produced a NaN or infinite loss or metric: the run cannot recover from its checkpoints. */
export class DivergenceError extends Error {}

/** The first of loss, val_loss and the metrics of an epoch line that is NaN or infinite. */
function nonFinite(line: EpochLog): string | undefined {
  if (!Number.isFinite(line.loss)) return "loss";
  if (line.val_loss !== undefined && !Number.isFinite(line.val_loss)) return "val_loss";
  return Object.entries(line.metrics).find(([, v]) => !Number.isFinite(v))?.[0];
}

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { spec, model } = opts;
  const { epochs, batchSize, seed, checkpointEvery, earlyStopping } = spec.training;
  const source = "cols" in opts.data ? opts.data : memorySource(opts.data, seed);
  const stepsPerEpoch = Math.ceil(source.trainRows / batchSize);
  const state: TrainState = opts.resume ? structuredClone(opts.resume.state) : freshState();
  let best: tf.Tensor[] | null = null;
  let resumeStream: StreamState | undefined;
  if (opts.resume) {
    await restore(model, opts.resume.groups);
    if (opts.resume.groups.best?.length) best = opts.resume.groups.best.map((b) => tf.clone(b.tensor));
    if (state.stream) {
      const arrays = Object.fromEntries(
        (opts.resume.groups.stream ?? []).map((g) => [g.name, g.tensor.dataSync() as Float32Array]),
      );
      resumeStream = { position: state.stream, arrays };
    }
    disposeGroups(opts.resume.groups);
  }
  const names = model.metricsNames;
  const save = async (stream?: StreamState) => {
    if (!opts.checkpoint) return;
    const groups = await snapshot(model, best, stream);
    await opts.checkpoint(state, groups);
    groups.stream.forEach((g) => g.tensor.dispose());
  };
  let outcome: TrainResult["outcome"] = "completed";
  // A checkpoint written when early stopping fired must not train on after a restart.
  if (earlyStopping && state.early && state.early.wait >= earlyStopping.patience) outcome = "early-stopped";

  while (outcome === "completed" && state.epoch < epochs) {
    const stream = source.epoch(state.epoch, batchSize, { batch: state.batch, state: resumeStream });
    resumeStream = undefined;
    const partial = state.partial ?? { rows: 0, sums: names.map(() => 0) };
    let batches = state.batch;
    let stop = false;
    const started = Date.now();
    let lastYield = started;
    let rowsThisAttempt = 0;
    try {
      const pending: { losses: tf.Scalar[]; rows: number }[] = [];
      // Loss and metrics read back every LOSS_READBACK_BATCHES batches in one transfer, summed in batch order
      // (the same sums as reading each batch's at once), so no batch waits for the one before it.
      const readBack = async () => {
        if (!pending.length) return;
        const all = tf.stack(pending.flatMap((p) => p.losses));
        const values = await all.data();
        let k = 0;
        for (const p of pending) for (let i = 0; i < p.losses.length; i++) partial.sums[i] += values[k++] * p.rows;
        tf.dispose([all, ...pending.flatMap((p) => p.losses)]);
        pending.length = 0;
      };
      const step = trainStep(model);
      for (let b = await stream.next(); b; b = await stream.next()) {
        const [xs, ys] = toTensors(b, source.cols, source.yCols);
        pending.push({ losses: step(xs, ys), rows: b.rows });
        xs.dispose();
        ys.dispose();
        if (pending.length >= LOSS_READBACK_BATCHES) await readBack();
        partial.rows += b.rows;
        rowsThisAttempt += b.rows;
        batches++;
        if (Date.now() - lastYield > 50) {
          await new Promise((r) => setImmediate(r)); // let signal handlers run between batches
          lastYield = Date.now();
        }
        if (opts.shouldStop?.()) {
          stop = true;
          break;
        }
      }
      await readBack();
      const seconds = (Date.now() - started) / 1000;
      state.trainSeconds += seconds;
      state.samplesSeen += rowsThisAttempt;
      if (stop && batches < stepsPerEpoch) {
        // Stopped mid-epoch: remember the batch and the stream's position; the resumed run continues there.
        const position = stream.state();
        state.batch = batches;
        state.stream = position.position;
        state.partial = partial;
        await save(position);
        return { state, outcome: "interrupted" };
      }
      const steps = batches - state.batch;
      const val = await validate(model, source, batchSize);
      const mean = partial.sums.map((v) => v / Math.max(1, partial.rows));
      const metrics: Record<string, number> = {};
      names.forEach((name, i) => {
        if (i > 0) metrics[name] = round(mean[i]);
      });
      if (val) for (const [i, name] of names.entries()) if (i > 0) metrics[`val_${name}`] = round(val[i]);
      const line: EpochLog = {
        epoch: state.epoch + 1,
        loss: round(mean[0]),
        ...(val ? { val_loss: round(val[0]) } : {}),
        metrics,
        samplesPerSecond: Math.round(rowsThisAttempt / Math.max(seconds, 1e-3)),
        msPerStep: round((seconds * 1000) / Math.max(1, steps), 2),
        etaSeconds: round((state.trainSeconds / (state.epoch + 1)) * (epochs - state.epoch - 1), 1),
      };
      const diverged = nonFinite(line);
      if (diverged) {
        throw new DivergenceError(
          `training diverged at epoch ${line.epoch}: ${diverged} is ${Number.isNaN(line.loss) && diverged === "loss" ? "NaN" : "not finite"}; lower training.optimizer.learningRate or scale the inputs (preprocess.scale: standard), then start a new run`,
        );
      }
      state.history.push(line);
      state.epoch += 1;
      state.batch = 0;
      delete state.stream;
      delete state.partial;
      opts.log?.(line);
    } finally {
      stream.close();
    }

    let stopEarly = false;
    if (earlyStopping) {
      const last = state.history[state.history.length - 1];
      const monitored = last.val_loss ?? last.loss;
      if (!state.early || monitored < state.early.best - earlyStopping.minDelta) {
        state.early = { best: monitored, wait: 0, bestEpoch: last.epoch };
        if (earlyStopping.restoreBest) {
          best?.forEach((t) => t.dispose());
          best = model.getWeights().map((w) => tf.clone(w));
        }
      } else {
        state.early.wait += 1;
        stopEarly = state.early.wait >= earlyStopping.patience;
      }
    }
    const stopNow = opts.shouldStop?.() ?? false;
    if (stopNow || stopEarly || state.epoch === epochs || state.epoch % checkpointEvery === 0) await save();
    if (stopNow) return { state, outcome: "interrupted" };
    if (stopEarly) {
      outcome = "early-stopped";
      break;
    }
  }
  if (best && earlyStopping?.restoreBest) model.setWeights(best);
  best?.forEach((t) => t.dispose());
  return { state, outcome };
}
