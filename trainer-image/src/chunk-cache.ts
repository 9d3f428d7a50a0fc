/**
 * Encoded chunks kept in memory after their shard was read once (up to a byte budget), so later epochs
 * and the validation/test passes of small and medium data sets neither download nor parse again. A cached
 * shard yields exactly the rows (and record numbers) the producer did, so resume stays exact.
 */
import type { Chunk } from "./chunks";
import type { SplitName } from "./records";
import type { ChunkInput } from "./worker-chunks";

export class ChunkCache {
  private readonly shards = new Map<string, Chunk[]>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  get(part: SplitName, uri: string): Chunk[] | undefined {
    return this.shards.get(`${part} ${uri}`);
  }

  /** Keeps a whole shard's chunks if they fit in what is left of the budget. */
  offer(part: SplitName, uri: string, chunks: Chunk[]): void {
    const size = chunks.reduce((n, c) => n + c.x.byteLength + c.y.byteLength + c.records.byteLength, 0);
    if (this.bytes + size > this.budgetBytes) return;
    this.bytes += size;
    this.shards.set(`${part} ${uri}`, chunks);
  }
}

/** The rows of `chunks` after record `skip`, relabelled as shard `shard` of the current order. */
function fromCache(chunks: Chunk[], shard: number, skip: number, cols: number, yCols: number): Chunk[] {
  const out: Chunk[] = [];
  for (const c of chunks) {
    let i = 0;
    while (i < c.rows && c.records[i] <= skip) i++;
    if (i === c.rows && !c.last) continue;
    out.push(i === 0 ? { ...c, shard } : { x: c.x.subarray(i * cols), y: c.y.subarray(i * yCols), rows: c.rows - i, records: c.records.subarray(i), shard, last: c.last });
  }
  return out;
}

/**
 * Shards `uris` (in this order) from `startShard` after `skip` records: cached shards from memory, the
 * others from one producer started (lazily) with the cached ones skipped; fully read shards are offered
 * to the cache.
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
  const hits = uris.map((u) => cache.get(part, u));
  let s = startShard;
  let replay: Chunk[] = [];
  let producer: ChunkInput | undefined;
  let reading: Chunk[] = [];
  return {
    async next() {
      for (;;) {
        if (replay.length) return replay.shift();
        if (s >= uris.length) return undefined;
        const hit = hits[s];
        if (hit) {
          replay = fromCache(hit, s, s === startShard ? skip : 0, widths.cols, widths.yCols);
          s++;
          continue;
        }
        producer ??= produce(hits.flatMap((h, i) => (h ? [i] : [])));
        const c = await producer.next();
        if (!c) return undefined;
        if (c.shard !== s) throw new Error(`chunk of shard ${c.shard} while reading shard ${s}`);
        // The start shard of a resumed epoch is read from the middle: not a whole shard to keep.
        if (s !== startShard || skip === 0) reading.push(c);
        if (c.last) {
          if (s !== startShard || skip === 0) cache.offer(part, uris[s], reading);
          reading = [];
          s++;
        }
        return c;
      }
    },
    close() {
      producer?.close();
    },
  };
}
