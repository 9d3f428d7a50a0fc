/**
 * The house's import rules, read from the sources: which room may import which, and through what.
 * A room is a top-level folder (the trainer is two: its program and its bench). The table below is the
 * whole policy; anything not in it is refused, and tests never count (they may import anything).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Room -> the rooms it may import; a room always imports itself. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  // The lowest rooms import nothing: every other room builds on them.
  contract: [],
  datasets: [],
  "trainer-image/src": [],
  "trainer-image/bench": ["trainer-image/src", "datasets"],
  accountant: ["contract"],
  policy: ["contract"],
  infra: ["contract", "trainer-api", "package.json"],
  cli: ["contract", "trainer-api", "package.json"],
  // The harness, the plan and the benchmarks drive the other rooms.
  scripts: ["contract", "datasets", "infra", "policy", "cli-entry", "trainer-api", "package.json"],
};
/** Declared entry points: the only files of a room that another room may name. */
const ENTRY_POINTS: Readonly<Record<string, { room: string; files: readonly string[] }>> = {
  "trainer-api": { room: "trainer-image/src", files: ["trainer-image/src/api.ts"] },
  "cli-entry": { room: "cli", files: ["cli/src/main.ts", "cli/src/context.ts"] },
};
const ROOMS = Object.keys(MAY_IMPORT).sort((a, b) => b.length - a.length);

/** The room of a repository-relative path (the longest room prefix), or its first segment. */
function roomOf(rel: string): string {
  return ROOMS.find((r) => rel === r || rel.startsWith(`${r}/`)) ?? rel.split("/")[0];
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return ["node_modules", "dist", ".kiln"].includes(e.name) ? [] : sourceFiles(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

/** Relative module specifiers of import/export-from/require/dynamic import statements. */
function relativeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) out.push(m[1]);
  return out;
}

/** The file an import names, repository-relative, with the extension it has on disk. */
function resolved(fromFile: string, spec: string): string {
  const abs = path.resolve(path.dirname(fromFile), spec);
  const hit = ["", ".ts", ".tsx", "/index.ts"]
    .map((ext) => abs + ext)
    .find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
  return path
    .relative(ROOT, hit ?? abs)
    .split(path.sep)
    .join("/");
}

/** Why `file` (repository-relative) may not import `target`, or undefined when it may. */
function violation(file: string, target: string): string | undefined {
  const from = roomOf(file);
  const to = roomOf(target);
  if (from === to) return undefined;
  if (!(from in MAY_IMPORT)) return `${file} is in no room of the table`;
  if (to === "test") return `${file} imports test code (${target})`;
  const allowed = MAY_IMPORT[from];
  if (allowed.includes(to)) return undefined;
  if (target === "package.json" && allowed.includes("package.json")) return undefined;
  const entry = Object.entries(ENTRY_POINTS).find(([name, e]) => allowed.includes(name) && e.room === to);
  if (entry)
    return entry[1].files.includes(target)
      ? undefined
      : `${file} imports ${target}: ${to} is reached only through ${entry[1].files.join(", ")}`;
  return `${file} imports ${target}: ${from} may not import ${to}`;
}

function violations(files: readonly string[]): string[] {
  return files.flatMap((f) => {
    const rel = path.relative(ROOT, f).split(path.sep).join("/");
    return relativeImports(fs.readFileSync(f, "utf8"))
      .map((spec) => violation(rel, resolved(f, spec)))
      .filter((v): v is string => v !== undefined);
  });
}

test("every room imports only what the table allows, through declared entry points", () => {
  const files = Object.keys(MAY_IMPORT).flatMap((room) => sourceFiles(path.join(ROOT, room)));
  expect(files.filter((f) => f.endsWith(".tsx")).length).toBeGreaterThan(0);
  expect(new Set(files.map((f) => roomOf(path.relative(ROOT, f)))).size).toBe(Object.keys(MAY_IMPORT).length);
  expect(violations(files)).toEqual([]);
});

test("every top-level folder with TypeScript sources is a room of the table (or test/)", () => {
  const tops = fs
    .readdirSync(ROOT, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !["node_modules", "dist", "test"].includes(e.name))
    .map((e) => e.name)
    .filter((d) => sourceFiles(path.join(ROOT, d)).length > 0);
  const unknown = tops.filter((d) => !ROOMS.some((r) => r === d || r.startsWith(`${d}/`)));
  expect(unknown).toEqual([]);
});

describe("the check refuses planted bad imports", () => {
  const planted = (file: string, source: string) => {
    const dir = fs.mkdtempSync(path.join(ROOT, path.dirname(file), ".planted-"));
    const at = path.join(dir, path.basename(file));
    fs.writeFileSync(at, source);
    try {
      return violations([at]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  test("the accountant reaching into the plugin", () => {
    expect(planted("accountant/src/x.ts", `import { RUN_SELECTOR } from "../../../cli/src/job";`)).toEqual([
      expect.stringMatching(/imports cli\/src\/job\.ts: accountant may not import cli$/),
    ]);
  });

  test("the plugin reaching past the trainer's api, in a .tsx page", () => {
    expect(
      planted("cli/src/dashboard/pages/x.tsx", `import { openStore } from "../../../../../trainer-image/src/storage";`),
    ).toEqual([
      expect.stringMatching(
        /trainer-image\/src\/storage\.ts: trainer-image\/src is reached only through trainer-image\/src\/api\.ts$/,
      ),
    ]);
  });

  test("the contract importing anything, and product code importing tests", () => {
    expect(
      planted("contract/x.ts", `export { x } from "../../infra/config";\nconst t = require("../../test/mocks");`),
    ).toEqual([expect.stringMatching(/contract may not import infra$/), expect.stringMatching(/imports test code/)]);
  });

  test("an allowed import passes", () => {
    expect(
      planted(
        "cli/src/x.ts",
        `import { RUN_LABEL } from "../../../contract/labels";\nimport { clip } from "../../../trainer-image/src/api";`,
      ),
    ).toEqual([]);
  });
});
