import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ChunkCache } from "../../trainer-image/src/chunk-cache";
import { endOfShard, type Chunk } from "../../trainer-image/src/chunks";
import { DiskTier, removeStaleCaches } from "../../trainer-image/src/disk-cache";
import { runTraining } from "../../trainer-image/src/run";
import { parseRunSpec, type RunSpec } from "../../trainer-image/src/spec";

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

const plain = (c: Chunk) => ({
  rows: c.rows,
  last: c.last,
  x: Array.from(c.x),
  y: Array.from(c.y),
  records: Array.from(c.records),
});

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
    const disk = new DiskTier({
      base: path.join(dir, "c"),
      budgetBytes: 200,
      cols: 3,
      yCols: 1,
      onSkip: (r) => reasons.push(r),
    });
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

  test("directories an earlier container left are removed", () => {
    const base = path.join(dir, "d");
    mkdirSync(path.join(base, "run-1-abcd"), { recursive: true });
    writeFileSync(path.join(base, "run-1-abcd", "x.chunks"), "x");
    writeFileSync(path.join(base, "keep.txt"), "x");
    removeStaleCaches(base);
    expect(readdirSync(base)).toEqual(["keep.txt"]);
    removeStaleCaches(path.join(dir, "missing"));
    expect(existsSync(path.join(dir, "missing"))).toBe(false);
  });
});

describe("a run with dataset.diskCacheGiB", () => {
  const csv = ["a,b,y", ...Array.from({ length: 200 }, (_, i) => `${i % 7},${(i * 13) % 11},${i % 5}`)].join("\n");
  const spec = (runId: string, diskCacheGiB: number) =>
    parseRunSpec({
      runId,
      dataset: { uri: path.join(dir, "runs-data.csv"), target: "y", memoryCacheMiB: 0, diskCacheGiB },
      task: "regression",
      training: { epochs: 3, batchSize: 16 },
      output: { uri: path.join(dir, "runs") },
    }) as RunSpec & { runId: string };
  beforeAll(() => writeFileSync(path.join(dir, "runs-data.csv"), csv));

  test("stays within three quarters of the scratch volume's limit, says so, and leaves no cache behind", async () => {
    const lines: Record<string, unknown>[] = [];
    const base = path.join(dir, "scratch");
    const result = await runTraining(spec("cached", 8), {
      env: { KILN_BACKEND: "cpu", KILN_CACHE_DIR: base, KILN_CACHE_LIMIT: "4Gi" },
      log: (l) => lines.push(l),
    });
    expect(result.status).toBe("succeeded");
    expect(lines).toContainEqual({
      event: "warning",
      message: "dataset.diskCacheGiB 8 is more than the scratch volume allows (4Gi): caching at most 3.0 GiB",
    });
    expect(readdirSync(base)).toEqual([]);
  });

  test("a scratch limit that is not a size is refused, naming it", async () => {
    await expect(
      runTraining(spec("bad-limit", 1), {
        env: { KILN_BACKEND: "cpu", KILN_CACHE_DIR: path.join(dir, "scratch2"), KILN_CACHE_LIMIT: "lots" },
        log: () => undefined,
      }),
    ).rejects.toThrow('KILN_CACHE_LIMIT="lots" is not a size (e.g. 64Gi)');
  });
});
