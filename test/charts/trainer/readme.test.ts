import * as fs from "node:fs";
import * as path from "node:path";
import { documentedValues, VALUES_FILE, valuesTable } from "./values-table";

const CHART = path.dirname(VALUES_FILE);
const valuesYaml = fs.readFileSync(VALUES_FILE, "utf8");

/** Every property path the schema declares, descending into objects that list their properties. */
function schemaPaths(schema: Record<string, unknown>, prefix = ""): string[] {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).flatMap(([key, sub]) => {
    const p = prefix ? `${prefix}.${key}` : key;
    return [p, ...schemaPaths(sub, p)];
  });
}

describe("charts/trainer README and values documentation", () => {
  test("the README's values table is the one generated from values.yaml", () => {
    const readme = fs.readFileSync(path.join(CHART, "README.md"), "utf8");
    expect(readme).toContain(valuesTable(valuesYaml));
  });

  test("every value the schema declares has a `# --` comment in values.yaml", () => {
    const schema = JSON.parse(fs.readFileSync(path.join(CHART, "values.schema.json"), "utf8"));
    const documented = new Set(documentedValues(valuesYaml).map((d) => d.key));
    const missing = schemaPaths(schema).filter((p) => p !== "global" && !documented.has(p));
    expect(missing).toEqual([]);
  });

  test("toggles (run, sweep) come first in values.yaml", () => {
    const top = documentedValues(valuesYaml).filter((d) => !d.key.includes("."));
    expect(top.slice(0, 2).map((d) => d.key)).toEqual(["run", "sweep"]);
  });

  test("the table generator reads nested keys, defaults and skips undocumented keys", () => {
    const docs = documentedValues("# -- top\na:\n  # -- inner\n  b: 3\n  c: 4\n# plain comment\nd: x\n");
    expect(docs).toEqual([
      { key: "a", description: "top", default: '{"b":3,"c":4}' },
      { key: "a.b", description: "inner", default: "3" },
    ]);
  });
});
