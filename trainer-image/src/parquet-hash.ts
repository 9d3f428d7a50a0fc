/** The split hash of Parquet rows, computed over their decoded values column by column. */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

const FNV = 0x01000193;

/**
 * The split hash of each of `count` Parquet rows: FNV-1a over its used columns' values in file order (a number's
 * float64 bits, a string's characters, a marker for null), then hashRecord's finaliser. Values, not their text:
 * no number is turned into a string to be hashed. Column by column (each row's running hash kept in `out`): the
 * same arithmetic in the same order per row as hashing row by row, without looking at each value's type.
 */
export function hashColumns(values: ArrayLike<unknown>[], count: number, seed: number, out: Uint32Array): void {
  out.fill((0x811c9dc5 ^ seed) >>> 0, 0, count);
  for (const col of values) {
    if (col instanceof Float64Array) {
      // Its float64 bits read in place; a NaN goes through f64 as in the other branches (its bits as JS has them).
      const w = new Uint32Array(col.buffer, col.byteOffset, 2 * count);
      for (let r = 0; r < count; r++) {
        let lo = w[2 * r];
        let hi = w[2 * r + 1];
        if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | lo) !== 0) {
          f64[0] = col[r];
          lo = u32[0];
          hi = u32[1];
        }
        const h = Math.imul(Math.imul(out[r] ^ lo, FNV) ^ hi, FNV);
        out[r] = Math.imul(h ^ 0x1f, FNV);
      }
      continue;
    }
    if (ArrayBuffer.isView(col) && !(col instanceof BigInt64Array) && !(col instanceof BigUint64Array)) {
      // A typed array of numbers (Float64Array, Int32Array, ...): every value is a number.
      const nums = col as unknown as ArrayLike<number>;
      for (let r = 0; r < count; r++) {
        f64[0] = nums[r];
        let h = Math.imul(out[r] ^ u32[0], FNV);
        h = Math.imul(h ^ u32[1], FNV);
        out[r] = Math.imul(h ^ 0x1f, FNV);
      }
      continue;
    }
    for (let r = 0; r < count; r++) {
      const v = col[r];
      let h = out[r];
      if (v === null || v === undefined) h = Math.imul(h ^ 0x00, FNV);
      else if (typeof v === "string") for (let i = 0; i < v.length; i++) h = Math.imul(h ^ v.charCodeAt(i), FNV);
      else {
        f64[0] = typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
        h = Math.imul(h ^ u32[0], FNV);
        h = Math.imul(h ^ u32[1], FNV);
      }
      out[r] = Math.imul(h ^ 0x1f, FNV);
    }
  }
  for (let r = 0; r < count; r++) {
    let h = out[r];
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[r] = h >>> 0;
  }
}
