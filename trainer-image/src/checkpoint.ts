/**
 * Checkpoints: model weights, optimizer state (optimizer.getWeights() plus Adam's running beta powers),
 * early-stopping state and position (epoch, batch, and mid-epoch the stream's shard/record/RNG and shuffle buffer). Layout under <run>/checkpoints/:
 *   ckpt-<epoch>-<batch>.bin   tensor bytes, written first
 *   latest.json                manifest naming the .bin, written second (the commit point)
 * A crash between the two writes leaves the previous checkpoint intact.
 */
import * as tf from "@tensorflow/tfjs";
import type { Store } from "./storage";

export interface EpochLog {
  epoch: number;
  loss: number;
  val_loss?: number;
  metrics: Record<string, number>;
  samplesPerSecond: number;
  msPerStep: number;
  etaSeconds: number;
}

export interface TrainState {
  /** Epochs fully completed. */
  epoch: number;
  /** Batches completed in epoch `epoch` (non-zero only after a mid-epoch stop). */
  batch: number;
  /** After a mid-epoch stop: where the epoch's stream stands (shard, record, RNG; the buffer is in the .bin). */
  stream?: Record<string, number>;
  /** After a mid-epoch stop: rows trained and per-metric sums so far in the epoch (its line stays exact). */
  partial?: { rows: number; sums: number[] };
  history: EpochLog[];
  early: { best: number; wait: number; bestEpoch: number } | null;
  /** Training seconds summed over attempts. */
  trainSeconds: number;
  samplesSeen: number;
}

interface TensorEntry {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  offset: number;
  bytes: number;
}

interface Manifest {
  format: "kiln-checkpoint/1";
  dataFile: string;
  state: TrainState;
  groups: Record<string, TensorEntry[]>;
  savedAt: string;
}

/** Tensors of one checkpoint, by group: weights, optimizer, optimizerExtra, best. */
export type TensorGroups = Record<string, { name: string; tensor: tf.Tensor }[]>;

// Adam/Adamax keep running powers of beta1/beta2 outside getWeights(); setWeights recomputes them with
// pow(), which differs in the last bits from the running product. Saving them keeps resume exact.
const OPTIMIZER_EXTRA = ["accBeta1", "accBeta2"];

export function optimizerExtra(optimizer: tf.Optimizer): { name: string; tensor: tf.Tensor }[] {
  const o = optimizer as unknown as Record<string, unknown>;
  return OPTIMIZER_EXTRA.filter((k) => o[k] instanceof tf.Variable).map((k) => ({
    name: k,
    tensor: o[k] as tf.Variable,
  }));
}

export function restoreOptimizerExtra(optimizer: tf.Optimizer, saved: { name: string; tensor: tf.Tensor }[]): void {
  const o = optimizer as unknown as Record<string, unknown>;
  for (const { name, tensor } of saved) {
    if (OPTIMIZER_EXTRA.includes(name) && o[name] instanceof tf.Variable) (o[name] as tf.Variable).assign(tensor);
  }
}

export async function saveCheckpoint(store: Store, state: TrainState, groups: TensorGroups): Promise<void> {
  const chunks: Buffer[] = [];
  let offset = 0;
  const manifestGroups: Record<string, TensorEntry[]> = {};
  for (const [group, tensors] of Object.entries(groups)) {
    manifestGroups[group] = [];
    for (const { name, tensor } of tensors) {
      const dtype = tensor.dtype === "int32" ? "int32" : "float32";
      const data = await tensor.data();
      const typed = dtype === "int32" ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array);
      const buf = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
      chunks.push(buf);
      manifestGroups[group].push({ name, shape: tensor.shape, dtype, offset, bytes: buf.length });
      offset += buf.length;
    }
  }
  const previous = await readManifest(store);
  const dataFile = `ckpt-${String(state.epoch).padStart(6, "0")}-${String(state.batch).padStart(6, "0")}-${Date.now()}.bin`;
  await store.put(`checkpoints/${dataFile}`, Buffer.concat(chunks));
  const manifest: Manifest = {
    format: "kiln-checkpoint/1",
    dataFile,
    state,
    groups: manifestGroups,
    savedAt: new Date().toISOString(),
  };
  await store.put("checkpoints/latest.json", JSON.stringify(manifest, null, 1), "application/json");
  if (previous && previous.dataFile !== dataFile)
    await store.delete(`checkpoints/${previous.dataFile}`).catch(() => undefined);
}

async function readManifest(store: Store): Promise<Manifest | undefined> {
  const text = await store.get("checkpoints/latest.json");
  if (!text) return undefined;
  const manifest = JSON.parse(text.toString("utf8")) as Manifest;
  if (manifest.format !== "kiln-checkpoint/1")
    throw new Error(`unknown checkpoint format "${manifest.format}" in ${store.describe("checkpoints/latest.json")}`);
  return manifest;
}

/** Loads the latest checkpoint; the caller owns (and disposes) the returned tensors. */
export async function loadCheckpoint(store: Store): Promise<{ state: TrainState; groups: TensorGroups } | undefined> {
  const manifest = await readManifest(store);
  if (!manifest) return undefined;
  const data = await store.get(`checkpoints/${manifest.dataFile}`);
  if (!data)
    throw new Error(
      `checkpoint manifest names ${manifest.dataFile}, which is missing from ${store.describe("checkpoints/")}`,
    );
  const groups: TensorGroups = {};
  for (const [group, entries] of Object.entries(manifest.groups)) {
    groups[group] = entries.map((e) => {
      const bytes = data.subarray(e.offset, e.offset + e.bytes);
      const copy = new Uint8Array(bytes).buffer; // aligned copy
      const values = e.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy);
      return { name: e.name, tensor: tf.tensor(values, e.shape, e.dtype) };
    });
  }
  return { state: manifest.state, groups };
}
