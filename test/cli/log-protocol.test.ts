/** docs/log-protocol.md is what the dashboard's and `logs`' parser does: its example parses as it says. */
import * as fs from "node:fs";
import * as path from "node:path";
import { curveOf } from "../../cli/src/dashboard/epochs";
import { bestMetric } from "../../cli/src/progress";
import { parseLogLine, TRAINER_ERROR_PREFIX } from "../../contract/log-protocol";

const doc = fs.readFileSync(path.join(__dirname, "../../docs/log-protocol.md"), "utf8");
const example = /```jsonl\n([\s\S]*?)```/.exec(doc)![1];

test("the example draws the curve the page says it does", () => {
  const curve = curveOf(example);
  expect(curve.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
  expect(curve.metrics).toEqual(["mae"]);
  expect(curve.done).toBe(true);
  expect(bestMetric(example)).toBe("val_loss=0.4100@2");
  expect(doc).toContain("best metric `val_loss=0.4100@2`");
});

test("the page's non-epoch lines are not epoch lines", () => {
  const lines = /These are not epoch lines[^\n]*\n\n```text\n([\s\S]*?)```/.exec(doc)![1].trim().split("\n");
  expect(lines.map((l) => parseLogLine(l).kind)).toEqual(["event", "event", "text"]);
});

test("the required fields are the parser's: numeric epoch and loss", () => {
  expect(parseLogLine('{"epoch": 1, "loss": 0.5}').kind).toBe("epoch");
  expect(doc).toMatch(/\| `epoch` \| number, required \|/);
  expect(doc).toMatch(/\| `loss` \| number, required \|/);
  expect(curveOf("kiln-trainer: diverged at epoch 3").error).toBe("diverged at epoch 3");
  expect(doc).toContain(`\`${TRAINER_ERROR_PREFIX}`);
  expect(curveOf('{"epoch": 2, "loss": 1}\n{"epoch": 2, "loss": 0.5}').epochs).toEqual([{ epoch: 2, loss: 0.5 }]);
});
