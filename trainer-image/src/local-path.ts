/**
 * THE check of a local path a user gives (the plugin's --spec/--template, the plan's --out/--against, the
 * trainer's local output.uri and dataset.uri), before anything opens it. It only stats, so it never blocks:
 * a FIFO is refused, not opened. It also makes directories without Node's recursive mkdir, which loops
 * forever under /proc (mkdir there answers ENOENT, so it retries the parent, which exists, and again).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** What the path is for: a file read or written, a directory read or written into. */
export type PathUse = "read-file" | "write-file" | "read-dir" | "write-dir";

/** Kernel file systems: their entries are not files a user's data belongs in. */
const KERNEL_ROOTS = ["/proc", "/sys", "/dev"];
/** statfs magic numbers of kernel file systems mounted elsewhere (proc, sysfs, cgroup, cgroup2, debugfs, tracefs, securityfs). */
const KERNEL_FS_TYPES = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673]);

/** A user's path that cannot be used; the message names the flag or field and the fix. */
export class LocalPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalPathError";
  }
}

function kind(st: fs.Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (reading it would wait for a writer forever)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "not a regular file";
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

/** The path itself, or its nearest ancestor that exists, with its stats. */
function nearestExisting(p: string): { at: string; st: fs.Stats } {
  for (let at = p; ; at = path.dirname(at)) {
    const st = statOrUndefined(at);
    if (st) return { at, st };
    if (path.dirname(at) === at) throw new LocalPathError(`${p}: no part of it exists`);
  }
}

/** Why `at` (an existing path) lies on a kernel file system, or undefined. */
function kernelFs(at: string): string | undefined {
  const real = fs.realpathSync(at);
  const root = KERNEL_ROOTS.find((r) => real === r || real.startsWith(`${r}/`));
  if (root) return `is under ${root}, a kernel file system, not a place for files`;
  try {
    if (KERNEL_FS_TYPES.has(Number(fs.statfsSync(real).type)))
      return `is on a kernel file system (${real}), not a place for files`;
  } catch {
    // statfs unsupported here: the prefix check above stands.
  }
  return undefined;
}

/** Why `p` cannot be used for `use`, or undefined. Relative paths are taken from the working directory. */
export function localPathProblem(p: string, use: PathUse): string | undefined {
  if (p.trim() === "") return "is empty: give a path";
  if (p.includes("\0")) return "contains a NUL character";
  const abs = path.resolve(p);
  let found: ReturnType<typeof nearestExisting>;
  try {
    found = nearestExisting(abs);
  } catch (err) {
    return err instanceof LocalPathError
      ? "does not exist"
      : `cannot be checked (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const special = kernelFs(found.at);
  if (special) return special;
  const wantsDir = use === "read-dir" || use === "write-dir";
  if (found.at === abs) {
    if (wantsDir && !found.st.isDirectory())
      return `is ${found.st.isFile() ? "a file" : kind(found.st)}; a directory is meant`;
    if (!wantsDir && !found.st.isFile())
      return `is ${kind(found.st)}; a file is meant${found.st.isDirectory() && use === "write-file" ? ` (e.g. ${path.join(p, "plan.json")})` : ""}`;
    if (use.startsWith("write")) return writable(found.at, abs);
    return undefined;
  }
  if (use.startsWith("read")) return "does not exist";
  if (!found.st.isDirectory())
    return `cannot be created: ${found.at} is ${found.st.isFile() ? "a file" : kind(found.st)}, not a directory`;
  return writable(found.at, abs);
}

function writable(at: string, abs: string): string | undefined {
  try {
    fs.accessSync(at, fs.constants.W_OK);
    return undefined;
  } catch {
    return at === abs ? "is not writable by this user" : `cannot be created: ${at} is not writable by this user`;
  }
}

/** `p` resolved, or a LocalPathError `<what> <p>: <problem>`. */
export function checkLocalPath(what: string, p: string, use: PathUse): string {
  const problem = localPathProblem(p, use);
  if (problem) throw new LocalPathError(`${what} ${p.length > 200 ? `${p.slice(0, 200)}...` : p}: ${problem}`);
  return path.resolve(p);
}

/**
 * `mkdir -p` that always ends: creates each missing directory under the nearest existing ancestor with a
 * plain mkdir (a kernel file system refuses it with an error instead of a loop), after the same checks.
 */
export function makeDirs(dir: string): void {
  const abs = path.resolve(dir);
  const problem = localPathProblem(abs, "write-dir");
  if (problem) throw new LocalPathError(`${abs}: ${problem}`);
  const missing: string[] = [];
  for (let at = abs; !statOrUndefined(at); at = path.dirname(at)) missing.unshift(at);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || !statOrUndefined(d)?.isDirectory())
        throw new LocalPathError(
          `${abs}: cannot create ${d} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
    }
  }
}
