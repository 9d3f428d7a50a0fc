/**
 * Generated stack configs, hostile and careless ones included: parseConfig either returns a config that
 * keeps every security invariant, or throws a ConfigError whose every line names a `kiln:` key. Never
 * another error, never slowly.
 */
import fc from "fast-check";
import { ConfigError, type KilnConfig, parseConfig } from "../../infra/config";
import { reservedNamespaceOwner } from "../../contract/names";
import { coveredAddresses, IPV4_ADDRESSES, parseCidr } from "../../contract/cidr";

/** How many generated configs each property runs (printed for the closing note). */
const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

/** Mostly `good`, sometimes `bad`: enough accepted configs to check the invariants on. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: bad, weight: 1 });
const pad = (a: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom("", " ", "\t", "  "), a, fc.constantFrom("", " ", "\n")).map(([l, v, r]) => `${l}${v}${r}`);
const octet = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map(String),
  fc.constantFrom("0", "00", "000", "010", "256", "999", "-1"),
);
const cidr = pad(
  fc.oneof(
    fc
      .tuple(
        octet,
        octet,
        octet,
        octet,
        fc.oneof(fc.integer({ min: 0, max: 32 }).map(String), fc.constantFrom("00", "000", "08", "33", "")),
      )
      .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`),
    fc.constantFrom(
      "0.0.0.0/0",
      "0.0.0.0/1",
      "128.0.0.0/1",
      "10.0.0.0/16",
      "203.0.113.0/24",
      "198.51.100.0/24",
      "192.0.2.0/24",
      "::/0",
      "office",
      "",
    ),
  ),
);
const name = pad(
  mostly(
    fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/),
    fc.constantFrom("gpu", "system", "cpu", "Kube-x", "-x", "x".repeat(40), ""),
  ),
);
const namespace = pad(
  mostly(
    fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/),
    fc.constantFrom(
      "kube-system",
      "kube-public",
      "default",
      "kueue-system",
      "kiln-system",
      "kiln-gpu",
      "kiln-research",
    ),
  ),
);
const count = mostly(
  fc.integer({ min: 0, max: 16 }),
  fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constantFrom(1e9, 2 ** 31, 0.5, Number.MAX_SAFE_INTEGER)),
);
const tag = pad(
  mostly(
    fc.constantFrom("0.1.0", "v1_2-3", "2026.12.01"),
    fc.oneof(
      fc.constantFrom("latest", "LATEST", "main", "Main", "0.1.0@sha256:abc", "", ".x"),
      fc.string({ maxLength: 20 }),
    ),
  ),
);
const repository = pad(
  mostly(
    fc.constantFrom("localhost:5000/kiln/trainer", "kiln/trainer", "registry.example/a__b/c"),
    fc.oneof(
      fc.constantFrom("Kiln/Trainer", "kiln/trainer:0.1.0", "kiln/trainer@sha256:abc", "a//b"),
      fc.string({ maxLength: 30 }),
    ),
  ),
);

const pool = fc.record(
  { name, maxGpus: count, gpusPerNode: fc.option(count, { nil: undefined }) },
  { requiredKeys: ["name", "maxGpus"] },
);
const team = fc.record(
  {
    name,
    namespace: fc.option(namespace, { nil: undefined }),
    gpuQuota: mostly(fc.constant(0), count),
    pools: fc.option(fc.array(name, { maxLength: 2 }), { nil: undefined, freq: 4 }),
  },
  { requiredKeys: ["name", "gpuQuota"] },
);

const config = fc.record(
  {
    "kiln:platform": mostly(fc.constantFrom("local", " local"), fc.constantFrom("aws", "gcp")),
    "kiln:vpcCidr": mostly(fc.constantFrom("10.0.0.0/16", "10.1.0.0/16 "), cidr),
    "kiln:azCount": mostly(fc.integer({ min: 2, max: 3 }), count),
    "kiln:privateSubnetPrefix": mostly(fc.constant(19), count),
    "kiln:publicAccessCidrs": fc.array(cidr, { maxLength: 5 }),
    "kiln:gpuPools": fc.array(pool, { maxLength: 3 }),
    "kiln:teams": fc.array(team, { maxLength: 3 }),
    "kiln:trainer": fc.record({ repository, tag }, { requiredKeys: ["repository"] }),
    "kiln:clusterName": name,
  },
  { requiredKeys: [] },
);

/** The config as Pulumi hands it over: strings, structured values as JSON. */
const raw = (c: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));

function checkInvariants(c: KilnConfig): void {
  const cidrs = c.publicAccessCidrs.map((x) => parseCidr(x));
  for (const x of cidrs) {
    expect(x).toBeDefined();
    expect(x!.prefix).toBeGreaterThan(0);
  }
  if (cidrs.length > 0) expect(coveredAddresses(cidrs.map((x) => x!))).toBeLessThan(IPV4_ADDRESSES);
  for (const t of c.teams) {
    expect(reservedNamespaceOwner(t.namespace)).toBeUndefined();
    expect(t.namespace).toBe(t.namespace.trim());
  }
  expect(new Set(c.teams.map((t) => t.namespace)).size).toBe(c.teams.length);
  expect(["latest", "main"]).not.toContain(c.trainer.tag.toLowerCase());
  expect(c.trainer.tag).not.toMatch(/[@:\s]/);
  expect(c.trainer.repository ?? "").not.toMatch(/[@\s]/);
  expect(c.clusterName).toBe(c.clusterName.trim());
}

let accepted = 0;
let refused = 0;
afterAll(() => {
  console.log(
    `config property: ${accepted + refused} generated configs, ${accepted} accepted, ${refused} refused (runs per property: ${RUNS})`,
  );
});

test("a generated config is accepted with its invariants, or refused naming kiln: keys, quickly", () => {
  fc.assert(
    fc.property(config, (c) => {
      const t0 = Date.now();
      let parsed: KilnConfig | undefined;
      try {
        parsed = parseConfig(raw(c), "prop");
      } catch (e) {
        if (!(e instanceof ConfigError)) throw new Error(`not a ConfigError: ${(e as Error).stack}`);
        for (const p of e.problems) expect(p).toMatch(/^kiln:[A-Za-z]+(\[\d+\]|\.[A-Za-z]+)*: \S/);
        for (const p of e.problems) expect(p.length).toBeLessThan(600);
        refused++;
      }
      if (parsed) {
        checkInvariants(parsed);
        accepted++;
      }
      expect(Date.now() - t0).toBeLessThan(1000);
    }),
    { numRuns: RUNS },
  );
});
