import { Readable } from "node:stream";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DataError, LoadStopped, parseRows, readCsv, streamRows } from "../../trainer-image/src/data";
import { encode, encodeRow, fitPreprocess, splitIndices } from "../../trainer-image/src/preprocess";
import { dataWarnings, runTraining } from "../../trainer-image/src/run";
import { epochOrder, permutation } from "../../trainer-image/src/rng";
import { parseRunSpec, type RunSpec } from "../../trainer-image/src/spec";

const CSV = `name,x,colour,y
a,1,red,10
b,2,blue,20
c,,red,30
d,4,,40
e,5,green,
f,6,blue,60
`;

const specWith = (extra: Record<string, unknown> = {}, dataset: Record<string, unknown> = {}): RunSpec =>
  parseRunSpec({
    dataset: { uri: "mem.csv", target: "y", drop: ["name"], categorical: ["colour"], ...dataset },
    task: "regression",
    output: { uri: "/tmp/unused" },
    ...extra,
  });

async function dataError(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return (err as Error).message;
  }
  throw new Error("no DataError thrown");
}

describe("CSV reading and row parsing", () => {
  test("missing: drop drops and counts rows with a missing target or feature", async () => {
    const rows = parseRows(specWith(), await readCsv(CSV, "mem.csv"), "mem.csv");
    expect(rows.features).toEqual(["x", "colour"]);
    expect(rows.x).toEqual([
      [1, "red"],
      [2, "blue"],
      [6, "blue"],
    ]);
    expect(rows.y).toEqual([10, 20, 60]);
    expect(rows.droppedRows).toBe(3);
    expect(rows.dropReasons).toEqual({ "missing x": 1, "missing colour": 1, "missing target y": 1 });
  });

  test("missing: mean keeps rows with missing features; a missing target is always dropped", async () => {
    const rows = parseRows(specWith({ preprocess: { missing: "mean" } }), await readCsv(CSV, "mem.csv"), "mem.csv");
    expect(rows.x).toHaveLength(5);
    expect(rows.droppedRows).toBe(1);
  });

  test("a non-numeric value names the column, the row and the line", async () => {
    const csv = "x,y\n1,2\n3,4\nabc,5\n";
    const msg = await dataError(async () =>
      parseRows(specWith({}, { drop: [], categorical: [] }), await readCsv(csv, "s3://d/f.csv"), "s3://d/f.csv"),
    );
    expect(msg).toBe(
      'column "x", row 3 (line 4) of s3://d/f.csv: "abc" is not a decimal number; fix the value or list "x" in dataset.categorical',
    );
  });

  test("a missing target column is named with the columns that exist", async () => {
    const msg = await dataError(async () =>
      parseRows(
        specWith({}, { target: "price", drop: [], categorical: [] }),
        await readCsv("a,b\n1,2\n", "f.csv"),
        "f.csv",
      ),
    );
    expect(msg).toBe('dataset.target: column "price" is not in f.csv (columns: a, b)');
  });

  test("a file with no usable rows says why", async () => {
    const msg = await dataError(async () =>
      parseRows(specWith({}, { drop: [], categorical: [] }), await readCsv("x,y\n1,\n,3\n", "f.csv"), "f.csv"),
    );
    expect(msg).toBe("f.csv: no usable rows (2 read, 2 dropped: 1 x missing target y, 1 x missing x)");
    expect(await dataError(readCsv("", "empty.csv"))).toMatch(/empty\.csv: file is empty/);
    expect(await dataError(readCsv("a,b\n1,2,3\n", "ragged.csv"))).toMatch(/ragged\.csv: not a readable CSV/);
  });
});

