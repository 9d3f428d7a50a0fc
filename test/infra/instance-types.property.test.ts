/**
 * Class 4 of issue 26: values AWS or Kubernetes would refuse later are refused now: instance types that are
 * not EC2 type names or not a size of a known family (system nodes and GPU pools; an unpriced valid type is
 * accepted with a warning), an empty object-store region, zero or absurd storage sizes.
 */
import fc from "fast-check";
import { ConfigError, type KilnConfig, parseConfig } from "../../infra/config";
import { GPU_FAMILIES } from "../../contract/catalog/gpu-families";
import { GPU_FAMILY_SIZES, INSTANCE_TYPE_NAME, SYSTEM_FAMILY_SIZES } from "../../contract/catalog/instance-types";
import { INSTANCE_PRICES } from "../../contract/catalog/prices";
import { quantityBytes } from "../../infra/lib/quantity";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);
const REPO = JSON.stringify({ repository: "registry.test/kiln/trainer" });

function outcome(raw: Record<string, string>): { config?: KilnConfig; problems: string[] } {
  try {
    return { config: parseConfig({ "kiln:trainer": REPO, ...raw }, "prop"), problems: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { problems: [...e.problems] };
  }
}

const family = fc.constantFrom(
  ...Object.keys(GPU_FAMILY_SIZES),
  ...Object.keys(SYSTEM_FAMILY_SIZES),
  "p6",
  "x2iedn",
  "m7g",
  "G5",
  "g5 ",
);
const size = fc.constantFrom(
  "nano",
  "medium",
  "large",
  "xlarge",
  "2xlarge",
  "3xlarge",
  "12xlarge",
  "24xlarge",
  "48xlarge",
  "96xlarge",
  "metal",
  "metal-24xl",
  "XLARGE",
  "",
);
const typeName = fc.oneof(
  fc.tuple(family, size).map(([f, s]) => `${f}.${s}`),
  fc.constantFrom(
    "p5.xlarge",
    "p5.48xlarge",
    "g5",
    "g5..xlarge",
    "g5.xlarge.big",
    "m7i.large",
    "g6e.16xlarge",
    "g4dn.metal",
  ),
  fc.string({ maxLength: 16 }),
);

/** The verdict expected from the tables: refused unless the family is known for this use and has the size. */
function expected(type: string, table: Readonly<Record<string, readonly string[]>>): "refused" | "warned" | "clean" {
  const t = type.trim();
  const m = INSTANCE_TYPE_NAME.exec(t);
  if (!m || !table[m.groups!.family]?.includes(m.groups!.size)) return "refused";
  return INSTANCE_PRICES[t] ? "clean" : "warned";
}

const seen = { refused: 0, warned: 0, clean: 0 };
afterAll(() =>
  console.log(
    `instance types property: ${seen.refused + seen.warned + seen.clean} generated types per use (${JSON.stringify(seen)}), numRuns ${RUNS}`,
  ),
);

test("a GPU pool's instance type is refused, warned about or accepted as the catalog says, naming its key", () => {
  fc.assert(
    fc.property(typeName, (type) => {
      const { config, problems } = outcome({
        "kiln:platform": "aws",
        "kiln:gpuPools": JSON.stringify([{ name: "a", maxGpus: 8, instanceTypes: [type] }]),
        "kiln:trainer": JSON.stringify({ defaultGpus: 1 }),
      });
      const want = expected(type, GPU_FAMILY_SIZES);
      seen[want]++;
      if (want === "refused")
        expect(problems).toEqual([
          expect.stringMatching(
            /^kiln:gpuPools\[0\]\.instanceTypes\[0\]: '.*' (is not an EC2 instance type name|is not of a family Kiln knows|does not exist: )/,
          ),
        ]);
      else {
        expect(problems).toEqual([]);
        expect(config!.warnings).toEqual(
          want === "warned"
            ? [expect.stringMatching(/^kiln:gpuPools\[0\]\.instanceTypes\[0\]: '.*' has no price/)]
            : [],
        );
      }
    }),
    { numRuns: RUNS },
  );
});

test("a system node type is judged by the same grammar against the x86 system families", () => {
  fc.assert(
    fc.property(typeName, (type) => {
      const { config, problems } = outcome({ "kiln:systemNodes": JSON.stringify({ instanceTypes: [type] }) });
      const want = expected(type, SYSTEM_FAMILY_SIZES);
      if (want === "refused")
        expect(problems).toEqual([expect.stringMatching(/^kiln:systemNodes\.instanceTypes\[0\]: /)]);
      else expect([problems, config!.warnings.length]).toEqual([[], want === "warned" ? 1 : 0]);
    }),
    { numRuns: RUNS },
  );
});

const quantity = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 0, max: 5000 }),
      fc.constantFrom("", "k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "Pi"),
    )
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom("0", "0Gi", "0.0Ti", "1Ei", "-1Gi", "20 Gi", "1e3Gi"),
);

