/**
 * What the training loop consumes: columnar float32 batches per epoch, with a position that can be saved
 * mid-epoch and resumed exactly. Two sources: tensors in memory (tests, the benchmark's raw ceiling) and
 * streamed shards (stream.ts, every run).
 */
import type * as tf from "@tensorflow/tfjs";
import { epochOrder } from "./rng";

/** Rows per validation batch: the training batch size, at least 1024 (fewer, larger evaluate calls). */
export const validationBatchRows = (batchSize: number) => Math.max(batchSize, 1024);
/** Rows per test batch. */
export const TEST_BATCH_ROWS = 1024;

export interface Batch {
  /** rows x cols, row-major. */
  readonly x: Float32Array;
  /** rows x yCols. */
  readonly y: Float32Array;
  readonly rows: number;
}

/** An epoch stream's position after some batches: numbers for the manifest, arrays for the .bin. */
export interface StreamState {
  readonly position: Record<string, number>;
  readonly arrays: Record<string, Float32Array>;
}

export interface EpochStream {
  /** The next batch, or undefined at the end of the epoch. */
  next(): Promise<Batch | undefined>;
  /** The position after the batches returned so far. */
  state(): StreamState;
  close(): void;
}

/** Where an epoch resumes: after `batch` batches, at `state` when the source saved one. */
export interface EpochStart {
  readonly batch: number;
  readonly state?: StreamState;
}

export interface BatchSource {
  readonly cols: number;
  readonly yCols: number;
  /** Training rows per epoch. */
  readonly trainRows: number;
  /** Validation rows (0: no validation). */
  readonly validationRows: number;
  epoch(epoch: number, batchSize: number, start: EpochStart): EpochStream;
  /** The validation rows in a fixed order, in batches of at most `batchSize`. */
  validation(batchSize: number): AsyncIterable<Batch>;
}

export interface TrainData {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  valX?: tf.Tensor2D;
  valY?: tf.Tensor2D;
}

function gatherRows(
  from: Float32Array,
  cols: number,
  rows: ArrayLike<number>,
  start: number,
  end: number,
): Float32Array {
  const out = new Float32Array((end - start) * cols);
  for (let r = start; r < end; r++) {
    const src = rows[r] * cols;
    const dst = (r - start) * cols;
    for (let c = 0; c < cols; c++) out[dst + c] = from[src + c];
  }
  return out;
}

/** In-memory tensors; epoch e visits rows in epochOrder(n, seed, e), batch by batch (built from typed arrays). */
export function memorySource(data: TrainData, seed: number): BatchSource {
  const x = data.x.dataSync() as Float32Array;
  const y = data.y.dataSync() as Float32Array;
  const [n, cols] = data.x.shape;
  const yCols = data.y.shape[1];
  const valX = data.valX?.dataSync() as Float32Array | undefined;
  const valY = data.valY?.dataSync() as Float32Array | undefined;
  const validationRows = data.valX?.shape[0] ?? 0;
  return {
    cols,
    yCols,
    trainRows: n,
    validationRows,
    epoch(epoch, batchSize, start) {
      const order = epochOrder(n, seed, epoch);
      let b = start.batch;
      return {
        async next() {
          const from = b * batchSize;
          if (from >= n) return undefined;
          const to = Math.min(n, from + batchSize);
          b++;
          return { x: gatherRows(x, cols, order, from, to), y: gatherRows(y, yCols, order, from, to), rows: to - from };
        },
        state: () => ({ position: { batch: b }, arrays: {} }),
        close: () => undefined,
      };
    },
    async *validation(batchSize) {
      if (!valX || !valY) return;
      for (let from = 0; from < validationRows; from += batchSize) {
        const to = Math.min(validationRows, from + batchSize);
        yield { x: valX.slice(from * cols, to * cols), y: valY.slice(from * yCols, to * yCols), rows: to - from };
      }
    },
  };
}
