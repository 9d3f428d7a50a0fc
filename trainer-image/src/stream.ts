/**
 * Pass 2: the shards streamed every epoch into float32 batches. Records of one split are encoded into
 * chunks (read ahead while the model trains), rows go through a seeded shuffle buffer, batches come out.
 * The epoch's position (shard, record, RNG state, buffer contents) is saved with a mid-epoch checkpoint,
 * so the resumed epoch yields exactly the batches the uninterrupted one would have.
 */
import {
  TEST_BATCH_ROWS,
  validationBatchRows,
  type Batch,
  type BatchSource,
  type EpochStart,
  type EpochStream,
  type StreamState,
} from "./batches";
import { cachedChunks, ChunkCache } from "./chunk-cache";
import { encodedChunks, type Chunk, type ChunkJob } from "./chunks";
import { DiskTier } from "./disk-cache";
import { RowEncoder } from "./encoder";
import type { Preprocess } from "./preprocess";
import type { SplitName } from "./records";
import { mixSeed, Rng } from "./rng";
import { shardOrder, type Shard } from "./shards";
import type { RunSpec } from "./spec";
import type { RetryOptions } from "./storage";
import { workerChunks, type ChunkInput } from "./worker-chunks";

export interface StreamOptions {
  /** Rows in the shuffle buffer. */
  readonly bufferRows: number;
  /** Rows per encoded chunk. */
  readonly chunkRows: number;
  /** Chunks read ahead of the shuffle buffer. */
  readonly prefetch: number;
  /** Encoded rows kept in memory after their first read (0: none). */
  readonly memoryCacheBytes: number;
  /** Encoded rows past the memory cache written to local disk on their first read. */
  readonly diskCache?: {
    readonly dir: string;
    readonly budgetBytes: number;
    readonly onSkip?: (reason: string) => void;
  };
  /** Test rows (with train and validation rows they size what caching every split would take). */
  readonly testRows?: number;
  /** Parse in a worker thread (overlapping training), or in the main thread between steps. */
  readonly worker: boolean;
  readonly retry: RetryOptions;
  readonly env: NodeJS.ProcessEnv;
}

/** Runs an async generator up to `depth` items ahead of its consumer (reading overlaps training). */
export class ReadAhead<T> implements ChunkInput<T> {
  private readonly queue: T[] = [];
  private done = false;
  private closed = false;
  private error: unknown;
  private wake: (() => void) | undefined;
  private room: (() => void) | undefined;

  constructor(
    source: AsyncGenerator<T>,
    private readonly depth: number,
  ) {
    void this.pump(source);
  }

  private async pump(source: AsyncGenerator<T>): Promise<void> {
    try {
      for await (const item of source) {
        if (this.closed) break;
        this.queue.push(item);
        this.wake?.();
        while (this.queue.length >= this.depth && !this.closed) await new Promise<void>((r) => (this.room = r));
        if (this.closed) break;
      }
    } catch (err) {
      this.error = err;
    } finally {
      this.done = true;
      this.wake?.();
    }
  }

  async next(): Promise<T | undefined> {
    while (this.queue.length === 0 && !this.done) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    if (this.queue.length > 0) {
      const item = this.queue.shift()!;
      this.room?.();
      this.room = undefined;
      return item;
    }
    if (this.error !== undefined) throw this.error;
    return undefined;
  }

  close(): void {
    this.closed = true;
    this.room?.();
  }
}

/** One epoch: chunks -> seeded shuffle buffer -> batches. */
class ShuffledEpoch implements EpochStream {
  private readonly bufX: Float32Array;
  private readonly bufY: Float32Array;
  private size = 0;
  private readonly rng: Rng;
  private readonly input: ChunkInput;
  private chunk: Chunk | undefined;
  private at = 0;
  /** The next record to read: shard index in the epoch's order, records of it already consumed. */
  private shard: number;
  private record: number;
  private ended = false;

