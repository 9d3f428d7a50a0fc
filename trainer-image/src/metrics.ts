/** Evaluation metrics on plain arrays (tfjs has no F1 or ROC-AUC). Pure functions, no tfjs. */

export interface RegressionMetrics {
  mae: number;
  mse: number;
  rmse: number;
  r2: number;
}

export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Binary: of the positive class; multiclass: macro average over classes. */
  precision: number;
  recall: number;
  f1: number;
  confusion: number[][];
  rocAuc?: number;
  roc?: RocPoint[];
}

export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = yTrue.length;
  if (n === 0 || n !== yPred.length)
    throw new Error(`regressionMetrics: need equal, non-empty inputs (got ${n} and ${yPred.length})`);
  let abs = 0;
  let sq = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = yPred[i] - yTrue[i];
    abs += Math.abs(e);
    sq += e * e;
    sum += yTrue[i];
  }
  const m = sum / n;
  let tot = 0;
  for (let i = 0; i < n; i++) tot += (yTrue[i] - m) ** 2;
  const mse = sq / n;
  return { mae: abs / n, mse, rmse: Math.sqrt(mse), r2: tot === 0 ? (sq === 0 ? 1 : 0) : 1 - sq / tot };
}

function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) m[yTrue[i]][yPred[i]]++;
  return m;
}

function perClass(m: number[][], c: number): { precision: number; recall: number; f1: number } {
  const tp = m[c][c];
  const predicted = m.reduce((s, row) => s + row[c], 0);
  const actual = m[c].reduce((s, v) => s + v, 0);
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = actual === 0 ? 0 : tp / actual;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** ROC curve (one point per distinct score, from (0,0) to (1,1)) and its area by the trapezoid rule. */
export function rocCurve(yTrue: ArrayLike<number>, scores: ArrayLike<number>): { auc: number; points: RocPoint[] } {
  const idx = Array.from({ length: yTrue.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const pos = Array.from(yTrue).filter((v) => v === 1).length;
  const neg = yTrue.length - pos;
  if (pos === 0 || neg === 0) return { auc: NaN, points: [] };
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length; i++) {
    if (yTrue[idx[i]] === 1) tp++;
    else fp++;
    // Ties share one threshold: only emit a point after the last of equal scores.
    if (i === idx.length - 1 || scores[idx[i + 1]] !== scores[idx[i]]) {
      points.push({ fpr: fp / neg, tpr: tp / pos, threshold: scores[idx[i]] });
    }
  }
  let auc = 0;
  for (let i = 1; i < points.length; i++)
    auc += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  return { auc, points };
}

/** Binary metrics from labels (0/1) and positive-class probabilities; threshold 0.5. */
export function binaryMetrics(yTrue: ArrayLike<number>, prob: ArrayLike<number>): ClassificationMetrics {
  const pred = Array.from(prob, (p) => (p >= 0.5 ? 1 : 0));
  const confusion = confusionMatrix(yTrue, pred, 2);
  const { precision, recall, f1 } = perClass(confusion, 1);
  const { auc, points } = rocCurve(yTrue, prob);
  return {
    accuracy: (confusion[0][0] + confusion[1][1]) / yTrue.length,
    precision,
    recall,
    f1,
    confusion,
    rocAuc: auc,
    roc: points,
  };
}

/** Multiclass metrics from class indices; precision/recall/F1 are macro averages. */
export function multiclassMetrics(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  k: number,
): ClassificationMetrics {
  const confusion = confusionMatrix(yTrue, yPred, k);
  const per = confusion.map((_, c) => perClass(confusion, c));
  const avg = (f: (p: (typeof per)[number]) => number) => per.reduce((s, p) => s + f(p), 0) / k;
  let correct = 0;
  for (let c = 0; c < k; c++) correct += confusion[c][c];
  return {
    accuracy: correct / yTrue.length,
    precision: avg((p) => p.precision),
    recall: avg((p) => p.recall),
    f1: avg((p) => p.f1),
    confusion,
  };
}
