/**
 * Encoded chunks kept after their shard was read once, so later epochs and the validation/test passes
 * neither download nor parse again: in memory up to a byte budget, then (when the spec asks for it) as
 * binary files on local disk, the pod's emptyDir. A cached shard yields exactly the rows (and record
 * numbers) the producer did, so resume stays exact.
 */
import type { Chunk } from "./chunks";
import type { DiskTier, DiskShardWriter } from "./disk-cache";
import type { SplitName } from "./records";
import type { ChunkInput } from "./worker-chunks";

export const chunkBytes = (c: Chunk) => c.x.byteLength + c.y.byteLength + c.records.byteLength;

export class ChunkCache {
  private readonly memory = new Map<string, Chunk[]>();
  private memoryBytes = 0;

  constructor(
    private readonly memoryBudget: number,
    private readonly disk?: DiskTier,
  ) {}

  has(part: SplitName, uri: string): boolean {
    const key = `${part} ${uri}`;
    return this.memory.has(key) || (this.disk?.has(key) ?? false);
  }

  /** The cached chunks of a shard, in the order they were produced. */
  read(part: SplitName, uri: string): AsyncIterator<Chunk> {
    const key = `${part} ${uri}`;
    const chunks = this.memory.get(key);
    if (chunks)
      return (async function* () {
        yield* chunks;
      })();
    if (!this.disk) throw new Error(`shard ${uri} (${part}) is not cached`);
    return this.disk.read(key);
  }

  /** Collects a shard as it is read: in memory while the budget has room, then on disk, else nowhere. */
  writer(part: SplitName, uri: string): ShardWriter {
    return new ShardWriter(this, `${part} ${uri}`);
  }

  /** @internal Reserves memory for a chunk being collected; false when the budget has no room. */
  reserve(bytes: number): boolean {
    if (this.memoryBytes + bytes > this.memoryBudget) return false;
    this.memoryBytes += bytes;
    return true;
  }

  /** @internal */
  release(bytes: number): void {
    this.memoryBytes -= bytes;
  }

  /** @internal */
  keep(key: string, chunks: Chunk[]): void {
    this.memory.set(key, chunks);
  }

  /** @internal */
  diskWriter(key: string): DiskShardWriter | undefined {
    return this.disk?.begin(key);
  }

  /** Removes the disk tier's files. */
  dispose(): void {
    this.disk?.dispose();
  }
}

export class ShardWriter {
  private chunks: Chunk[] | undefined = [];
  private reserved = 0;
  private file: DiskShardWriter | undefined;
  private done = false;

  constructor(
    private readonly cache: ChunkCache,
    private readonly key: string,
  ) {}

  add(c: Chunk): void {
    if (this.done) return;
    if (this.chunks) {
      const bytes = chunkBytes(c);
      if (this.cache.reserve(bytes)) {
        this.reserved += bytes;
        this.chunks.push(c);
        return;
      }
      // Past the memory budget: what was collected moves to disk (if there is a disk tier).
      const collected = this.chunks;
      this.chunks = undefined;
      this.cache.release(this.reserved);
      this.reserved = 0;
      this.file = this.cache.diskWriter(this.key);
      for (const old of collected) this.write(old);
    }
    this.write(c);
  }

  private write(c: Chunk): void {
    if (this.file && !this.file.write(c)) this.file = undefined;
    if (!this.file) this.done = true;
  }

  /** The shard was read to its end: keep what was collected. */
  finish(): void {
    if (this.chunks) this.cache.keep(this.key, this.chunks);
    else this.file?.commit();
    this.done = true;
  }

  /** The shard was not read to its end: keep nothing. */
  abandon(): void {
    if (this.done) return;
    this.cache.release(this.reserved);
    this.file?.abort();
    this.done = true;
  }
}

/** The rows of `c` after record `skip`, relabelled as shard `shard`; undefined when none is left (and it is not the end). */
function trimmed(c: Chunk, shard: number, skip: number, cols: number, yCols: number): Chunk | undefined {
  let i = 0;
  while (i < c.rows && c.records[i] <= skip) i++;
  if (i === c.rows && !c.last) return undefined;
  return i === 0
    ? { ...c, shard }
    : {
        x: c.x.subarray(i * cols),
        y: c.y.subarray(i * yCols),
        rows: c.rows - i,
        records: c.records.subarray(i),
        shard,
        last: c.last,
      };
}

/**
 * Shards `uris` (in this order) from `startShard` after `skip` records: cached shards from the cache, the
 * others from one producer started (lazily) with the cached ones skipped; shards read whole from the
 * producer are collected into the cache.
 */
export function cachedChunks(
  cache: ChunkCache,
  part: SplitName,
  uris: string[],
  widths: { cols: number; yCols: number },
  start: { shard: number; skip: number },
  produce: (skipShards: number[]) => ChunkInput,
): ChunkInput {
  const { shard: startShard, skip } = start;
  const cached = uris.map((u) => cache.has(part, u));
  let s = startShard;
  let replay: AsyncIterator<Chunk> | undefined;
  let producer: ChunkInput | undefined;
  let writer: ShardWriter | undefined;
  const side = new Map<SplitName, ShardWriter>();
  return {
    async next() {
      for (;;) {
        if (replay) {
          const r = await replay.next();
          if (r.done) {
            replay = undefined;
            s++;
            continue;
          }
          const c = trimmed(r.value, s, s === startShard ? skip : 0, widths.cols, widths.yCols);
          if (c) return c;
          continue;
        }
        if (s >= uris.length) {
          // Every shard is done: stop the producer now (a parse worker would otherwise wait for acks).
          producer?.close();
          return undefined;
        }
        if (cached[s]) {
          replay = cache.read(part, uris[s]);
          continue;
        }
        producer ??= produce(cached.flatMap((h, i) => (h ? [i] : [])));
        const c = await producer.next();
        if (!c) return undefined;
        if (c.part !== undefined && c.part !== part) {
          // Another split's rows from the same read: into the cache (whole shards only), not to the consumer.
          const uri = uris[c.shard];
          let w = side.get(c.part);
          if (!w && (c.shard !== startShard || skip === 0) && !cache.has(c.part, uri)) {
            w = cache.writer(c.part, uri);
            side.set(c.part, w);
          }
          w?.add(c);
          if (w && c.last) {
            w.finish();
            side.delete(c.part);
          }
          continue;
        }
        if (c.shard !== s) throw new Error(`chunk of shard ${c.shard} while reading shard ${s}`);
        // The start shard of a resumed epoch is read from the middle: not a whole shard to keep.
        if (s !== startShard || skip === 0) {
          writer ??= cache.writer(part, uris[s]);
          writer.add(c);
        }
        if (c.last) {
          writer?.finish();
          writer = undefined;
          s++;
        }
        return c;
      }
    },
    close() {
      producer?.close();
      writer?.abandon();
      side.forEach((w) => w.abandon());
      void replay?.return?.();
    },
  };
}
