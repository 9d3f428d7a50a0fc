import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../trainer-image/src/backend";
import { testBackends } from "./backends";
import { loadCheckpoint, saveCheckpoint } from "../../trainer-image/src/checkpoint";
import { buildModel, compileModel } from "../../trainer-image/src/model";
import { parseRunSpec, type RunSpecInput } from "../../trainer-image/src/spec";
import { openStore } from "../../trainer-image/src/storage";
import { DivergenceError, train, type TrainData } from "../../trainer-image/src/train";

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-train-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function data(): TrainData {
  // y = x0 - 2 x1 + 0.5 x2 on a fixed grid; 60 rows -> 8 batches of 8 per epoch.
  const xs = Array.from({ length: 60 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), (i % 7) / 7]);
  const ys = xs.map(([a, b, c]) => [a - 2 * b + 0.5 * c]);
  return {
    x: tf.tensor2d(xs),
    y: tf.tensor2d(ys),
    valX: tf.tensor2d(xs.slice(0, 10)),
    valY: tf.tensor2d(ys.slice(0, 10)),
  };
}

const spec = (training: RunSpecInput["training"] = {}) =>
  parseRunSpec({
    dataset: { uri: "x", target: "y" },
    task: "regression",
    model: { layers: [{ units: 8, activation: "tanh" }] },
    training: { optimizer: { name: "adam", learningRate: 0.01 }, epochs: 6, batchSize: 8, seed: 3, ...training },
    output: { uri: dir },
  });

async function fresh(s = spec()) {
  const model = buildModel(s, [3]);
  compileModel(model, s);
  return model;
}

const flat = (m: tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe.each(testBackends())("training loop (%s)", (backend) => {
  beforeAll(() => selectBackend(backend));

  test("stopping mid-epoch and resuming from the checkpoint gives bit-identical weights", async () => {
    for (const optimizer of ["adam", "rmsprop", "sgd"] as const) {
      const s = spec({ optimizer: { name: optimizer, learningRate: 0.01 }, earlyStopping: { patience: 50 } });
      const ref = await fresh(s);
      await train({ spec: s, model: ref, data: data() });

      const store = openStore(path.join(dir, `ckpt-${optimizer}`), { deadlineSeconds: 1, sdkAttempts: 1 });
      const first = await fresh(s);
      // shouldStop is polled after every batch and once more at each epoch end: after the 2nd epoch's
      // line, the 4th poll is the one after batch 3 of epoch 3.
      let epochs = 0;
      let polls = 0;
      const stopped = await train({
        spec: s,
        model: first,
        data: data(),
        log: () => epochs++,
        checkpoint: (state, groups) => saveCheckpoint(store, state, groups),
        shouldStop: () => epochs >= 2 && ++polls >= 4,
      });
      expect(stopped.outcome).toBe("interrupted");
      expect({ epoch: stopped.state.epoch, batch: stopped.state.batch }).toEqual({ epoch: 2, batch: 3 });

      const resume = await loadCheckpoint(store);
      expect(resume?.state).toMatchObject({ epoch: 2, batch: 3 });
      const second = await fresh(s);
      const done = await train({ spec: s, model: second, data: data(), resume });
      expect(done.outcome).toBe("completed");
      expect(done.state.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(flat(second)).toEqual(flat(ref));
    }
  });

  test("early stopping stops after `patience` epochs without improvement and restores the best weights", async () => {
    // No later epoch can improve by minDelta on the first: the best is epoch 1, stop after epoch 3.
    const s = spec({ epochs: 30, earlyStopping: { patience: 2, minDelta: 1e6 } });
    const model = await fresh(s);
    const lines: number[] = [];
    const result = await train({ spec: s, model, data: data(), log: (l) => lines.push(l.val_loss!) });
    expect(result.outcome).toBe("early-stopped");
    expect(result.state.early).toMatchObject({ bestEpoch: 1, wait: 2 });
    expect(lines).toHaveLength(3);
    const d = data();
    const [restored] = model.evaluate(d.valX!, d.valY!) as tf.Scalar[]; // [loss, mae]
    expect(restored.dataSync()[0] / lines[0]).toBeCloseTo(1, 5);
  });

  test("training that diverges (NaN or infinite loss) stops with a DivergenceError naming the epoch, before checkpointing it", async () => {
    const s = spec({ optimizer: { name: "sgd", learningRate: 10 }, epochs: 50, earlyStopping: { patience: 50 } });
    const model = await fresh(s);
    const saved: number[] = [];
    const lines: number[] = [];
    const err = await train({
      spec: s,
      model,
      data: data(),
      log: (l) => lines.push(l.loss),
      checkpoint: async (state) => void saved.push(state.epoch),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect(err.message).toMatch(
      /^training diverged at epoch \d+: (loss|val_loss|mae|val_mae) is (NaN|not finite); lower training\.optimizer\.learningRate/,
    );
    const epoch = Number(/epoch (\d+)/.exec(err.message)![1]);
    expect(lines.every(Number.isFinite)).toBe(true);
    expect(lines).toHaveLength(epoch - 1);
    expect(Math.max(0, ...saved)).toBeLessThan(epoch);
  });

  test("each epoch logs loss, val_loss, metrics, samples/s and ETA", async () => {
    const lines: Record<string, unknown>[] = [];
    await train({ spec: spec({ epochs: 2 }), model: await fresh(), data: data(), log: (l) => lines.push({ ...l }) });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      epoch: 1,
      loss: expect.any(Number),
      val_loss: expect.any(Number),
      metrics: { mae: expect.any(Number), val_mae: expect.any(Number) },
      samplesPerSecond: expect.any(Number),
      msPerStep: expect.any(Number),
      etaSeconds: expect.any(Number),
    });
    expect(lines[1].etaSeconds).toBe(0);
  });
});