describe("numbers are decimal data, bounded by float32", () => {
  const plain = specWith({}, { drop: [], categorical: [] });

  test.each(["0x10", "0b1", "0o7", "Infinity", "-Infinity", "1_000", "1e"])("%j is not a number", async (cell) => {
    const msg = await dataError(async () => parseRows(plain, await readCsv(`x,y\n1,2\n${cell},3\n`, "f.csv"), "f.csv"));
    expect(msg).toBe(
      `column "x", row 2 (line 3) of f.csv: "${cell}" is not a decimal number; fix the value or list "x" in dataset.categorical`,
    );
  });

  test("decimal forms are numbers: signs, exponents, leading dot, surrounding spaces", async () => {
    const rows = parseRows(plain, await readCsv("x,y\n+1.5,2\n-.5,3\n 2e3 ,4\n007,5\n", "f.csv"), "f.csv");
    expect(rows.x).toEqual([[1.5], [-0.5], [2000], [7]]);
  });

  test("a value beyond float32 is refused naming the column", async () => {
    const msg = await dataError(async () => parseRows(plain, await readCsv("x,y\n1e39,2\n", "f.csv"), "f.csv"));
    expect(msg).toBe('column "x", row 1 (line 2) of f.csv: 1e39 overflows float32 (|x| > 3.4e38); rescale the column');
    const target = await dataError(async () => parseRows(plain, await readCsv("x,y\n1,-4e38\n", "f.csv"), "f.csv"));
    expect(target).toMatch(/^column "y" \(target\), row 1 \(line 2\) of f\.csv: -4e38 overflows float32/);
  });

  test("a long bad value is quoted by a short prefix only", async () => {
    const msg = await dataError(async () =>
      parseRows(plain, await readCsv(`x,y\n${"z".repeat(5000)},2\n`, "f.csv"), "f.csv"),
    );
    expect(msg.length).toBeLessThan(200);
    expect(msg).toContain(`"${"z".repeat(40)}..."`);
  });

  test("an empty header name is refused", async () => {
    expect(await dataError(readCsv("x,,y\n1,2,3\n", "f.csv"))).toBe(
      "f.csv: header column 2 has no name; every column needs one",
    );
    expect(await dataError(streamRows(plain, Readable.from(["x, \n1,2\n"]), "s.csv"))).toBe(
      "s.csv: header column 2 has no name; every column needs one",
    );
  });

  test("binary labels equal as numbers are one class", async () => {
    const spec = parseRunSpec({
      dataset: { uri: "mem.csv", target: "y" },
      task: "binary",
      output: { uri: "/tmp/unused" },
    });
    const rows = parseRows(
      spec,
      await readCsv("x,y\n1,0\n2,1.0\n3,01\n4,0.0\n5,1\n6,0\n7,1\n8,0\n9,1\n10,0\n", "f.csv"),
      "f.csv",
    );
    expect(new Set(rows.y)).toEqual(new Set(["0", "1"]));
    const pre = fitPreprocess(spec, rows, splitIndices(rows.y.length, 0.2, 0.2, 1).train);
    expect(pre.classes).toEqual(["0", "1"]);
  });

  test("minmax scaling over a million values does not overflow the call stack", async () => {
    const spec = specWith({ preprocess: { missing: "drop", scale: "minmax" } }, { drop: [], categorical: [] });
    const n = 1_000_000;
    const rows = {
      features: ["x"],
      categorical: new Set<string>(),
      x: Array.from({ length: n }, (_, i) => [i]),
      y: Array.from({ length: n }, (_, i) => i),
      rowsRead: n,
      droppedRows: 0,
      dropReasons: {},
    };
    const pre = fitPreprocess(spec, rows, splitIndices(n, 0.2, 0.2, 1).train);
    const f = pre.features[0];
    expect(f.kind === "numeric" && f.scale.kind === "minmax" && f.scale.min).toBeLessThan(100);
    expect(f.kind === "numeric" && f.scale.kind === "minmax" && f.scale.max).toBeGreaterThan(n - 100);
  });
});

describe("streaming", () => {
  test("streamRows parses records as chunks arrive and matches the in-memory parse", async () => {
    const chunks = CSV.match(/[\s\S]{1,7}/g)!; // split mid-line on purpose
    const streamed = await streamRows(specWith(), Readable.from(chunks), "mem.csv");
    expect(streamed).toEqual(parseRows(specWith(), await readCsv(CSV, "mem.csv"), "mem.csv"));
    expect(await dataError(streamRows(specWith(), Readable.from([]), "empty.csv"))).toMatch(
      /empty\.csv: file is empty/,
    );
    expect(await dataError(streamRows(specWith(), "a,a\n1,2\n", "dup.csv"))).toMatch(
      /dup\.csv: header names column "a" twice/,
    );
  });
});

