/** The house's import rules, read from the sources: product code never imports test code. */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const PRODUCT = ["infra", "cli", "policy", "scripts", "trainer-image/src", "trainer-image/bench"];

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "dist" ? [] : tsFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Relative module specifiers of import/require/dynamic import statements. */
function relativeImports(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g)) out.push(m[1]);
  return out;
}

test("no product file imports from test/", () => {
  const files = PRODUCT.flatMap((d) => tsFiles(path.join(ROOT, d)));
  expect(files.length).toBeGreaterThan(100);
  const offenders = files.flatMap((f) =>
    relativeImports(fs.readFileSync(f, "utf8"))
      .filter((spec) => path.relative(ROOT, path.resolve(path.dirname(f), spec)).split(path.sep)[0] === "test")
      .map((spec) => `${path.relative(ROOT, f)} imports ${spec}`),
  );
  expect(offenders).toEqual([]);
});

test("the check sees a test import when there is one", () => {
  expect(relativeImports(`import { x } from "../../test/mocks";\nconst y = require("./z");`)).toEqual(["../../test/mocks", "./z"]);
});
