/**
 * How each GPU pool's capacity becomes Kueue quota. Pure functions, no Pulumi: the cluster layer
 * turns their result into ClusterQueues, and the tests check the arithmetic directly.
 *
 * Rule: a pool's `maxGpus` is split among the teams that may use it in proportion to their
 * `gpuQuota` (largest-remainder method), so per pool the teams' nominal quotas sum EXACTLY to the
 * pool limit: the cohort never admits more GPUs than Karpenter may create. No team's nominal quota
 * exceeds its `gpuQuota` (the namespace ResourceQuota would refuse the pods anyway): if the pool
 * is larger than its teams' quotas together, the nominal quotas sum to those quotas instead. Each
 * team may borrow idle quota in the cohort up to its own `gpuQuota` per pool (`borrowingLimit`).
 */

export interface PoolCapacity {
  readonly name: string;
  readonly maxGpus: number;
}

export interface TeamDemand {
  readonly name: string;
  readonly gpuQuota: number;
  /** Pools the team may use. */
  readonly pools: readonly string[];
}

/** One team's Kueue quota in one pool (= one ResourceFlavor of its ClusterQueue). */
export interface FlavorQuota {
  readonly pool: string;
  readonly team: string;
  /** Guaranteed GPUs of the pool for the team. */
  readonly nominalQuota: number;
  /** GPUs the team may borrow on top, so nominal + borrowing never exceeds its gpuQuota. */
  readonly borrowingLimit: number;
}

/**
 * Splits `total` into integers proportional to `weights` that sum exactly to `total` (Hamilton's
 * largest-remainder method). Ties go to the key that sorts first, so the result does not depend on
 * the order of the input. All-zero weights split evenly.
 */
export function largestRemainder(total: number, weights: ReadonlyMap<string, number>): Map<string, number> {
  if (!Number.isInteger(total) || total < 0) throw new Error(`total must be a non-negative integer, got ${total}`);
  for (const [key, w] of weights)
    if (!Number.isInteger(w) || w < 0) throw new Error(`weight of '${key}' must be a non-negative integer, got ${w}`);
  const keys = [...weights.keys()].sort();
  const result = new Map<string, number>();
  if (keys.length === 0) return result;
  const allZero = keys.every((k) => weights.get(k) === 0);
  const weightOf = (k: string) => (allZero ? 1 : weights.get(k)!);
  const sum = keys.reduce((s, k) => s + weightOf(k), 0);
  // Integer arithmetic: floor(total*w/sum) and the remainder (total*w mod sum), no float drift.
  const rows = keys.map((k) => ({
    key: k,
    floor: Math.floor((total * weightOf(k)) / sum),
    rem: (total * weightOf(k)) % sum,
  }));
  let left = total - rows.reduce((s, r) => s + r.floor, 0);
  const byRemainder = [...rows].sort((a, b) => b.rem - a.rem || (a.key < b.key ? -1 : 1));
  for (const row of byRemainder) {
    if (left === 0) break;
    row.floor += 1;
    left -= 1;
  }
  for (const row of rows) result.set(row.key, row.floor);
  return result;
}

/**
 * Splits `total` in proportion to `weights` without giving any key more than its cap: keys whose
 * share would reach their cap get exactly the cap, and what they leave is split again among the
 * others (water-filling with largest-remainder rounding). The parts sum to min(total, sum of caps).
 */
export function cappedSplit(
  total: number,
  weights: ReadonlyMap<string, number>,
  caps: ReadonlyMap<string, number>,
): Map<string, number> {
  const result = new Map([...weights.keys()].sort().map((k) => [k, 0]));
  const open = new Set([...result.keys()].filter((k) => (caps.get(k) ?? 0) > 0));
  let left = total;
  while (left > 0 && open.size > 0) {
    const shares = largestRemainder(left, new Map([...open].map((k) => [k, weights.get(k)!])));
    const full = [...open].filter((k) => shares.get(k)! >= caps.get(k)! - result.get(k)!);
    if (full.length === 0) {
      for (const k of open) result.set(k, result.get(k)! + shares.get(k)!);
      break;
    }
    for (const k of full) {
      left -= caps.get(k)! - result.get(k)!;
      result.set(k, caps.get(k)!);
      open.delete(k);
    }
  }
  return result;
}

/**
 * Per pool, per team: nominal quota (proportional share of the pool, never above the team's
 * gpuQuota) and borrowing limit. Per pool the nominal quotas sum to maxGpus whenever the teams'
 * quotas together reach it. Returned in pool order, then team name order. Pools no team uses
 * yield nothing.
 */
export function splitPoolQuotas(pools: readonly PoolCapacity[], teams: readonly TeamDemand[]): FlavorQuota[] {
  const out: FlavorQuota[] = [];
  for (const pool of pools) {
    const users = teams.filter((t) => t.pools.includes(pool.name));
    if (users.length === 0) continue;
    const caps = new Map(users.map((t) => [t.name, Math.min(t.gpuQuota, pool.maxGpus)]));
    const shares = cappedSplit(pool.maxGpus, new Map(users.map((t) => [t.name, t.gpuQuota])), caps);
    for (const team of [...users].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const nominalQuota = shares.get(team.name)!;
      out.push({ pool: pool.name, team: team.name, nominalQuota, borrowingLimit: caps.get(team.name)! - nominalQuota });
    }
  }
  return out;
}
