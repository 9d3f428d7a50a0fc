/**
 * Pulumi.yaml declares exactly the keys of infra/config.ts's schema, with the same effective
 * defaults and compatible types, so `pulumi config` and the program never disagree.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { configSchema } from "../../infra/config";
import { ROOT } from "../../scripts/plan/engine/program";

interface Declared {
  type?: string;
  default?: unknown;
  description?: string;
  items?: { type?: string };
}

const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
  name: string;
  config: Record<string, Declared>;
};
const shape = configSchema.shape as Record<string, z.ZodType>;
const declared = Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k.replace(/^kiln:/, ""), v]));

/** The value the schema gives a key when the stack does not set it. */
function schemaDefault(key: string): unknown {
  return shape[key].parse(undefined);
}

/** Unwraps default/prefault/optional wrappers to the schema of the value itself. */
function inner(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { unwrap?: () => z.ZodType; def: { innerType?: z.ZodType } };
  while (s.def.innerType) s = s.def.innerType as typeof s;
  return s;
}

function pulumiTypeOf(schema: z.ZodType): string | undefined {
  const s = inner(schema);
  if (s instanceof z.ZodString || s instanceof z.ZodEnum) return "string";
  // Pulumi's project config has no type for a fractional number: such a key is declared untyped.
  if (s instanceof z.ZodNumber) return s.format === "safeint" || s.isInt ? "integer" : undefined;
  if (s instanceof z.ZodBoolean) return "boolean";
  // Pulumi project config types arrays only of primitives; arrays of objects, objects and records stay untyped.
  if (s instanceof z.ZodArray) return pulumiTypeOf((s as z.ZodArray<z.ZodType>).element) ? "array" : undefined;
  return undefined;
}

test("every key is in the kiln namespace", () => {
  expect(Object.keys(project.config).filter((k) => !k.startsWith("kiln:"))).toEqual([]);
});

test("Pulumi.yaml declares exactly the keys of configSchema", () => {
  expect(Object.keys(declared).sort()).toEqual(Object.keys(shape).sort());
});

test("every declared key has a description", () => {
  for (const [key, d] of Object.entries(declared))
    expect([key, typeof d.description === "string" && d.description.length > 10]).toEqual([key, true]);
});

test.each(Object.keys(shape))("kiln:%s has the same default in Pulumi.yaml as in the schema", (key) => {
  const d = declared[key];
  expect(d).toBeDefined();
  const fromSchema = schemaDefault(key);
  if (fromSchema === undefined) {
    // An optional key declares default "" (parseConfig reads "" as unset): a key with no default
    // is one the Pulumi CLI refuses to run without.
    expect(d.default).toBe("");
  } else {
    // Object keys declare `{}` and let the schema fill the rest: what counts is what the program gets.
    expect(d).toHaveProperty("default");
    expect(shape[key].parse(d.default)).toEqual(fromSchema);
    if (typeof fromSchema !== "object") expect(d.default).toEqual(fromSchema);
  }
});

test.each(Object.keys(shape))("kiln:%s declares a type compatible with the schema", (key) => {
  const expected = pulumiTypeOf(shape[key]);
  const d = declared[key];
  if (expected === undefined) expect(d.type).toBeUndefined();
  else expect(d.type).toBe(expected);
  if (expected === "array")
    expect(d.items?.type).toBe(pulumiTypeOf((inner(shape[key]) as z.ZodArray<z.ZodType>).element));
});

test("the whole declared default config is valid and equals the schema's defaults", () => {
  const defaults = Object.fromEntries(
    Object.entries(declared)
      .filter(([, d]) => "default" in d && d.default !== "")
      .map(([k, d]) => [k, d.default]),
  );
  // The local platform (the default) needs a trainer repository, which has no sensible default.
  const trainer = { repository: "registry.test/kiln/trainer" };
  expect(configSchema.parse({ ...defaults, trainer })).toEqual(configSchema.parse({ trainer }));
});