  constructor(
    open: (shard: number, skip: number) => ChunkInput,
    private readonly cols: number,
    private readonly yCols: number,
    private readonly capacity: number,
    private readonly batchSize: number,
    seed: number,
    saved?: StreamState,
  ) {
    this.bufX = new Float32Array(capacity * cols);
    this.bufY = new Float32Array(capacity * yCols);
    const p = saved?.position;
    this.shard = p?.shard ?? 0;
    this.record = p?.record ?? 0;
    this.rng = new Rng(p ? p.rng : seed);
    if (saved && p) {
      this.size = p.size;
      this.bufX.set(saved.arrays.x.subarray(0, this.size * cols));
      this.bufY.set(saved.arrays.y.subarray(0, this.size * yCols));
    }
    this.input = open(this.shard, this.record);
  }

  /** Tops the buffer up to capacity from the input (block copies). */
  private async fill(): Promise<void> {
    while (this.size < this.capacity && !this.ended) {
      if (!this.chunk || this.at >= this.chunk.rows) {
        this.chunk = await this.input.next();
        this.at = 0;
        if (!this.chunk) {
          this.ended = true;
          return;
        }
      }
      const c = this.chunk;
      const k = Math.min(this.capacity - this.size, c.rows - this.at);
      this.bufX.set(c.x.subarray(this.at * this.cols, (this.at + k) * this.cols), this.size * this.cols);
      this.bufY.set(c.y.subarray(this.at * this.yCols, (this.at + k) * this.yCols), this.size * this.yCols);
      this.size += k;
      this.at += k;
      if (this.at === c.rows && c.last) {
        this.shard = c.shard + 1;
        this.record = 0;
      } else {
        this.shard = c.shard;
        this.record = c.records[this.at - 1];
      }
    }
  }

  async next(): Promise<Batch | undefined> {
    const want = this.batchSize;
    const { cols, yCols } = this;
    const x = new Float32Array(want * cols);
    const y = new Float32Array(want * yCols);
    let n = 0;
    while (n < want) {
      if (this.size < this.capacity && !this.ended) await this.fill();
      if (this.size === 0) break;
      // Emit a uniformly chosen buffered row; the last buffered row takes its slot.
      const j = Math.floor(this.rng.next() * this.size);
      const last = --this.size;
      for (let c = 0; c < cols; c++) x[n * cols + c] = this.bufX[j * cols + c];
      for (let c = 0; c < yCols; c++) y[n * yCols + c] = this.bufY[j * yCols + c];
      if (j !== last) {
        this.bufX.copyWithin(j * cols, last * cols, (last + 1) * cols);
        this.bufY.copyWithin(j * yCols, last * yCols, (last + 1) * yCols);
      }
      n++;
    }
    if (n === 0) return undefined;
    return n === want ? { x, y, rows: n } : { x: x.subarray(0, n * cols), y: y.subarray(0, n * yCols), rows: n };
  }

  state(): StreamState {
    return {
      position: { shard: this.shard, record: this.record, rng: this.rng.get(), size: this.size },
      arrays: { x: this.bufX.slice(0, this.size * this.cols), y: this.bufY.slice(0, this.size * this.yCols) },
    };
  }

  close(): void {
    this.input.close();
  }
}

/** The shards of a run as a BatchSource (train rows shuffled per epoch; validation and test in order). */
export class ShardSource implements BatchSource {
  readonly cols: number;
  readonly yCols: number;
  private readonly cache: ChunkCache;

  constructor(
    private readonly spec: RunSpec,
    private readonly shards: Shard[],
    private readonly columns: string[],
    private readonly pre: Preprocess,
    readonly trainRows: number,
    readonly validationRows: number,
    private readonly options: StreamOptions,
  ) {
    const encoder = new RowEncoder(pre, columns);
    this.cols = encoder.cols;
    this.yCols = encoder.yCols;
    const { diskCache } = options;
    const disk =
      diskCache && diskCache.budgetBytes > 0
        ? new DiskTier({
            base: diskCache.dir,
            budgetBytes: diskCache.budgetBytes,
            cols: this.cols,
            yCols: this.yCols,
            onSkip: diskCache.onSkip,
          })
        : undefined;
    this.cache = new ChunkCache(options.memoryCacheBytes, disk);
  }

