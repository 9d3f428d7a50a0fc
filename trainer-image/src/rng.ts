/** Seeded randomness: the only source of randomness in a run, so a resumed run replays exactly. */

/** mulberry32: a small, fast 32-bit PRNG; returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes two integers into one 32-bit seed (so each (seed, epoch) pair gets its own stream). */
export function mixSeed(seed: number, salt: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (salt + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fisher-Yates permutation of 0..n-1 driven by `seed`. */
export function permutation(n: number, seed: number): Int32Array {
  const rand = mulberry32(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/** The batch order of one epoch: depends only on (seed, epoch), never on earlier epochs. */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return permutation(n, mixSeed(seed, epoch + 1));
}

/** mulberry32 with its state readable and settable, so a stream's shuffle can be checkpointed mid-epoch. */
export class Rng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** A float in [0, 1): the same sequence as mulberry32(seed). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  get(): number {
    return this.state;
  }
}

/**
 * A seeded 32-bit hash of a CSV record (FNV-1a over the fields, then a murmur3 finaliser): the split of a
 * row depends on its content and the seed only, so it is the same in every epoch, shard order and pass.
 */
export function hashRecord(record: readonly string[], seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let f = 0; f < record.length; f++) {
    const s = record[f];
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x1f, 0x01000193); // field separator: ("ab","c") and ("a","bc") differ
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
