import { cappedSplit, largestRemainder, splitPoolQuotas, type TeamDemand } from "../../../infra/cluster/quota-split";

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe("largestRemainder", () => {
  test("splits proportionally and hands leftovers to the largest remainders", () => {
    // 16 * 16/24 = 10.67, 16 * 8/24 = 5.33 -> floors 10 + 5, the leftover goes to the .67
    expect(
      largestRemainder(
        16,
        new Map([
          ["research", 16],
          ["vision", 8],
        ]),
      ),
    ).toEqual(
      new Map([
        ["research", 11],
        ["vision", 5],
      ]),
    );
  });

  test("parts always sum exactly to the total", () => {
    for (let total = 0; total <= 50; total++) {
      for (const weights of [
        [1, 1, 1],
        [3, 7],
        [5, 0, 2],
        [1, 2, 3, 4, 5, 6, 7],
        [100, 1],
      ]) {
        const split = largestRemainder(total, new Map(weights.map((w, i) => [`t${i}`, w])));
        expect(sum(split)).toBe(total);
        for (const part of split.values()) expect(Number.isInteger(part) && part >= 0).toBe(true);
      }
    }
  });

  test("each part is within one of its exact proportional share", () => {
    const weights = new Map([
      ["a", 3],
      ["b", 5],
      ["c", 11],
    ]);
    const split = largestRemainder(37, weights);
    for (const [k, w] of weights) expect(Math.abs(split.get(k)! - (37 * w) / 19)).toBeLessThan(1);
  });

  test("ties are broken by name, not by input order", () => {
    const a = largestRemainder(
      1,
      new Map([
        ["zeta", 1],
        ["alpha", 1],
      ]),
    );
    const b = largestRemainder(
      1,
      new Map([
        ["alpha", 1],
        ["zeta", 1],
      ]),
    );
    expect(a).toEqual(b);
    expect(a.get("alpha")).toBe(1);
  });

  test("all-zero weights split evenly", () => {
    expect(
      largestRemainder(
        5,
        new Map([
          ["a", 0],
          ["b", 0],
        ]),
      ),
    ).toEqual(
      new Map([
        ["a", 3],
        ["b", 2],
      ]),
    );
  });

  test("a zero weight gets nothing when others have weight", () => {
    expect(
      largestRemainder(
        8,
        new Map([
          ["a", 0],
          ["b", 1],
        ]),
      ),
    ).toEqual(
      new Map([
        ["a", 0],
        ["b", 8],
      ]),
    );
  });

  test("rejects negative or fractional inputs", () => {
    expect(() => largestRemainder(-1, new Map([["a", 1]]))).toThrow("total must be a non-negative integer, got -1");
    expect(() => largestRemainder(4, new Map([["a", 1.5]]))).toThrow(
      "weight of 'a' must be a non-negative integer, got 1.5",
    );
  });
});

describe("splitPoolQuotas", () => {
  const pools = [
    { name: "a10g", maxGpus: 16 },
    { name: "h100", maxGpus: 8 },
  ];
  const teams: TeamDemand[] = [
    { name: "research", gpuQuota: 16, pools: ["a10g", "h100"] },
    { name: "vision", gpuQuota: 8, pools: ["a10g"] },
  ];

  test("per pool, the teams' nominal quotas sum exactly to the pool's maxGpus", () => {
    const quotas = splitPoolQuotas(pools, teams);
    for (const pool of pools)
      expect(quotas.filter((q) => q.pool === pool.name).reduce((s, q) => s + q.nominalQuota, 0)).toBe(pool.maxGpus);
  });

  test("a team gets quota only in the pools it may use", () => {
    const quotas = splitPoolQuotas(pools, teams);
    expect(quotas.filter((q) => q.team === "vision").map((q) => q.pool)).toEqual(["a10g"]);
  });

  test("nominal plus borrowing never exceeds the team's gpuQuota (nor the pool)", () => {
    const quotas = splitPoolQuotas(pools, teams);
    expect(quotas).toEqual([
      { pool: "a10g", team: "research", nominalQuota: 11, borrowingLimit: 5 },
      { pool: "a10g", team: "vision", nominalQuota: 5, borrowingLimit: 3 },
      { pool: "h100", team: "research", nominalQuota: 8, borrowingLimit: 0 },
    ]);
    for (const q of quotas) {
      const team = teams.find((t) => t.name === q.team)!;
      const pool = pools.find((p) => p.name === q.pool)!;
      if (q.borrowingLimit > 0) expect(q.nominalQuota + q.borrowingLimit).toBe(Math.min(team.gpuQuota, pool.maxGpus));
    }
  });

  test("the split does not depend on the order teams are listed in", () => {
    expect(splitPoolQuotas(pools, [...teams].reverse())).toEqual(splitPoolQuotas(pools, teams));
  });

  test("a pool no team uses yields no quota; a zero-GPU pool yields zero quota", () => {
    const quotas = splitPoolQuotas(
      [
        { name: "idle", maxGpus: 4 },
        { name: "off", maxGpus: 0 },
      ],
      [{ name: "a", gpuQuota: 0, pools: ["off"] }],
    );
    expect(quotas).toEqual([{ pool: "off", team: "a", nominalQuota: 0, borrowingLimit: 0 }]);
  });
});

describe("cappedSplit / quotas above demand", () => {
  test("cappedSplit hands what a capped key leaves to the others", () => {
    const split = cappedSplit(
      10,
      new Map([
        ["a", 1],
        ["b", 1],
        ["c", 1],
      ]),
      new Map([
        ["a", 1],
        ["b", 10],
        ["c", 10],
      ]),
    );
    expect(split).toEqual(
      new Map([
        ["a", 1],
        ["b", 5],
        ["c", 4],
      ]),
    );
  });

  test("a pool larger than its teams' quotas together: nominal quotas equal the quotas, no borrowing", () => {
    const quotas = splitPoolQuotas(
      [{ name: "p", maxGpus: 64 }],
      [
        { name: "a", gpuQuota: 4, pools: ["p"] },
        { name: "b", gpuQuota: 8, pools: ["p"] },
      ],
    );
    expect(quotas.map((q) => [q.team, q.nominalQuota, q.borrowingLimit])).toEqual([
      ["a", 4, 0],
      ["b", 8, 0],
    ]);
  });

  test("whenever the teams' quotas reach the pool, nominal quotas sum exactly to it (exhaustive small cases)", () => {
    for (let max = 0; max <= 12; max++) {
      for (let qa = 0; qa <= 12; qa++) {
        for (let qb = 0; qb <= 12; qb++) {
          const quotas = splitPoolQuotas(
            [{ name: "p", maxGpus: max }],
            [
              { name: "a", gpuQuota: qa, pools: ["p"] },
              { name: "b", gpuQuota: qb, pools: ["p"] },
            ],
          );
          const sum = quotas.reduce((s, q) => s + q.nominalQuota, 0);
          expect(sum).toBe(Math.min(max, Math.min(qa, max) + Math.min(qb, max)));
          for (const q of quotas) {
            const quota = q.team === "a" ? qa : qb;
            expect(q.nominalQuota).toBeLessThanOrEqual(quota);
            expect(q.nominalQuota + q.borrowingLimit).toBe(Math.min(quota, max));
          }
        }
      }
    }
  });
});