  /** Removes the disk cache's files. */
  dispose(): void {
    this.cache.dispose();
  }

  /**
   * The splits the training pass also encodes for the cache, so the validation and test passes parse nothing:
   * those whose rows fit in the cache's budget after the training rows (validation first, needed every epoch).
   */
  private sideParts(batchSize: number): ChunkJob["side"] {
    const { memoryCacheBytes, diskCache, testRows = 0 } = this.options;
    let room = memoryCacheBytes + (diskCache?.budgetBytes ?? 0) - this.trainRows * this.rowBytes;
    const side: { part: SplitName; chunkRows: number }[] = [];
    for (const [part, rows, chunkRows] of [
      ["validation", this.validationRows, validationBatchRows(batchSize)],
      ["test", testRows, TEST_BATCH_ROWS],
    ] as const) {
      if (rows === 0 || rows * this.rowBytes > room) continue;
      room -= rows * this.rowBytes;
      side.push({ part, chunkRows });
    }
    return side;
  }

  /** Encoded bytes of one row in the cache (x, y and its record number). */
  private get rowBytes(): number {
    return (this.cols + this.yCols + 1) * 4;
  }

  /** Chunks of `part` from `shards` (in this order), from shard `startShard` after `skip` records. */
  private chunks(
    shards: Shard[],
    part: SplitName,
    chunkRows: number,
    startShard: number,
    skip: number,
    worker = false,
    side?: ChunkJob["side"],
  ): ChunkInput {
    const { retry, env, prefetch } = this.options;
    const uris = shards.map((s) => s.uri);
    const produce = (skipShards: number[]) => {
      const job: ChunkJob = {
        shards: uris,
        columns: this.columns,
        pre: this.pre,
        split: this.spec.split,
        part,
        chunkRows,
        startShard,
        skip,
        skipShards,
        side,
        retry,
        env: { ...env },
      };
      return worker ? workerChunks(job, prefetch) : new ReadAhead(encodedChunks(job, shards), prefetch);
    };
    return cachedChunks(this.cache, part, uris, this, { shard: startShard, skip }, produce);
  }

  epoch(epoch: number, batchSize: number, start: EpochStart): EpochStream {
    const { seed } = this.spec.training;
    const order = Array.from(shardOrder(this.shards.length, seed, epoch), (i) => this.shards[i]);
    // Only training overlaps the parsing; validation and test passes parse while the model waits.
    const side = this.sideParts(batchSize);
    const open = (shard: number, skip: number) =>
      this.chunks(order, "train", this.options.chunkRows, shard, skip, this.options.worker, side);
    const stream = new ShuffledEpoch(
      open,
      this.cols,
      this.yCols,
      this.options.bufferRows,
      batchSize,
      mixSeed(seed, epoch + 1),
      start.state,
    );
    return start.batch > 0 && !start.state ? replayed(stream, start.batch) : stream;
  }

  validation(batchSize: number): AsyncIterable<Batch> {
    return this.rows("validation", batchSize);
  }

  test(batchSize: number): AsyncIterable<Batch> {
    return this.rows("test", batchSize);
  }

  private async *rows(part: SplitName, batchSize: number): AsyncIterable<Batch> {
    const input = this.chunks(this.shards, part, batchSize, 0, 0);
    try {
      for (let c = await input.next(); c; c = await input.next()) if (c.rows > 0) yield c;
    } finally {
      input.close();
    }
  }
}

/** A checkpoint without a saved position (older format): replay the epoch and drop its first batches. */
function replayed(stream: EpochStream, skip: number): EpochStream {
  let skipped = false;
  return {
    async next() {
      if (!skipped) {
        skipped = true;
        for (let b = 0; b < skip; b++) if (!(await stream.next())) return undefined;
      }
      return stream.next();
    },
    state: () => stream.state(),
    close: () => stream.close(),
  };
}
