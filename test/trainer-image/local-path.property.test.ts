/**
 * Class 7 of issue 26: one local-path check (trainer-image/src/local-path.ts) for every path a user gives:
 * directories where a file is meant, special files (/proc, /sys, /dev, FIFOs, sockets, devices) and paths
 * that cannot be created are refused, from stat alone, so nothing hangs; directories are made without Node's
 * recursive mkdir, which loops forever under /proc.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { localPathProblem, LocalPathError, makeDirs, type PathUse } from "../../trainer-image/src/local-path";
import { localPathProblems } from "../../trainer-image/src/main";

const RUNS = Number(process.env.KILN_PROPERTY_RUNS ?? 1000);

let root: string;
let server: net.Server;

/** What each fixture is, as the oracle sees it. */
type Kind = "file" | "dir" | "fifo" | "socket" | "chardev" | "kernel" | "missing";
const fixtures: Record<string, Kind> = {};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-paths-"));
  fs.writeFileSync(path.join(root, "file.txt"), "x");
  fs.mkdirSync(path.join(root, "dir"));
  execFileSync("mkfifo", [path.join(root, "fifo")]);
  server = net.createServer();
  await new Promise<void>((r) => server.listen(path.join(root, "sock"), r));
  fs.symlinkSync("/proc/self", path.join(root, "link-to-proc"));
  Object.assign(fixtures, {
    [path.join(root, "file.txt")]: "file",
    [path.join(root, "dir")]: "dir",
    [path.join(root, "fifo")]: "fifo",
    [path.join(root, "sock")]: "socket",
    [path.join(root, "link-to-proc")]: "kernel",
    [path.join(root, "nothing-here")]: "missing",
    "/proc": "kernel",
    "/proc/self/status": "kernel",
    "/proc/kiln-x": "kernel",
    "/sys/kernel": "kernel",
    "/dev/null": "kernel",
    "/dev/zero": "kernel",
    "/dev/shm": "kernel",
  });
});

afterAll(() => {
  server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const uses: PathUse[] = ["read-file", "write-file", "read-dir", "write-dir"];

/** The verdict from what the fixture is and how many missing segments follow it. */
function expected(kind: Kind, extra: number, use: PathUse): RegExp | undefined {
  if (kind === "kernel") return /kernel file system/;
  const wantsDir = use.endsWith("dir");
  const reading = use.startsWith("read");
  if (extra === 0 && kind !== "missing") {
    if (kind === "dir") return wantsDir ? undefined : /is a directory; a file is meant/;
    if (kind === "file") return wantsDir ? /is a file; a directory is meant/ : undefined;
    return new RegExp(`is a ${kind === "fifo" ? "FIFO" : kind}`);
  }
  // The path does not exist: a reader has nothing, a writer creates it under an existing directory.
  if (reading) return /does not exist/;
  if (kind === "dir" || kind === "missing") return undefined;
  return /cannot be created: .* is (a file|a FIFO|a socket)/;
}

let refused = 0;
let accepted = 0;
afterAll(() =>
  console.log(
    `local-path property: ${refused + accepted} generated (path, use) pairs, ${refused} refused, ${accepted} accepted; numRuns ${RUNS}`,
  ),
);

test("every path is judged from stat alone, as its kind and use say, quickly", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(fixtures)),
      fc.array(
        fc.stringMatching(/^[a-z0-9._-]{1,8}$/).filter((s) => s !== "." && s !== ".."),
        { maxLength: 3 },
      ),
      fc.constantFrom(...uses),
      (base, extra, use) => {
        const p = path.join(base, ...extra);
        const t0 = Date.now();
        const problem = localPathProblem(p, use);
        expect(Date.now() - t0).toBeLessThan(500);
        const want = expected(fixtures[base], extra.length, use);
        if (want === undefined) {
          expect(problem).toBeUndefined();
          accepted++;
        } else {
          expect(problem).toMatch(want);
          refused++;
        }
      },
    ),
    { numRuns: RUNS },
  );
});

test("makeDirs always ends: it creates under a real directory and refuses kernel file systems", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("tmp", "/proc", "/proc/self", "/sys", "/dev"),
      fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 }),
      (base, segments) => {
        const at = base === "tmp" ? fs.mkdtempSync(path.join(root, "mk-")) : base;
        const dir = path.join(at, ...segments);
        if (base === "tmp") {
          makeDirs(dir);
          expect(fs.statSync(dir).isDirectory()).toBe(true);
        } else expect(() => makeDirs(dir)).toThrow(LocalPathError);
      },
    ),
    { numRuns: RUNS },
  );
});

test("the issue's examples: an output under /proc, a FIFO, a directory where a file is meant", () => {
  expect(localPathProblem("/proc/kiln/plan.json", "write-file")).toBe(
    "is under /proc, a kernel file system, not a place for files",
  );
  expect(() => makeDirs("/proc/kiln/runs")).toThrow(
    "/proc/kiln/runs: is under /proc, a kernel file system, not a place for files",
  );
  expect(localPathProblem(path.join(root, "fifo"), "read-file")).toBe(
    "is a FIFO (reading it would wait for a writer forever); a file is meant",
  );
  expect(localPathProblem(path.join(root, "dir"), "write-file")).toBe(
    `is a directory; a file is meant (e.g. ${path.join(root, "dir", "plan.json")})`,
  );
  expect(localPathProblem(path.join(root, "file.txt", "x", "plan.json"), "write-file")).toBe(
    `cannot be created: ${path.join(root, "file.txt")} is a file, not a directory`,
  );
});

describe("the trainer's spec paths (main.ts): every dataset.uri form the README documents stays valid", () => {
  const spec = (dataset: string, output: string) =>
    ({ dataset: { uri: dataset }, output: { uri: output } }) as Parameters<typeof localPathProblems>[0];

  test("a file, a directory, a prefix and a glob are read; s3:// is the store's to judge", () => {
    for (const uri of [
      path.join(root, "file.txt"),
      path.join(root, "dir"),
      `${path.join(root, "dir")}/`,
      path.join(root, "fi"),
      `${root}/*.txt`,
      `${root}/{a,b}.csv`,
      `file:${path.join(root, "file.txt")}`,
      "s3://d/x/",
    ])
      expect([uri, localPathProblems(spec(uri, path.join(root, "out")))]).toEqual([uri, []]);
  });

  test("special files, missing directories and an output that is a file are named by field", () => {
    expect(localPathProblems(spec(path.join(root, "fifo"), "/proc/kiln"))).toEqual([
      "output.uri: /proc/kiln is under /proc, a kernel file system, not a place for files",
      `dataset.uri: ${path.join(root, "fifo")} is a FIFO (reading it would wait for a writer forever); a file is meant`,
    ]);
    expect(localPathProblems(spec("/nonexistent-kiln/part-", path.join(root, "file.txt")))).toEqual([
      `output.uri: ${path.join(root, "file.txt")} is a file; a directory is meant`,
      "dataset.uri: /nonexistent-kiln does not exist",
    ]);
  });
});
