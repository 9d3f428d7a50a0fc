import { verdict } from "../../../scripts/bench/figures";
import { markdownTable } from "../../../scripts/bench/table";

const result = (date: string, runs: number, value: number, podsFinished: number) => ({
  date,
  settings: { runs, nodes: runs / 10, runSeconds: 600 },
  counts: { pods: runs, podsFinished },
  figures: [
    {
      key: "submitRate",
      label: "submits/s",
      value,
      unit: "/s",
      target: { atLeast: 100 },
    },
  ],
});

describe("the README's bench table", () => {
  it("has a column per run, its verdicts and finished pods, and tells runs of one size apart by start time", () => {
    const table = markdownTable(
      [
        result("2026-12-07T12:00:00.000Z", 1000, 120, 1000),
        result("2026-12-07T18:44:13.974Z", 10000, 42.2, 10000),
        result("2026-12-07T22:50:00.000Z", 10000, 43, 9999),
      ].map((r) => ({ ...r, figures: r.figures.map((f) => ({ ...f, verdict: verdict(f) })) })),
    );
    expect(table.split("\n")).toEqual([
      "| figure | target | 1,000 runs / 100 nodes, 600 s each | 10,000 runs / 1,000 nodes, 600 s each (2026-12-07 18:44 UTC) | 10,000 runs / 1,000 nodes, 600 s each (2026-12-07 22:50 UTC) |",
      "|---|---|---|---|---|",
      "| submits/s | >= 100 /s | 120 /s | 42.2 /s (missed) | 43 /s (missed) |",
      "| pods finished before the timeout | all | 1000/1000 | 10000/10000 | 9999/10000 |",
    ]);
  });
});
