/**
 * The training loop: model.fit one epoch at a time over a seeded batch order (shuffle off in fit, the
 * order of epoch e depends only on (seed, e)), early stopping, checkpoints every N epochs and on stop.
 * Because every input to an epoch is a function of the checkpointed state, a resumed run ends with the
 * same weights as an uninterrupted one.
 */
import * as tf from "@tensorflow/tfjs";
import { optimizerExtra, restoreOptimizerExtra, type EpochLog, type TensorGroups, type TrainState } from "./checkpoint";
import { epochOrder } from "./rng";
import type { RunSpec } from "./spec";

export interface TrainData {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  valX?: tf.Tensor2D;
  valY?: tf.Tensor2D;
}

export interface TrainOptions {
  spec: RunSpec;
  /** A compiled model. */
  model: tf.LayersModel;
  data: TrainData;
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

export const freshState = (): TrainState => ({ epoch: 0, batch: 0, history: [], early: null, trainSeconds: 0, samplesSeen: 0 });

const round = (v: number, d = 6) => Number(v.toFixed(d));

function disposeGroups(groups: TensorGroups): void {
  Object.values(groups).forEach((g) => g.forEach((t) => t.tensor.dispose()));
}

/** Restores weights and optimizer state into a compiled model. */
export async function restore(model: tf.LayersModel, groups: TensorGroups): Promise<void> {
  model.setWeights(groups.weights.map((w) => w.tensor));
  if (groups.optimizer?.length) await model.optimizer.setWeights(groups.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
  if (groups.optimizerExtra?.length) restoreOptimizerExtra(model.optimizer, groups.optimizerExtra);
}

async function snapshot(model: tf.LayersModel, best: tf.Tensor[] | null): Promise<TensorGroups> {
  const values = model.getWeights();
  return {
    weights: model.weights.map((w, i) => ({ name: w.name, tensor: values[i] })),
    optimizer: (await model.optimizer.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor })),
    optimizerExtra: optimizerExtra(model.optimizer),
    best: best ? best.map((t, i) => ({ name: `best_${i}`, tensor: t })) : [],
  };
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
  const { spec, model, data } = opts;
  const { epochs, batchSize, seed, checkpointEvery, earlyStopping } = spec.training;
  const n = data.x.shape[0];
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const state: TrainState = opts.resume ? structuredClone(opts.resume.state) : freshState();
  let best: tf.Tensor[] | null = null;
  if (opts.resume) {
    await restore(model, opts.resume.groups);
    if (opts.resume.groups.best?.length) best = opts.resume.groups.best.map((b) => tf.clone(b.tensor));
    disposeGroups(opts.resume.groups);
  }
  const validationData = data.valX && data.valY && data.valX.shape[0] > 0 ? ([data.valX, data.valY] as [tf.Tensor, tf.Tensor]) : undefined;
  const save = async () => {
    if (!opts.checkpoint) return;
    await opts.checkpoint(state, await snapshot(model, best));
  };
  let outcome: TrainResult["outcome"] = "completed";
  // A checkpoint written when early stopping fired must not train on after a restart.
  if (earlyStopping && state.early && state.early.wait >= earlyStopping.patience) outcome = "early-stopped";

  while (outcome === "completed" && state.epoch < epochs) {
    const order = epochOrder(n, seed, state.epoch);
    const skip = state.batch * batchSize;
    const idx = tf.tensor1d(order.subarray(skip), "int32");
    const xs = tf.gather(data.x, idx);
    const ys = tf.gather(data.y, idx);
    idx.dispose();
    let batches = state.batch;
    const started = Date.now();
    let lastYield = started;
    const history = await model.fit(xs, ys, {
      epochs: 1,
      batchSize,
      shuffle: false,
      verbose: 0,
      validationData,
      callbacks: {
        onBatchEnd: async () => {
          batches++;
          if (Date.now() - lastYield > 50) {
            await new Promise((r) => setImmediate(r)); // let signal handlers run between batches
            lastYield = Date.now();
          }
          if (opts.shouldStop?.()) model.stopTraining = true;
        },
      },
    });
    xs.dispose();
    ys.dispose();
    const seconds = (Date.now() - started) / 1000;
    const steps = batches - state.batch;
    const samples = Math.min(n - skip, steps * batchSize);
    state.trainSeconds += seconds;
    state.samplesSeen += samples;
    if (batches < stepsPerEpoch) {
      // Stopped mid-epoch: remember the batch position; the resumed run skips those batches.
      state.batch = batches;
      await save();
      return { state, outcome: "interrupted" };
    }
    const logs = history.history;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(logs)) if (k !== "loss" && k !== "val_loss") metrics[k] = round(v[0] as number);
    const line: EpochLog = {
      epoch: state.epoch + 1,
      loss: round(logs.loss[0] as number),
      ...(logs.val_loss ? { val_loss: round(logs.val_loss[0] as number) } : {}),
      metrics,
      samplesPerSecond: Math.round(samples / Math.max(seconds, 1e-3)),
      msPerStep: round((seconds * 1000) / Math.max(1, steps), 2),
      etaSeconds: round((state.trainSeconds / (state.epoch + 1)) * (epochs - state.epoch - 1), 1),
    };
    const diverged = nonFinite(line);
    if (diverged) {
      throw new DivergenceError(
        `training diverged at epoch ${line.epoch}: ${diverged} is ${line.loss !== line.loss && diverged === "loss" ? "NaN" : "not finite"}; lower training.optimizer.learningRate or scale the inputs (preprocess.scale: standard), then start a new run`,
      );
    }
    state.history.push(line);
    state.epoch += 1;
    state.batch = 0;
    opts.log?.(line);

    let stopEarly = false;
    if (earlyStopping) {
      const monitored = line.val_loss ?? line.loss;
      if (!state.early || monitored < state.early.best - earlyStopping.minDelta) {
        state.early = { best: monitored, wait: 0, bestEpoch: line.epoch };
        if (earlyStopping.restoreBest) {
          best?.forEach((t) => t.dispose());
          best = model.getWeights().map((w) => tf.clone(w));
        }
      } else {
        state.early.wait += 1;
        stopEarly = state.early.wait >= earlyStopping.patience;
      }
    }
    const stop = opts.shouldStop?.() ?? false;
    if (stop || stopEarly || state.epoch === epochs || state.epoch % checkpointEvery === 0) await save();
    if (stop) return { state, outcome: "interrupted" };
    if (stopEarly) {
      outcome = "early-stopped";
      break;
    }
  }
  if (best && earlyStopping?.restoreBest) model.setWeights(best);
  best?.forEach((t) => t.dispose());
  return { state, outcome };
}
