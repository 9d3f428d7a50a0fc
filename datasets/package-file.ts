/** Finds a file inside an installed package even when the package's "exports" hide it. */
import { existsSync } from "node:fs";
import * as path from "node:path";

export function packageFile(pkg: string, file: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const candidate = path.join(dir, pkg, file);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${pkg}/${file} not found: run npm ci (it is a devDependency of the repo root)`);
}
