/**
 * The chart README's values table, generated from the `# --` comments of charts/trainer/values.yaml
 * (helm-docs style). Print it with: npx ts-node test/charts/trainer/values-table.ts
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface ValueDoc {
  /** Dotted key path, e.g. `image.tag`. */
  readonly key: string;
  readonly description: string;
  /** Default as compact JSON. */
  readonly default: string;
}

const COMMENT = /^(\s*)# -- (.*)$/;
const KEY = /^(\s*)([A-Za-z_][A-Za-z0-9_.-]*):(\s|$)/;

/** Every key preceded by a `# --` comment, in file order. */
export function documentedValues(valuesYaml: string): ValueDoc[] {
  const values = parse(valuesYaml) as Record<string, unknown>;
  const docs: ValueDoc[] = [];
  const stack: { indent: number; key: string }[] = [];
  let pending: { indent: number; text: string } | undefined;
  for (const line of valuesYaml.split("\n")) {
    const c = COMMENT.exec(line);
    if (c) {
      pending = { indent: c[1].length, text: c[2].trim() };
      continue;
    }
    const k = KEY.exec(line);
    if (!k) {
      // Blank lines and plain comments keep a pending `# --` comment; anything else drops it.
      if (line.trim() !== "" && !line.trim().startsWith("#")) pending = undefined;
      continue;
    }
    const indent = k[1].length;
    while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
    stack.push({ indent, key: k[2] });
    const keyPath = stack.map((s) => s.key);
    if (pending && pending.indent === indent) {
      const value = keyPath.reduce<unknown>((o, key) => (o as Record<string, unknown>)[key], values);
      docs.push({ key: keyPath.join("."), description: pending.text, default: JSON.stringify(value) });
    }
    pending = undefined;
  }
  return docs;
}

/** Markdown table of the documented values; objects with documented children are listed as sections only. */
export function valuesTable(valuesYaml: string): string {
  const docs = documentedValues(valuesYaml);
  const parents = new Set(docs.flatMap((d) => docs.filter((o) => o.key.startsWith(`${d.key}.`)).map(() => d.key)));
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const rows = docs.map(
    (d) =>
      `| \`${d.key}\` | ${parents.has(d.key) ? "" : `\`${esc(d.default.length > 60 ? `${d.default.slice(0, 57)}...` : d.default)}\``} | ${esc(d.description)} |`,
  );
  return ["| Key | Default | Description |", "|-----|---------|-------------|", ...rows].join("\n");
}

export const VALUES_FILE = path.resolve(__dirname, "../../../charts/trainer/values.yaml");

if (require.main === module) {
  process.stdout.write(`${valuesTable(fs.readFileSync(VALUES_FILE, "utf8"))}\n`);
}
