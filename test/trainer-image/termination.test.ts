/**
 * The trainer's termination message: its best epoch line, written where the kubelet picks it up, and read
 * by the log protocol's parser and the plugin's bestMetric exactly as the log's epoch lines are.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseLogLine } from "../../contract/log-protocol";
import { bestMetric } from "../../cli/src/progress";
import { runTraining } from "../../trainer-image/src/run";
import { parseRunSpec, type RunSpec } from "../../trainer-image/src/spec";
import { bestEpochLine, MAX_TERMINATION_MESSAGE_BYTES, writeBestEpoch } from "../../trainer-image/src/termination";

jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-termination-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const epoch = (n: number, loss: number, val_loss?: number) => ({
  epoch: n,
  loss,
  ...(val_loss !== undefined ? { val_loss } : {}),
  metrics: { mae: loss / 2 },
  msPerStep: 1.5,
});

describe("the best epoch line", () => {
  test("lowest val_loss, else lowest loss, the earlier epoch on a tie: the plugin's bestMetric agrees", () => {
    const histories = [
      [epoch(1, 9, 8), epoch(2, 5, 6.5), epoch(3, 4, 7), epoch(4, 3, 6.5)],
      [epoch(1, 3), epoch(2, 2.5), epoch(3, 2.75)],
      [epoch(1, 1), epoch(2, 5, 6)],
    ];
    for (const h of histories) {
      const line = bestEpochLine(h)!;
      const log = h.map((e) => JSON.stringify(e)).join("\n");
      expect(bestMetric(line)).toBe(bestMetric(log));
    }
    expect(bestEpochLine(histories[0])).toBe(JSON.stringify(epoch(2, 5, 6.5)));
  });

  test("is the logged line itself: the contract's parser reads it as an epoch line", () => {
    const e = parseLogLine(bestEpochLine([epoch(1, 2, 3)])!);
    expect(e).toEqual({ kind: "epoch", line: epoch(1, 2, 3) });
  });

  test("a line too long for the kubelet's 4 KiB keeps epoch, loss and val_loss only", () => {
    const metrics = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`metric_${i}`, i / 7]));
    const line = bestEpochLine([{ ...epoch(1, 2, 3), metrics }])!;
    expect(JSON.parse(line)).toEqual({ epoch: 1, loss: 2, val_loss: 3 });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_TERMINATION_MESSAGE_BYTES);
  });

  test("no epoch (or only non-finite ones, logged as null) gives no line", () => {
    expect(bestEpochLine([])).toBeUndefined();
    expect(bestEpochLine([{ epoch: 1, loss: Number.NaN }])).toBeUndefined();
  });
});

describe("writing the message", () => {
  test("written only when the file exists (the kubelet creates it); outside a pod nothing is written", () => {
    const file = path.join(dir, "termination-log");
    const env = { KILN_TERMINATION_MESSAGE_PATH: file };
    expect(writeBestEpoch([epoch(1, 2)], env)).toBe(false);
    expect(() => readFileSync(file)).toThrow();
    writeFileSync(file, "");
    expect(writeBestEpoch([epoch(1, 2)], env)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(`${JSON.stringify(epoch(1, 2))}\n`);
  });

  test("a file that cannot be written does not throw", () => {
    const notAFile = path.join(dir, "a-directory");
    mkdirSync(notAFile);
    expect(writeBestEpoch([epoch(1, 2)], { KILN_TERMINATION_MESSAGE_PATH: notAFile })).toBe(false);
  });
});

test("a whole run writes its best logged epoch line as the message", async () => {
  const data = path.join(dir, "data.csv");
  const rows = Array.from({ length: 300 }, (_, r) => {
    const a = Math.sin(r * 0.37);
    const b = Math.cos(r * 0.11);
    return `${a.toFixed(4)},${b.toFixed(4)},${(2 * a - b).toFixed(4)}`;
  });
  writeFileSync(data, `a,b,y\n${rows.join("\n")}\n`);
  const message = path.join(dir, "run-termination-log");
  writeFileSync(message, "");
  const spec = parseRunSpec({
    runId: "best",
    dataset: { uri: data, target: "y" },
    task: "regression",
    split: { test: 0.2, validation: 0.2, seed: 4 },
    model: { layers: [{ units: 8, activation: "relu" }] },
    training: { optimizer: { name: "adam", learningRate: 0.01 }, epochs: 3, batchSize: 32, seed: 8 },
    output: { uri: path.join(dir, "runs") },
  }) as RunSpec & { runId: string };
  const lines: string[] = [];
  const outcome = await runTraining(spec, {
    env: { KILN_BACKEND: "cpu", KILN_PARSE_WORKER: "0", KILN_TERMINATION_MESSAGE_PATH: message },
    log: (l) => lines.push(JSON.stringify(l)),
  });
  expect(outcome.status).toBe("succeeded");
  const text = readFileSync(message, "utf8");
  expect(lines).toContain(text.trimEnd());
  expect(bestMetric(text)).toBe(bestMetric(lines.join("\n")));
  expect(bestMetric(text)).toMatch(/^val_loss=\d+\.\d{4}@[123]$/);
});
