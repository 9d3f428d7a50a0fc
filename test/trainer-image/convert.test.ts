/**
 * `kiln-trainer convert`: CSV shards to Parquet shards; the trainer reads the same values back (numbers equal as
 * numbers, text trimmed, missing markers as missing), in row groups of the requested size.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { convertCsvToParquet, parquetName, type ConvertOptions } from "../../trainer-image/src/convert";
import { decimal, isMissing, readCsv } from "../../trainer-image/src/data";
import { openParquet } from "../../trainer-image/src/parquet";
import { shardRecordBatches } from "../../trainer-image/src/records";
import { resolveShards } from "../../trainer-image/src/shards";

const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-convert-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (from: string, to: string, extra: Partial<ConvertOptions> = {}): ConvertOptions => ({
  from,
  to,
  rowGroupRows: 7,
  codec: "snappy",
  env: {},
  log: () => undefined,
  ...extra,
});

/** What the trainer should read back for a CSV cell of a numeric or a text column. */
const expected = (cell: string, numeric: boolean) =>
  isMissing(cell) ? "" : numeric ? String(decimal(cell)) : cell.trim();

const cell = fc.oneof(
  fc.constantFrom("", "NA", "n/a", "?", "null"),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => String(v)),
  fc.integer({ min: -999, max: 999 }).map((v) => `${v}.50`),
  fc.stringMatching(/^[a-z ]{1,6}$/),
);

test("generated CSV shards round-trip: the Parquet shards hold the values the CSV held, per column type", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom("snappy", "gzip", "none"),
      async (rows, rowGroupRows, codec) => {
        const d = path.join(dir, `prop-${run++}`);
        mkdirSync(path.join(d, "in"), { recursive: true });
        const text = `${["a,b,c", ...rows.map((r) => r.map((v) => `"${v}"`).join(","))].join("\n")}\n`;
        const half = Math.ceil(rows.length / 2);
        writeFileSync(
          path.join(d, "in", "part-0.csv"),
          `${["a,b,c", ...text.split("\n").slice(1, half + 1)].join("\n")}\n`,
        );
        writeFileSync(
          path.join(d, "in", "part-1.csv.gz"),
          gzipSync(["a,b,c", ...text.split("\n").slice(half + 1)].join("\n")),
        );
        const out = await convertCsvToParquet(
          options(`${d}/in/`, `${d}/out`, { rowGroupRows, codec: codec as ConvertOptions["codec"] }),
        );
        expect(out.map((o) => path.basename(o.to))).toEqual(["part-0.parquet", "part-1.parquet"]);
        const table = await readCsv(text, "t.csv");
        const numeric = [0, 1, 2].map((c) =>
          table.rows.every((r) => isMissing(r[c]) || Number.isFinite(decimal(r[c]))),
        );
        expect(out[0].types).toEqual(
          Object.fromEntries(["a", "b", "c"].map((c, i) => [c, numeric[i] ? "DOUBLE" : "UTF8"])),
        );
        const got: string[][] = [];
        for (const shard of await resolveShards(`${d}/out/*.parquet`, retry)) {
          const file = await openParquet(shard);
          expect(file.metadata.row_groups.every((g) => Number(g.num_rows) <= rowGroupRows)).toBe(true);
          for await (const b of shardRecordBatches(shard, ["a", "b", "c"])) got.push(...b.map((r) => r.record));
        }
        expect(got).toEqual(table.rows.map((r) => r.map((v, c) => expected(v, numeric[c]))));
      },
    ),
    { numRuns: 25 },
  );
});

test("refusals: Parquet input, a bad row group size, two shards with one name", async () => {
  const d = path.join(dir, "refusals");
  mkdirSync(path.join(d, "x"), { recursive: true });
  mkdirSync(path.join(d, "y"), { recursive: true });
  writeFileSync(path.join(d, "x", "p.csv"), "a\n1\n");
  writeFileSync(path.join(d, "y", "p.csv.gz"), gzipSync("a\n2\n"));
  await expect(convertCsvToParquet(options(`${d}/x/p.csv`, `${d}/out`, { rowGroupRows: 0 }))).rejects.toThrow(
    "--row-group-rows 0: must be a whole number >= 1",
  );
  await expect(convertCsvToParquet(options(`${d}/**/p.csv*`, `${d}/out`))).rejects.toThrow(
    `two shards would both be written as p.parquet`,
  );
  await convertCsvToParquet(options(`${d}/x/p.csv`, `${d}/out`));
  await expect(convertCsvToParquet(options(`${d}/out/p.parquet`, `${d}/again`))).rejects.toThrow(
    `${d}/out/p.parquet is Parquet already`,
  );
  expect(parquetName("s3://b/dir/part-00001.csv.gz")).toBe("part-00001.parquet");
});
