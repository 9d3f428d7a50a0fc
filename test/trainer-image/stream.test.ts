/**
 * The streaming pipeline on real files: shard resolution (object, prefix, glob, gzip), pass 1 statistics
 * against the in-memory fit, pass 2 batches (each training row once per epoch, seeded order) and exact
 * mid-epoch resume of the stream at every batch.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { TEST_BATCH_ROWS, validationBatchRows, type Batch } from "../../trainer-image/src/batches";
import { DataError, parseRows, readCsv } from "../../trainer-image/src/data";
import { fitPreprocess } from "../../trainer-image/src/preprocess";
import { splitOf } from "../../trainer-image/src/records";
import { resolveShards, shardOrder } from "../../trainer-image/src/shards";
import { parseRunSpec, type RunSpecInput } from "../../trainer-image/src/spec";
import { scanDataset } from "../../trainer-image/src/stats";
import { ShardSource } from "../../trainer-image/src/stream";

const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-stream-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = "id,x,colour,y";
const COLOURS = ["red", "green", "blue"];
/** Rows `from`..`to`-1 of a deterministic table; row 7k has no x. */
const rows = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => {
    const r = from + i;
    return `${r},${r % 7 === 0 ? "" : ((r * 37) % 101) / 10},${COLOURS[r % 3]},${(r * 13) % 17}`;
  });

/** Writes the table split into shards under `name/`: part-0.csv, part-1.csv.gz, part-2.csv and a _SUCCESS marker. */
function writeShards(name: string, bounds = [0, 120, 260, 400]): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  for (let s = 0; s < bounds.length - 1; s++) {
    const text = `${[HEADER, ...rows(bounds[s], bounds[s + 1])].join("\n")}\n`;
    if (s === 1) writeFileSync(path.join(d, `part-${s}.csv.gz`), gzipSync(text));
    else writeFileSync(path.join(d, `part-${s}.csv`), text);
  }
  writeFileSync(path.join(d, "_SUCCESS"), "");
  return d;
}

const specFor = (uri: string, extra: Partial<RunSpecInput> = {}) =>
  parseRunSpec({
    dataset: { uri, target: "y", drop: ["id"], categorical: ["colour"] },
    task: "regression",
    preprocess: { missing: "mean", scale: "standard" },
    split: { test: 0.2, validation: 0.1, seed: 5 },
    training: { seed: 9, batchSize: 16 },
    output: { uri: "/tmp/unused" },
    ...extra,
  });

async function dataError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return err!.message;
}

describe("dataset.uri names shards", () => {
  test("a prefix (with or without /) and a glob list the shards in key order, skipping _SUCCESS and hidden files", async () => {
    const d = writeShards("list");
    writeFileSync(path.join(d, ".hidden.csv"), "junk");
    const names = async (uri: string) => (await resolveShards(uri, retry)).map((s) => path.basename(s.uri));
    expect(await names(`${d}/`)).toEqual(["part-0.csv", "part-1.csv.gz", "part-2.csv"]);
    expect(await names(d)).toEqual(["part-0.csv", "part-1.csv.gz", "part-2.csv"]);
    expect(await names(`${d}/part-*.csv`)).toEqual(["part-0.csv", "part-2.csv"]);
    expect(await names(`file:${d}/*.csv*`)).toEqual(["part-0.csv", "part-1.csv.gz", "part-2.csv"]);
    expect(await names(`${d}/part-0.csv`)).toEqual(["part-0.csv"]);
  });

  test("nothing there is an error that says what was looked for", async () => {
    await expect(resolveShards(path.join(dir, "nope.csv"), retry)).rejects.toThrow(
      `${path.join(dir, "nope.csv")} does not exist: no object with that key and no objects under ${path.join(dir, "nope.csv")}/`,
    );
    await expect(resolveShards(path.join(dir, "*.parquet"), retry)).rejects.toThrow(
      `no shard matches ${path.join(dir, "*.parquet")} (looked under ${dir}/)`,
    );
    await expect(resolveShards("gs://b/x.csv", retry)).rejects.toThrow(/unsupported URI scheme in "gs:\/\/b\/x.csv"/);
  });

  test("a gzip shard is decompressed; a corrupt one, or a shard with other columns, is named", async () => {
    const d = writeShards("bad");
    const spec = specFor(`${d}/`);
    const scan = await scanDataset(spec, await resolveShards(`${d}/`, retry));
    expect(scan.rowsRead).toBe(400);
    writeFileSync(path.join(d, "part-1.csv.gz"), "not gzip at all");
    expect(await dataError(resolveShards(`${d}/`, retry).then((s) => scanDataset(spec, s)))).toMatch(
      new RegExp(`^${d}/part-1.csv.gz: not a readable CSV: not valid gzip`),
    );
    writeFileSync(path.join(d, "part-1.csv.gz"), gzipSync("id,x,y,colour\n1,2,3,red\n"));
    expect(await dataError(resolveShards(`${d}/`, retry).then((s) => scanDataset(spec, s)))).toBe(
      `${d}/part-1.csv.gz: its header (id, x, y, colour) differs from the first shard's (id, x, colour, y); every shard needs the same columns in the same order`,
    );
  });

  test("a bad value names the shard, its row and line", async () => {
    const d = writeShards("value");
    writeFileSync(path.join(d, "part-2.csv"), `${HEADER}\n1,2,red,3\n2,oops,red,4\n`);
    expect(await dataError(resolveShards(d, retry).then((s) => scanDataset(specFor(d), s)))).toBe(
      `column "x", row 2 (line 3) of ${d}/part-2.csv: "oops" is not a decimal number; fix the value or list "x" in dataset.categorical`,
    );
  });

  test("each epoch reads the shards in its own seeded order", () => {
    const orders = [0, 1, 2, 3].map((e) => Array.from(shardOrder(8, 3, e)).join(","));
    expect(new Set(orders).size).toBeGreaterThan(1);
    expect(Array.from(shardOrder(8, 3, 2))).toEqual(Array.from(shardOrder(8, 3, 2)));
  });
});

