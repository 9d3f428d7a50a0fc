import { type Figure, formatFigures, verdict } from "../../../scripts/bench/figures";

const f = (value: number, target?: Figure["target"]): Figure => ({
  key: "k",
  label: "submits/s",
  value,
  unit: "/s",
  target,
});

describe("bench figures beside their targets", () => {
  it("meets an at-least or at-most target on the bound, misses past it, and says when nothing was measured", () => {
    expect(verdict(f(100, { atLeast: 100 }))).toBe("met");
    expect(verdict(f(99.9, { atLeast: 100 }))).toBe("MISSED");
    expect(verdict(f(0, { atMost: 0 }))).toBe("met");
    expect(verdict(f(1, { atMost: 0 }))).toBe("MISSED");
    expect(verdict(f(NaN, { atMost: 300 }))).toBe("not measured");
    expect(verdict(f(5))).toBe("");
  });

  it("prints the value, the target, the verdict and the anchor", () => {
    const text = formatFigures([{ ...f(27.04, { atLeast: 100 }), anchor: "Kueue ~43/s" }]);
    expect(text).toContain("submits/s  27.0 /s  >= 100 /s  MISSED");
    expect(text).toContain("anchor: Kueue ~43/s");
  });
});
