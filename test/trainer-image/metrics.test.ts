import { binaryMetrics, multiclassMetrics, regressionMetrics, rocCurve } from "../../trainer-image/src/metrics";

describe("metrics against hand-computed cases", () => {
  test("regression: mae, mse, rmse, r2", () => {
    // errors: +0.5, -0.5, 0, +1  -> |e| sum 2, e^2 sum 1.5; mean(y) = 2.5, SS_tot = 5
    const m = regressionMetrics([1, 2, 3, 4], [1.5, 1.5, 3, 5]);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.mse).toBeCloseTo(0.375, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(m.r2).toBeCloseTo(1 - 1.5 / 5, 12);
  });

  test("binary: accuracy, precision, recall, f1 of the positive class at threshold 0.5", () => {
    // y:     1    1    1    0    0    0    0
    // p:    .9   .6   .4   .7   .2   .1   .3   -> pred 1 1 0 1 0 0 0
    // TP=2 FN=1 FP=1 TN=3
    const m = binaryMetrics([1, 1, 1, 0, 0, 0, 0], [0.9, 0.6, 0.4, 0.7, 0.2, 0.1, 0.3]);
    expect(m.confusion).toEqual([
      [3, 1],
      [1, 2],
    ]);
    expect(m.accuracy).toBeCloseTo(5 / 7, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    // AUC = P(score_pos > score_neg): pairs (3 pos x 4 neg = 12): .9 beats 4, .6 beats 3 (.7 wins), .4 beats 3 -> 10/12
    expect(m.rocAuc).toBeCloseTo(10 / 12, 12);
  });

  test("ROC curve walks thresholds from (0,0) to (1,1); ties count half", () => {
    const { auc, points } = rocCurve([1, 0, 1, 0], [0.8, 0.8, 0.3, 0.1]);
    expect(points.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    // pos/neg pairs: (0.8 vs 0.8) tie = 0.5, (0.8 vs 0.1) = 1, (0.3 vs 0.8) = 0, (0.3 vs 0.1) = 1 -> 2.5/4
    expect(auc).toBeCloseTo(0.625, 12);
    expect(rocCurve([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]).auc).toBe(1);
    expect(rocCurve([1, 1], [0.9, 0.8]).auc).toBeNaN();
  });

  test("multiclass: macro precision, recall and f1", () => {
    // true: 0 0 1 1 2 2 ; pred: 0 1 1 1 2 0
    // class0: TP1 pred2 act2 -> P .5 R .5 F .5 ; class1: TP2 pred3 act2 -> P 2/3 R 1 F .8 ; class2: TP1 pred1 act2 -> P 1 R .5 F 2/3
    const m = multiclassMetrics([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo((0.5 + 2 / 3 + 1) / 3, 12);
    expect(m.recall).toBeCloseTo((0.5 + 1 + 0.5) / 3, 12);
    expect(m.f1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(m.confusion).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
  });

  test("a class never predicted has precision 0, not NaN", () => {
    const m = multiclassMetrics([0, 1, 2], [0, 0, 0], 3);
    expect(m.precision).toBeCloseTo(1 / 3 / 3, 12);
    expect(Number.isNaN(m.f1)).toBe(false);
  });
});