describe("pass 1: statistics while streaming", () => {
  test("the split is a seeded hash of the record: stable, near the asked fractions, different per seed", () => {
    const split = { test: 0.2, validation: 0.1, seed: 5 };
    const all = rows(0, 20000).map((r) => r.split(","));
    const parts = all.map((r) => splitOf(r, split));
    expect(all.map((r) => splitOf([...r], split))).toEqual(parts);
    const share = (p: string) => parts.filter((x) => x === p).length / parts.length;
    expect(share("test")).toBeCloseTo(0.2, 1);
    expect(share("validation")).toBeCloseTo(0.1, 1);
    expect(all.map((r) => splitOf(r, { ...split, seed: 6 }))).not.toEqual(parts);
  });

  test.each(["mean", "median", "drop"] as const)(
    "sharded scan = the in-memory fit on the same training rows (missing: %s)",
    async (missing) => {
      const d = writeShards(`scan-${missing}`);
      const spec = specFor(d, { preprocess: { missing, scale: "standard" } });
      const scan = await scanDataset(spec, await resolveShards(d, retry));
      const table = await readCsv([HEADER, ...rows(0, 400)].join("\n"), "all.csv");
      const parsed = parseRows(spec, table, "all.csv");
      // The rows parseRows kept, in order, and which of them the hash puts in training.
      const kept = table.rows.filter((r) => !(missing === "drop" && r[1] === ""));
      const train = kept
        .map((r, i) => [r, i] as const)
        .filter(([r]) => splitOf(r, spec.split) === "train")
        .map(([, i]) => i);
      const fitted = fitPreprocess(spec, parsed, train);
      expect(scan.pre.inputs).toEqual(fitted.inputs);
      expect(scan.split.train).toBe(train.length);
      expect(scan.rowsRead).toBe(400);
      expect(scan.droppedRows).toBe(missing === "drop" ? 58 : 0);
      scan.pre.features.forEach((f, k) => {
        const g = fitted.features[k];
        if (f.kind === "categorical" || g.kind === "categorical") return expect(f).toEqual(g);
        expect(f.impute ?? 0).toBeCloseTo(g.impute ?? 0, 10);
        expect(f.scale.kind === "standard" && f.scale.mean).toBeCloseTo(
          g.scale.kind === "standard" ? g.scale.mean : NaN,
          10,
        );
        expect(f.scale.kind === "standard" && f.scale.std).toBeCloseTo(
          g.scale.kind === "standard" ? g.scale.std : NaN,
          10,
        );
      });
    },
  );

  test("a categorical column past the cap stops the scan naming the column, the value, the row and the shard", async () => {
    const d = path.join(dir, "ids");
    mkdirSync(d);
    writeFileSync(
      path.join(d, "a.csv"),
      `u,y\n${Array.from({ length: 3000 }, (_, i) => `u${i},${i % 5}`).join("\n")}\n`,
    );
    const spec = parseRunSpec({
      dataset: { uri: d, target: "y", categorical: ["u"] },
      task: "regression",
      output: { uri: "/tmp/unused" },
    });
    expect(await dataError(resolveShards(d, retry).then((s) => scanDataset(spec, s)))).toMatch(
      new RegExp(
        `^column "u" has more than 1000 distinct values in the training split \\(the 1001th, "u\\d+", at row \\d+ of ${d}/a.csv\\); one-hot encoding caps a categorical column at 1000`,
      ),
    );
  });
});

