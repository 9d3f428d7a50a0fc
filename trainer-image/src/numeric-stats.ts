/** The statistics pass's numbers per numeric column: Welford mean and variance, min/max, missing count, median sample. */
import type { Rng } from "./rng";

/** Values kept per column for a median: exact up to this many, a seeded uniform sample beyond. */
export const MEDIAN_SAMPLE = 100_000;

/** Running statistics of one numeric column over the training rows. */
export class NumericStats {
  n = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  missing = 0;
  private sample: number[] = [];

  constructor(private readonly rng: Rng | undefined) {}

  add(v: number | null): void {
    if (v === null) {
      this.missing++;
      return;
    }
    this.n++;
    const d = v - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    if (!this.rng) return;
    // Reservoir sampling (algorithm R): every value has the same chance to be in the sample.
    if (this.sample.length < MEDIAN_SAMPLE) this.sample.push(v);
    else {
      const j = Math.floor(this.rng.next() * this.n);
      if (j < MEDIAN_SAMPLE) this.sample[j] = v;
    }
  }

  /**
   * add(missing[r] ? null : values[r]) for r = rows[0], ..., rows[count - 1], in that order: the same arithmetic,
   * with the running values in locals.
   */
  /** add(missing[r] ? null : values[r]) for r = rows[0], ..., rows[count - 1], in that order. */
  addRows(values: Float64Array, missing: Uint8Array, rows: Int32Array, count: number): void {
    if (this.rng) {
      for (let i = 0; i < count; i++) this.add(missing[rows[i]] ? null : values[rows[i]]);
      return;
    }
    // The same arithmetic as add, the running values in locals.
    let { n, mean, m2, min, max, missing: absent } = this;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      if (missing[r]) {
        absent++;
        continue;
      }
      const v = values[r];
      n++;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.n = n;
    this.mean = mean;
    this.m2 = m2;
    this.min = min;
    this.max = max;
    this.missing = absent;
  }

  /**
   * stats[j].addRows(values[j], missing[j], rows, count) for every j. Each update waits on the column's previous
   * one (a division deep), so columns with nothing missing in these rows and no median sample advance four at a
   * time, row by row, and the processor overlaps their updates: the same arithmetic in the same order per column.
   */
  static addRowsTogether(
    stats: readonly NumericStats[],
    values: readonly Float64Array[],
    missing: readonly Uint8Array[],
    rows: Int32Array,
    count: number,
  ): void {
    const clean: number[] = [];
    stats.forEach((s, j) => {
      if (s.rng || anyMissing(missing[j], rows, count)) s.addRows(values[j], missing[j], rows, count);
      else clean.push(j);
    });
    for (let g = 0; g < clean.length; g += 4) {
      // Fewer than four left: the rest of the group is a throwaway column.
      const at = [0, 1, 2, 3].map((i) => clean[g + i]);
      const s = at.map((j) => (j === undefined ? new NumericStats(undefined) : stats[j]));
      const v = at.map((j) => values[j ?? clean[g]]);
      addFour(s[0], s[1], s[2], s[3], v[0], v[1], v[2], v[3], rows, count);
    }
  }

  median(): number {
    const s = [...this.sample].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }
}

function anyMissing(missing: Uint8Array, rows: Int32Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (missing[rows[i]]) return true;
  return false;
}

/** addRows on four columns with nothing missing in these rows, together (locals, one loop). */
function addFour(
  a: NumericStats,
  b: NumericStats,
  c: NumericStats,
  e: NumericStats,
  va: Float64Array,
  vb: Float64Array,
  vc: Float64Array,
  ve: Float64Array,
  rows: Int32Array,
  count: number,
): void {
  let { n: na, mean: ma, m2: qa, min: loA, max: hiA } = a;
  let { n: nb, mean: mb, m2: qb, min: loB, max: hiB } = b;
  let { n: nc, mean: mc, m2: qc, min: loC, max: hiC } = c;
  let { n: ne, mean: me, m2: qe, min: loE, max: hiE } = e;
  for (let i = 0; i < count; i++) {
    const r = rows[i];
    const xa = va[r];
    const xb = vb[r];
    const xc = vc[r];
    const xe = ve[r];
    na++;
    nb++;
    nc++;
    ne++;
    const da = xa - ma;
    const db = xb - mb;
    const dc = xc - mc;
    const de = xe - me;
    ma += da / na;
    mb += db / nb;
    mc += dc / nc;
    me += de / ne;
    qa += da * (xa - ma);
    qb += db * (xb - mb);
    qc += dc * (xc - mc);
    qe += de * (xe - me);
    if (xa < loA) loA = xa;
    if (xa > hiA) hiA = xa;
    if (xb < loB) loB = xb;
    if (xb > hiB) hiB = xb;
    if (xc < loC) loC = xc;
    if (xc > hiC) hiC = xc;
    if (xe < loE) loE = xe;
    if (xe > hiE) hiE = xe;
  }
  Object.assign(a, { n: na, mean: ma, m2: qa, min: loA, max: hiA });
  Object.assign(b, { n: nb, mean: mb, m2: qb, min: loB, max: hiB });
  Object.assign(c, { n: nc, mean: mc, m2: qc, min: loC, max: hiC });
  Object.assign(e, { n: ne, mean: me, m2: qe, min: loE, max: hiE });
}
