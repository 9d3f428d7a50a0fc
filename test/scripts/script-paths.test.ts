/**
 * Every path a message or a README names under scripts/ (and every trainer-image/ shell script) exists:
 * "install the image tools: bash scripts/image/install-deps.sh" named a script that never did.
 * Read: the README files, the harness and CI scripts, package.json, the workflows, and the TypeScript of
 * the program, the plugin, the accountant, the trainer and the tests (their skip and error messages).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
/** Where messages and documentation live (directories are walked). */
const SOURCES = [
  "README.md",
  "package.json",
  ".ci",
  ".github",
  "scripts",
  "cli",
  "infra",
  "accountant",
  "trainer-image",
  "charts",
  "policy",
  "docs",
  "test",
];
const SKIP_DIRS = new Set(["node_modules", "dist", ".kiln", "coverage", "modules"]);
const TEXT = /\.(md|sh|ts|tsx|js|json|ya?ml|txt|tpl)$|^run$/;

/** `scripts/...` paths of a file (and `trainer-image/...sh`), with no variable or placeholder in them. */
function scriptPaths(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(
    /(?<![\w./$-])((?:scripts|trainer-image)\/[A-Za-z0-9_./-]*[A-Za-z0-9_])(?![\w$<{*])/g,
  )) {
    const p = m[1];
    if (p.startsWith("trainer-image/") && !p.endsWith(".sh")) continue;
    if (p.startsWith("scripts/") && !/\.(sh|ts|js|md|yaml|tsv)$/.test(p) && !p.endsWith("/")) continue;
    found.add(p);
  }
  return [...found];
}

function* files(rel: string): Generator<string> {
  const abs = path.join(ROOT, rel);
  if (!fs.existsSync(abs)) return;
  const stat = fs.statSync(abs);
  if (stat.isFile()) {
    if (TEXT.test(path.basename(rel))) yield rel;
    return;
  }
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    if (entry.isDirectory() && SKIP_DIRS.has(entry.name)) continue;
    yield* files(path.join(rel, entry.name));
  }
}

describe("script paths named in messages and READMEs", () => {
  test("the reader finds a named script, even one that does not exist, and leaves out templated paths", () => {
    const text = `die "'podman' not found; install the image tools: bash scripts/image/install-deps.sh"
      see scripts/toolchain/modules/$1/go.mod, scripts/local/pulumi.sh <command>, ~/.cache/x/scripts/y.sh,
      trainer-image/native/build-tfjs-node.sh and trainer-image/src/spec.ts; \`scripts/plan/README.md\``;
    expect(scriptPaths(text).sort()).toEqual([
      "scripts/image/install-deps.sh",
      "scripts/local/pulumi.sh",
      "scripts/plan/README.md",
      "trainer-image/native/build-tfjs-node.sh",
    ]);
  });

  test("every one of them exists", () => {
    const missing: string[] = [];
    let named = 0;
    for (const source of SOURCES) {
      for (const file of files(source)) {
        if (file === path.join("test", "scripts", "script-paths.test.ts")) continue;
        const text = fs.readFileSync(path.join(ROOT, file), "utf8");
        for (const p of scriptPaths(text)) {
          named++;
          if (!fs.existsSync(path.join(ROOT, p))) missing.push(`${file}: ${p}`);
        }
      }
    }
    expect(named).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });
});