test("MinIO's storage is refused when zero, tiny or absurd (1Gi to 100Ti), naming kiln:objectStore.minioStorage", () => {
  fc.assert(
    fc.property(quantity, (q) => {
      const { problems } = outcome({ "kiln:objectStore": JSON.stringify({ minioStorage: q }) });
      const bytes = quantityBytes(q);
      const ok = bytes !== undefined && bytes >= 2 ** 30 && bytes <= 100 * 2 ** 40;
      expect(problems.length === 0).toBe(ok);
      for (const p of problems) expect(p).toMatch(/^kiln:objectStore\.minioStorage: /);
    }),
    { numRuns: RUNS },
  );
});

describe("the issue's examples", () => {
  test("p5.xlarge does not exist, for a GPU pool; m7i.large is no GPU type", () => {
    const { problems } = outcome({
      "kiln:platform": "aws",
      "kiln:gpuPools": JSON.stringify([{ name: "h100", maxGpus: 8, instanceTypes: ["p5.xlarge"] }]),
    });
    expect(problems).toEqual([
      "kiln:gpuPools[0].instanceTypes[0]: 'p5.xlarge' does not exist: p5 comes in 4xlarge, 48xlarge",
    ]);
  });

  test("a system node type that does not exist, or is a GPU type, is refused", () => {
    expect(outcome({ "kiln:systemNodes": '{"instanceTypes":["m7i.huge"]}' }).problems).toEqual([
      expect.stringMatching(/^kiln:systemNodes\.instanceTypes\[0\]: 'm7i\.huge' is not an EC2 instance type name/),
    ]);
    expect(outcome({ "kiln:systemNodes": '{"instanceTypes":["m7i.3xlarge"]}' }).problems).toEqual([
      expect.stringContaining("'m7i.3xlarge' does not exist: m7i comes in large, xlarge"),
    ]);
    expect(outcome({ "kiln:systemNodes": '{"instanceTypes":["g5.xlarge"]}' }).problems).toEqual([
      expect.stringContaining("a GPU family: system nodes are x86 CPU types"),
    ]);
  });

  test("an unpriced but valid type is accepted with a warning", () => {
    const { config } = outcome({ "kiln:systemNodes": '{"instanceTypes":["c6i.large"]}' });
    expect(config!.warnings).toEqual([
      "kiln:systemNodes.instanceTypes[0]: 'c6i.large' has no price in infra/catalog/prices.ts: the plan's $/h and kW leave it out",
    ]);
  });

  test("an empty object-store region is refused", () => {
    for (const region of ["", " "]) {
      // Pulumi's "" means unset for a top-level key; inside the object it is a value.
      expect(outcome({ "kiln:objectStore": JSON.stringify({ region }) }).problems).toEqual([
        expect.stringMatching(/^kiln:objectStore\.region: is empty: an S3 client signs every request for a region/),
      ]);
    }
  });

  test("zero and absurd storage sizes are refused", () => {
    expect(outcome({ "kiln:objectStore": '{"minioStorage":"0Gi"}' }).problems).toEqual([
      "kiln:objectStore.minioStorage: '0Gi' is zero: minioStorage is 1Gi to 100Ti",
    ]);
    expect(outcome({ "kiln:objectStore": '{"minioStorage":"900Ti"}' }).problems).toEqual([
      "kiln:objectStore.minioStorage: '900Ti' is absurdly large: minioStorage is 1Gi to 100Ti",
    ]);
    expect(outcome({ "kiln:systemNodes": '{"diskGiB":0}' }).problems).toEqual([
      expect.stringMatching(/^kiln:systemNodes\.diskGiB: /),
    ]);
  });
});

test("the catalog covers every priced type and every GPU family", () => {
  expect(Object.keys(GPU_FAMILY_SIZES).sort()).toEqual(Object.keys(GPU_FAMILIES).sort());
  for (const t of Object.keys(INSTANCE_PRICES)) {
    const m = INSTANCE_TYPE_NAME.exec(t)!;
    const table = INSTANCE_PRICES[t].gpus > 0 ? GPU_FAMILY_SIZES : SYSTEM_FAMILY_SIZES;
    expect([t, table[m.groups!.family]?.includes(m.groups!.size)]).toEqual([t, true]);
  }
});
