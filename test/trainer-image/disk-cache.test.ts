import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ChunkCache } from "../../trainer-image/src/chunk-cache";
import { endOfShard, type Chunk } from "../../trainer-image/src/chunks";
import { DiskTier, quantityBytes, removeStaleCaches } from "../../trainer-image/src/disk-cache";

let dir: string;
beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), "kiln-disk-cache-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A chunk of `rows` rows, 3 inputs and 1 target, numbered from `first`. */
function chunk(rows: number, first: number): Chunk {
  const x = Float32Array.from({ length: rows * 3 }, (_, i) => first * 3 + i + 0.25);
  const y = Float32Array.from({ length: rows }, (_, i) => -(first + i));
  return { x, y, rows, records: Int32Array.from({ length: rows }, (_, i) => first + i + 1), shard: 0, last: false };
}

async function all(it: AsyncIterator<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

const plain = (c: Chunk) => ({ rows: c.rows, last: c.last, x: Array.from(c.x), y: Array.from(c.y), records: Array.from(c.records) });

describe("the disk tier of the chunk cache", () => {
  test("a shard past the memory budget is written to disk and replayed chunk for chunk, rows, targets and record numbers", async () => {
    const disk = new DiskTier({ base: path.join(dir, "a"), budgetBytes: 2 ** 20, cols: 3, yCols: 1 });
    const cache = new ChunkCache(100, disk);
    const chunks = [chunk(5, 0), chunk(5, 5), chunk(2, 10), endOfShard(0)];
    const w = cache.writer("train", "s3://b/part-0.csv");
    for (const c of chunks) w.add(c);
    w.finish();
    expect(cache.has("train", "s3://b/part-0.csv")).toBe(true);
    expect(cache.has("validation", "s3://b/part-0.csv")).toBe(false);
    expect((await all(cache.read("train", "s3://b/part-0.csv"))).map(plain)).toEqual(chunks.map(plain));
    const runDir = readdirSync(path.join(dir, "a"));
    expect(runDir).toHaveLength(1);
    cache.dispose();
    expect(readdirSync(path.join(dir, "a"))).toEqual([]);
  });

  test("a shard that fits in memory stays there; one abandoned mid-read is kept nowhere", async () => {
    const disk = new DiskTier({ base: path.join(dir, "b"), budgetBytes: 2 ** 20, cols: 3, yCols: 1 });
    const cache = new ChunkCache(2 ** 20, disk);
    const w = cache.writer("test", "a.csv");
    w.add(chunk(4, 0));
    w.add(endOfShard(0));
    w.finish();
    const partial = cache.writer("test", "b.csv");
    partial.add(chunk(4, 0));
    partial.abandon();
    expect(cache.has("test", "a.csv")).toBe(true);
    expect(cache.has("test", "b.csv")).toBe(false);
    const run = readdirSync(path.join(dir, "b"))[0];
    expect(readdirSync(path.join(dir, "b", run))).toEqual([]);
    cache.dispose();
  });

  test("past the disk budget a shard is not cached, its partial file is removed, and the reason is given once", async () => {
    const reasons: string[] = [];
    // 16 header bytes + one 5-row chunk (8 + 5 x 5 x 4 = 108 bytes) fit, not two.
    const disk = new DiskTier({ base: path.join(dir, "c"), budgetBytes: 200, cols: 3, yCols: 1, onSkip: (r) => reasons.push(r) });
    const cache = new ChunkCache(0, disk);
    for (const uri of ["p0", "p1"]) {
      const w = cache.writer("train", uri);
      w.add(chunk(5, 0));
      w.add(chunk(5, 5));
      w.add(endOfShard(0));
      w.finish();
    }
    expect(cache.has("train", "p0")).toBe(false);
    expect(reasons).toEqual(["the disk cache is full"]);
    const run = readdirSync(path.join(dir, "c"))[0];
    expect(readdirSync(path.join(dir, "c", run))).toEqual([]);
    // The budget freed by the dropped shard is available again: a small shard fits.
    const w = cache.writer("train", "small");
    w.add(chunk(2, 0));
    w.add(endOfShard(0));
    w.finish();
    expect(cache.has("train", "small")).toBe(true);
    cache.dispose();
  });

  test("directories an earlier container left are removed; sizes are read as Kubernetes quantities", () => {
    const base = path.join(dir, "d");
    mkdirSync(path.join(base, "run-1-abcd"), { recursive: true });
    writeFileSync(path.join(base, "run-1-abcd", "x.chunks"), "x");
    writeFileSync(path.join(base, "keep.txt"), "x");
    removeStaleCaches(base);
    expect(readdirSync(base)).toEqual(["keep.txt"]);
    removeStaleCaches(path.join(dir, "missing"));
    expect(existsSync(path.join(dir, "missing"))).toBe(false);
    expect(quantityBytes("64Gi")).toBe(64 * 2 ** 30);
    expect(quantityBytes("500M")).toBe(5e8);
    expect(quantityBytes("1024")).toBe(1024);
    expect(quantityBytes("1.5Gi")).toBe(1.5 * 2 ** 30);
    expect(quantityBytes("lots")).toBeUndefined();
    expect(quantityBytes("64 GB")).toBeUndefined();
  });
});