describe.each([
  [false, 0, false],
  [true, 0, false],
  [false, 1 << 20, false],
  // A memory cache too small for one shard, the rest on disk.
  [true, 4096, true],
])(
  "pass 2: batches (parsed in a worker thread: %s, memory cache: %d bytes, disk cache: %s)",
  (worker, memoryCacheBytes, disk) => {
    let d: string;
    async function source(bufferRows: number, chunkRows: number) {
      d = writeShards(`src-${bufferRows}-${chunkRows}-${worker}-${memoryCacheBytes}-${disk}`);
      const spec = specFor(d);
      const shards = await resolveShards(d, retry);
      const scan = await scanDataset(spec, shards);
      const diskCache = disk
        ? { dir: path.join(dir, `cache-${bufferRows}-${chunkRows}`), budgetBytes: 2 ** 30 }
        : undefined;
      return {
        scan,
        src: new ShardSource(spec, shards, scan.columns, scan.pre, scan.split.train, scan.split.validation, {
          bufferRows,
          chunkRows,
          prefetch: 2,
          worker,
          memoryCacheBytes,
          diskCache,
          testRows: scan.split.test,
          retry,
          env: {},
        }),
      };
    }
    const rowsOf = (b: Batch, cols: number) =>
      Array.from({ length: b.rows }, (_, r) => Array.from(b.x.subarray(r * cols, (r + 1) * cols)).join(","));
    async function drain(stream: { next(): Promise<Batch | undefined> }): Promise<Batch[]> {
      const out: Batch[] = [];
      for (let b = await stream.next(); b; b = await stream.next()) out.push(b);
      return out;
    }

    test("the training pass also encodes the validation and test rows: with a cache, no pass reads a shard again", async () => {
      const { scan, src } = await source(50, 7);
      const fresh = new ShardSource(
        specFor(d),
        await resolveShards(d, retry),
        scan.columns,
        scan.pre,
        scan.split.train,
        scan.split.validation,
        { bufferRows: 50, chunkRows: 7, prefetch: 2, worker: false, memoryCacheBytes: 0, retry, env: {} },
      );
      const all = async (rows: AsyncIterable<Batch>) => {
        const out: string[] = [];
        for await (const b of rows) out.push(...rowsOf(b, src.cols));
        return out;
      };
      const [validation, test] = [
        await all(fresh.validation(validationBatchRows(16))),
        await all(fresh.test(TEST_BATCH_ROWS)),
      ];
      expect(validation).toHaveLength(scan.split.validation);
      expect(test).toHaveLength(scan.split.test);
      await drain(src.epoch(0, 16, { batch: 0 }));
      if (memoryCacheBytes || disk) rmSync(d, { recursive: true });
      if (!memoryCacheBytes && !disk) return;
      expect(await all(src.validation(validationBatchRows(16)))).toEqual(validation);
      expect(await all(src.test(TEST_BATCH_ROWS))).toEqual(test);
    });

    test("an epoch yields every training row exactly once, in an order fixed by (seed, epoch)", async () => {
      const { scan, src } = await source(50, 7);
      const epoch0 = await drain(src.epoch(0, 16, { batch: 0 }));
      expect(epoch0.slice(0, -1).every((b) => b.rows === 16)).toBe(true);
      const seen = epoch0.flatMap((b) => rowsOf(b, src.cols));
      expect(seen).toHaveLength(scan.split.train);
      const validation: string[] = [];
      for await (const b of src.validation(32)) validation.push(...rowsOf(b, src.cols));
      expect(validation).toHaveLength(scan.split.validation);
      const again = (await drain(src.epoch(0, 16, { batch: 0 }))).flatMap((b) => rowsOf(b, src.cols));
      expect(again).toEqual(seen);
      // With the memory or disk cache the shards are not read again: the files can go.
      if (memoryCacheBytes || disk) rmSync(d, { recursive: true });
      const epoch1 = (await drain(src.epoch(1, 16, { batch: 0 }))).flatMap((b) => rowsOf(b, src.cols));
      expect(epoch1).not.toEqual(seen);
      expect([...epoch1].sort()).toEqual([...seen].sort());
    });

    test("resuming from the saved state after any batch yields exactly the rest of the epoch", async () => {
      const { src } = await source(40, 5);
      const full = await drain(src.epoch(2, 16, { batch: 0 }));
      // Every batch in the main thread; a few in the worker (each stream starts a worker, slow from sources).
      const ks = worker
        ? [1, full.length >> 1, full.length - 1]
        : Array.from({ length: full.length - 1 }, (_, i) => i + 1);
      for (const k of ks) {
        const first = src.epoch(2, 16, { batch: 0 });
        for (let b = 0; b < k; b++) await first.next();
        const saved = first.state();
        first.close();
        // Through JSON, as the checkpoint manifest stores it.
        const position = JSON.parse(JSON.stringify(saved.position));
        const rest = await drain(src.epoch(2, 16, { batch: k, state: { position, arrays: saved.arrays } }));
        expect(rest.map((b) => Array.from(b.x))).toEqual(full.slice(k).map((b) => Array.from(b.x)));
        expect(rest.map((b) => Array.from(b.y))).toEqual(full.slice(k).map((b) => Array.from(b.y)));
      }
      // A checkpoint without a saved position replays the epoch instead.
      const replayed = await drain(src.epoch(2, 16, { batch: 3 }));
      expect(replayed.map((b) => Array.from(b.x))).toEqual(full.slice(3).map((b) => Array.from(b.x)));
    });
  },
);
