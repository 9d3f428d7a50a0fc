/** Minimal CSV writing for generated datasets (quotes fields containing , " or newlines). */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export type Cell = string | number | null | undefined;

const field = (v: Cell) => {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function toCsv(columns: string[], rows: Cell[][]): string {
  return `${[columns, ...rows].map((r) => r.map(field).join(",")).join("\n")}\n`;
}

/** `--out FILE` writes the CSV there; otherwise it goes to stdout. */
export function writeCsvCli(csv: string, argv = process.argv.slice(2)): void {
  const i = argv.indexOf("--out");
  if (i >= 0 && argv[i + 1]) {
    mkdirSync(path.dirname(path.resolve(argv[i + 1])), { recursive: true });
    writeFileSync(argv[i + 1], csv);
    console.error(`wrote ${argv[i + 1]} (${csv.split("\n").length - 2} rows)`);
  } else {
    process.stdout.write(csv);
  }
}
