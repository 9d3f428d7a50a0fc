/** The network: built from the spec with seeded initialisers, compiled separately. */
import * as tf from "@tensorflow/tfjs";
import { mixSeed } from "./rng";
import { fieldPath, RunSpecError, sizeProblems, type RunSpec } from "./spec";

type Init = RunSpec["model"]["init"];

function initializer(init: Init, seed: number): ReturnType<typeof tf.initializers.zeros> {
  switch (init) {
    case "randomNormal":
      return tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed });
    case "randomUniform":
      return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed });
    case "glorotNormal":
      return tf.initializers.glorotNormal({ seed });
    case "heNormal":
      return tf.initializers.heNormal({ seed });
    case "glorotUniform":
      return tf.initializers.glorotUniform({ seed });
  }
}

/** Output units and activation implied by the task. */
export function outputLayer(
  task: RunSpec["task"],
  classes: number,
): { units: number; activation: "linear" | "sigmoid" | "softmax" } {
  if (task === "regression") return { units: 1, activation: "linear" };
  if (task === "binary") return { units: 1, activation: "sigmoid" };
  return { units: classes, activation: "softmax" };
}

/**
 * Builds the uncompiled model: the spec's hidden layers, then the task's output layer.
 * Every kernel initialiser is seeded from (training.seed, layer index), so two runs start identical.
 */
export function buildModel(spec: RunSpec, inputShape: number[], classes = 1): tf.Sequential {
  // The spec's own sizes were checked when it was parsed; the inputs are known only now.
  const tooBig = sizeProblems(spec.model.layers, spec.training.batchSize, inputShape[0]);
  if (tooBig.length) throw new RunSpecError(tooBig.map((p) => `${fieldPath(p.path)}: ${p.message}`));
  const model = tf.sequential();
  const layers = [...spec.model.layers, outputLayer(spec.task, classes)];
  layers.forEach((layer, i) => {
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape } : {}),
        units: layer.units,
        activation: layer.activation,
        kernelInitializer: initializer(spec.model.init, mixSeed(spec.training.seed, i)),
        biasInitializer: "zeros",
        name: i === layers.length - 1 ? "output" : `dense_${i + 1}`,
      }),
    );
  });
  return model;
}

export function makeOptimizer(spec: RunSpec): tf.Optimizer {
  const { name, learningRate } = spec.training.optimizer;
  if (name === "sgd") return tf.train.sgd(learningRate);
  if (name === "rmsprop") return tf.train.rmsprop(learningRate);
  return tf.train.adam(learningRate);
}

export function lossName(spec: RunSpec): string {
  const loss = spec.training.loss ?? (spec.task === "regression" ? "mse" : "crossentropy");
  if (loss === "crossentropy") return spec.task === "binary" ? "binaryCrossentropy" : "categoricalCrossentropy";
  return loss === "mae" ? "meanAbsoluteError" : "meanSquaredError";
}

/** Compiles with the spec's optimizer and loss; tracks mae (regression) or accuracy per epoch. */
export function compileModel(model: tf.LayersModel, spec: RunSpec): void {
  model.compile({
    optimizer: makeOptimizer(spec),
    loss: lossName(spec),
    metrics: spec.task === "regression" ? ["mae"] : ["accuracy"],
  });
}
