/** The tool cache as scripts/toolchain/versions.sh lays it out: the one place tool versions are pinned. */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const VERSIONS = path.resolve(__dirname, "..", "..", "scripts", "toolchain", "versions.sh");

/** Bin directory of `tool`'s pinned version (built by `npm run tools:build`). */
export function toolBinDir(tool: string): string {
  return execFileSync("bash", ["-c", 'source "$0" && tool_bin_dir "$1"', VERSIONS, tool], { encoding: "utf8" }).trim();
}