describe("split and preprocessing", () => {
  test("the split is a seeded shuffle: same seed same split, disjoint and complete", () => {
    const a = splitIndices(100, 0.2, 0.1, 7);
    expect(splitIndices(100, 0.2, 0.1, 7)).toEqual(a);
    expect(splitIndices(100, 0.2, 0.1, 8)).not.toEqual(a);
    expect([a.test.length, a.validation.length, a.train.length]).toEqual([20, 10, 70]);
    expect(new Set([...a.train, ...a.validation, ...a.test]).size).toBe(100);
    expect(a.test).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test("epoch batch orders depend only on (seed, epoch)", () => {
    expect(epochOrder(50, 1, 3)).toEqual(epochOrder(50, 1, 3));
    expect(epochOrder(50, 1, 3)).not.toEqual(epochOrder(50, 1, 4));
    expect([...permutation(10, 5)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("scaling stats come from the training rows only; categories are one-hot", async () => {
    const csv = "x,c,y\n0,a,1\n10,b,2\n1000,a,3\n";
    const spec = specWith({}, { drop: [], categorical: ["c"] });
    const rows = parseRows(spec, await readCsv(csv, "f.csv"), "f.csv");
    const pre = fitPreprocess(spec, rows, [0, 1]);
    expect(pre.features[0]).toEqual({
      column: "x",
      kind: "numeric",
      impute: null,
      scale: { kind: "standard", mean: 5, std: 5 },
    });
    expect(pre.inputs).toEqual(["x", "c=a", "c=b"]);
    expect(encodeRow(pre, [1000, "b"])).toEqual([199, 0, 1]);
    const { x, y } = encode(pre, rows, [2]);
    expect(Array.from(x.data)).toEqual([199, 1, 0]);
    expect(Array.from(y.data)).toEqual([3]);
  });

  test("mean/median imputation uses training values", async () => {
    const csv = "x,y\n1,1\n2,1\n9,1\n,1\n100,1\n";
    const spec = specWith({ preprocess: { missing: "median", scale: "none" } }, { drop: [], categorical: [] });
    const rows = parseRows(spec, await readCsv(csv, "f.csv"), "f.csv");
    const pre = fitPreprocess(spec, rows, [0, 1, 2, 3]);
    expect(encodeRow(pre, [null])).toEqual([2]);
    const mean = fitPreprocess({ ...spec, preprocess: { missing: "mean", scale: "minmax" } }, rows, [0, 1, 2, 3]);
    expect(encodeRow(mean, [null])).toEqual([(4 - 1) / (9 - 1)]);
  });

  test("classification targets: binary picks the positive class, multiclass one-hots", async () => {
    const csv = "x,label\n1,cat\n2,dog\n3,cat\n";
    const bin = parseRunSpec({
      dataset: { uri: "f", target: "label", positiveClass: "cat" },
      task: "binary",
      output: { uri: "/tmp/x" },
    });
    const rows = parseRows(bin, await readCsv(csv, "f.csv"), "f.csv");
    const pre = fitPreprocess(bin, rows, [0, 1, 2]);
    expect(pre.classes).toEqual(["dog", "cat"]);
    expect(Array.from(encode(pre, rows, [0, 1]).y.data)).toEqual([1, 0]);
    const multi = { ...bin, task: "multiclass" as const, dataset: { ...bin.dataset, positiveClass: undefined } };
    const mpre = fitPreprocess(multi, rows, [0, 1, 2]);
    expect(Array.from(encode(mpre, rows, [0, 1]).y.data)).toEqual([1, 0, 0, 1]);
    const three = parseRows(bin, await readCsv("x,label\n1,a\n2,b\n3,c\n", "f.csv"), "f.csv");
    expect(await dataError(() => fitPreprocess(bin, three, [0, 1, 2]))).toMatch(
      /task binary needs exactly 2 labels in column "label", found 3/,
    );
  });
});

describe("legal but suspicious data", () => {
  test("a categorical column with more distinct values than the cap is refused naming it", async () => {
    const spec = specWith({}, { drop: [], categorical: ["id"], target: "y" });
    const csv = `id,y\n${Array.from({ length: 2500 }, (_, i) => `u${i},${i}`).join("\n")}\n`;
    const rows = parseRows(spec, await readCsv(csv, "f.csv"), "f.csv");
    const msg = await dataError(() => fitPreprocess(spec, rows, splitIndices(rows.y.length, 0.2, 0.2, 1).train));
    expect(msg).toMatch(
      /^column "id" has \d+ distinct values in the training split; one-hot encoding caps a categorical column at 1000/,
    );
  });

  test("a constant target and empty splits are warned about before training", async () => {
    const spec = specWith({ split: { test: 0, validation: 0, seed: 1 } }, { drop: [], categorical: [] });
    const rows = parseRows(spec, await readCsv("x,y\n1,5\n2,5\n3,5\n", "f.csv"), "f.csv");
    const split = splitIndices(rows.y.length, 0, 0, 1);
    expect(dataWarnings(spec, rows, split)).toEqual([
      "the test split is empty (too few rows for split.test): no test metrics will be reported",
      "the validation split is empty: early stopping watches the training loss",
      'the target "y" is constant (5) in the training split: the model can only learn that constant',
    ]);
    const varied = parseRows(spec, await readCsv("x,y\n1,5\n2,6\n3,7\n4,8\n5,9\n", "f.csv"), "f.csv");
    expect(dataWarnings(specWith(), varied, splitIndices(5, 0.2, 0.2, 1))).toEqual([]);
  });
});

describe("stopping while the data loads", () => {
  const big = () => Readable.from(["x,y\n", ...Array.from({ length: 5000 }, (_, i) => `${i},${i * 2}\n`)]);

  test("streamRows stops within a thousand records of the request and says where", async () => {
    let asked = 0;
    const err = await streamRows(
      specWith({}, { drop: [], categorical: [] }),
      big(),
      "big.csv",
      () => ++asked >= 2,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(LoadStopped);
    expect(err.message).toBe("stopped while reading big.csv (2000 records read)");
  });

  test("runTraining returns interrupted before anything is written when asked to stop while loading", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-stop-"));
    writeFileSync(
      path.join(dir, "big.csv"),
      ["x,y", ...Array.from({ length: 5000 }, (_, i) => `${i},${i * 2}`)].join("\n"),
    );
    const spec = {
      ...parseRunSpec({
        dataset: { uri: path.join(dir, "big.csv"), target: "y" },
        task: "regression",
        training: { epochs: 1 },
        output: { uri: path.join(dir, "out") },
      }),
      runId: "stopped",
    };
    const lines: Record<string, unknown>[] = [];
    const outcome = await runTraining(spec, {
      shouldStop: () => true,
      log: (l) => lines.push(l),
      env: { KILN_BACKEND: "cpu" },
    });
    expect(outcome.status).toBe("interrupted");
    expect(lines.find((l) => l.event === "interrupted")).toMatchObject({ phase: "loading data" });
    expect(existsSync(path.join(dir, "out", "stopped", "run.json"))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

test("a multiclass target with more labels than the cap is refused naming it", async () => {
  const spec = parseRunSpec({
    dataset: { uri: "m.csv", target: "y" },
    task: "multiclass",
    output: { uri: "/tmp/unused" },
  });
  const csv = `x,y\n${Array.from({ length: 1200 }, (_, i) => `${i},c${i}`).join("\n")}\n`;
  const rows = parseRows(spec, await readCsv(csv, "m.csv"), "m.csv");
  expect(await dataError(() => fitPreprocess(spec, rows, splitIndices(rows.y.length, 0.2, 0.2, 1).train))).toMatch(
    /^task multiclass: "y" has 1200 distinct labels; the trainer caps classes at 1000/,
  );
});
