/**
 * Sweep grids: `--set path=v1,v2` flags -> the cartesian product, keys in alphabetical order and the
 * last key varying fastest (the same order as charts/trainer's sweep.values), element i applied when
 * JOB_COMPLETION_INDEX=i.
 */
import { parse } from "yaml";
import { clip } from "../../contract/text";
import { UsageError } from "./errors";
import { applyOverrides, type RunSpec, RunSpecError } from "./runspec";

export type Scalar = string | number | boolean;

const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** A value as YAML reads it: 0.01 -> number, true -> boolean, "32" (quoted) -> string. */
function scalar(text: string, flag: string): Scalar {
  let v: unknown;
  try {
    v = parse(text);
  } catch {
    v = undefined;
  }
  if (v === null || v === undefined || typeof v === "object")
    throw new UsageError(`--set ${clip(flag, 60)}: value "${clip(text, 60)}" must be a number, boolean or string`);
  return v as Scalar;
}

/**
 * The items of a `--set` value: comma-separated, where a comma inside "double" or 'single' quotes, or written
 * `\,`, belongs to its item. A quoted item is a string (YAML's quoting: `\"` inside double quotes, `''` inside
 * single ones). A value that opens with `[` is instead one YAML/JSON list: `["a,b", "c"]`.
 */
export function splitSetValue(text: string, flag: string): string[] {
  const items: string[] = [];
  let item = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      item += ch;
      if (quote === '"' && ch === "\\") item += text[++i] ?? "";
      else if (ch === quote && quote === "'" && text[i + 1] === "'") item += text[++i];
      else if (ch === quote) quote = undefined;
    } else if ((ch === '"' || ch === "'") && item.trim() === "") {
      quote = ch;
      item += ch;
    } else if (ch === "\\" && text[i + 1] === ",") {
      item += ",";
      i++;
    } else if (ch === ",") {
      items.push(item.trim());
      item = "";
    } else item += ch;
  }
  if (quote)
    throw new UsageError(
      `--set ${clip(flag, 60)}: a ${quote === '"' ? "double" : "single"} quote is not closed; quote a value that holds a comma, e.g. --set 'dataset.target="a,b",c'`,
    );
  items.push(item.trim());
  return items;
}

/** The values of one `--set` flag: a YAML/JSON list when it opens with `[`, else the quoted comma-separated form. */
function setValues(text: string, flag: string): Scalar[] {
  if (text.trimStart().startsWith("[")) {
    let list: unknown;
    try {
      list = parse(text);
    } catch (err) {
      throw new UsageError(
        `--set ${clip(flag, 60)}: the list is not YAML/JSON (${(err as Error).message.split("\n")[0]}); e.g. --set 'dataset.target=["a,b","c"]'`,
      );
    }
    if (!Array.isArray(list) || list.length === 0 || list.some((v) => v === null || typeof v === "object"))
      throw new UsageError(
        `--set ${clip(flag, 60)}: a list value must be a non-empty list of numbers, booleans or strings, e.g. ["a,b","c"]`,
      );
    return list as Scalar[];
  }
  const items = splitSetValue(text, flag);
  if (items.some((s) => s === "")) throw new UsageError(`--set ${clip(flag, 60)}: empty value in the list`);
  return items.map((s) => scalar(s, flag));
}

/** `["a.b=1,2", "c=x"]` -> {"a.b": [1, 2], c: ["x"]}; see splitSetValue for commas inside a value. */
export function parseSetFlags(flags: readonly string[]): Record<string, Scalar[]> {
  if (flags.length === 0)
    throw new UsageError("sweep needs at least one --set path=v1,v2 (e.g. --set training.batchSize=32,64)");
  const out: Record<string, Scalar[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0)
      throw new UsageError(
        `--set ${clip(flag, 60)}: expected path=v1,v2,... (e.g. training.optimizer.learningRate=0.001,0.01)`,
      );
    const path = flag.slice(0, eq).trim();
    if (!PATH.test(path))
      throw new UsageError(
        `--set ${clip(flag, 60)}: "${clip(path, 60)}" is not a dotted run-spec path such as training.batchSize`,
      );
    if (path in out)
      throw new UsageError(`--set ${clip(path, 60)} is given twice: list all its values once, comma-separated`);
    out[path] = setValues(flag.slice(eq + 1), flag);
  }
  return out;
}

/** Most grid points one sweep Job may have (each is a completion index and an entry of KILN_SWEEP_OVERRIDES). */
export const MAX_GRID_POINTS = 1000;

/** Cartesian product of the value lists: keys sorted, last key fastest. Its size is checked before it is built. */
export function sweepGrid(values: Record<string, readonly Scalar[]>): Record<string, Scalar>[] {
  const size = Object.values(values).reduce((n, list) => n * list.length, 1);
  if (size > MAX_GRID_POINTS)
    throw new UsageError(
      `the sweep grid has ${size > 1e15 ? "more than 10^15" : size} points (${Object.entries(values)
        .map(([k, v]) => `${k}: ${v.length}`)
        .join(" x ")}); the limit is ${MAX_GRID_POINTS}: split it into several sweeps`,
    );
  let grid: Record<string, Scalar>[] = [{}];
  for (const path of Object.keys(values).sort()) {
    grid = grid.flatMap((point) => values[path].map((v) => ({ ...point, [path]: v })));
  }
  return grid;
}

/** Validates every grid point against the trainer's schema; one RunSpecError naming each bad point. */
export function validateGrid(spec: RunSpec | object, grid: readonly Record<string, Scalar>[]): void {
  const problems: string[] = [];
  grid.forEach((point, i) => {
    try {
      applyOverrides(spec as RunSpec, point);
    } catch (err) {
      if (!(err instanceof RunSpecError)) throw err;
      for (const p of err.problems) problems.push(`grid point ${i} ${JSON.stringify(point)}: ${p}`);
    }
  });
  if (problems.length) throw new RunSpecError(problems);
}
