/**
 * The toolchain build's progress: reference-times.tsv is the one source of the cold build times (the
 * README's table says the same, every tool of build.sh has a row), and a build with a fake `go` prints,
 * per tool, its place in the queue, its reference time and the time left.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const TOOLCHAIN = path.join(ROOT, "scripts/toolchain");

/** tool -> {seconds, readme row label} from reference-times.tsv. */
function referenceTimes(): Map<string, { seconds: number; readme: string }> {
  const rows = fs
    .readFileSync(path.join(TOOLCHAIN, "reference-times.tsv"), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"));
  return new Map(
    rows.map((l) => {
      const [tool, seconds, readme, ...rest] = l.split("\t");
      if (!tool || !/^\d+$/.test(seconds) || !readme || rest.length)
        throw new Error(`reference-times.tsv: bad row '${l}' (want tool<TAB>seconds<TAB>README row)`);
      return [tool, { seconds: Number(seconds), readme }];
    }),
  );
}

/** The README's cold build table: first cell -> seconds ("< 1 s" is 1). */
function readmeTimes(): Map<string, number> {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("| tool | version | cold build |"));
  const rows = table.split("\n").slice(2);
  const out = new Map<string, number>();
  for (const row of rows) {
    if (!row.startsWith("|")) break;
    const cells = row.split("|").map((c) => c.trim());
    const m = /^(<\s*)?(\d[\d,]*) s\b/.exec(cells[3]);
    if (m) out.set(cells[1], Number(m[2].replace(/,/g, "")));
  }
  return out;
}

const allTools = (): string[] =>
  /^ALL_TOOLS=\(([^)]*)\)/m
    .exec(fs.readFileSync(path.join(TOOLCHAIN, "build.sh"), "utf8"))![1]
    .trim()
    .split(/\s+/);

function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
}

describe("reference build times", () => {
  test("every tool build.sh builds has a reference time", () => {
    const times = referenceTimes();
    expect(allTools().filter((t) => !times.has(t))).toEqual([]);
  });

  test("the README's table of cold build times says what reference-times.tsv says", () => {
    const readme = readmeTimes();
    for (const [tool, { seconds, readme: row }] of referenceTimes()) {
      expect({ tool, row, seconds: readme.get(row) }).toEqual({ tool, row, seconds });
    }
  });

  test("a cold build prints each tool's place in the queue, its reference time and the time left", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-eta-"));
    // A fake go: `go build -o OUT` and `go install` (GOBIN) write an executable after a short while.
    write(
      path.join(dir, "bin/go"),
      `#!/bin/bash
case "$1" in
  mod) exit 0 ;;
  build) while [[ $# -gt 0 ]]; do [[ $1 == -o ]] && out=$2; shift; done; sleep 2.5; printf '#!/bin/sh\\n' >"$out"; chmod +x "$out" ;;
  install) printf '#!/bin/sh\\n' >"$GOBIN/$(basename "\${@: -1}" | cut -d@ -f1)"; chmod +x "$GOBIN"/* ;;
esac
`,
    );
    const env = {
      ...process.env,
      PATH: `${dir}/bin:${process.env.PATH}`,
      KILN_TOOLS_DIR: `${dir}/tools`,
      KILN_TOOL_LOGS: `${dir}/logs`,
      KILN_TOOL_WORK: `${dir}/work`,
      PROGRESS_EVERY: "1",
    };
    const r = spawnSync("bash", [path.join(TOOLCHAIN, "build.sh"), "etcd", "minio", "actionlint"], {
      encoding: "utf8",
      env,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n");
    // 26 + 122 + 4 s on the reference machine.
    expect(lines[0]).toBe(
      "build: 3 tools to build from the Go module proxy (etcd minio actionlint): 2 min 32 s on the 2-core reference machine",
    );
    expect(r.stderr).toMatch(
      /\] \[1\/3\] etcd v3\.6\.16: building, reference 26 s on the 2-core reference machine, 2 min 32 s left in all \(log: /,
    );
    expect(r.stderr).toMatch(/\] etcd: building\.\.\. [12]s \(reference 26 s\), 2 min 3[01] s left in all, /);
    expect(r.stderr).toMatch(/\] etcd: built in \d+s \(reference 26 s\) -> /);
    // After etcd, this machine's pace (seconds taken / 26) scales what is left: minio's 122 s and actionlint's 4.
    expect(r.stderr).toMatch(
      /\] \[2\/3\] minio .*: building, reference 2 min 2 s on the 2-core reference machine, \d+ s left in all/,
    );
    expect(r.stderr).toMatch(
      /\] \[3\/3\] actionlint .*: building, reference 4 s on the 2-core reference machine, 0 s left in all/,
    );
  });
});
