/**
 * @kiln/trainer's public API: what other rooms (the plugin, its dashboard) may use of the trainer. Anything
 * not exported here is the trainer's own; test/layout/imports.test.ts refuses imports around this file.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export { resolveRunSpec } from "./loadSpec";
export { parseQuantity } from "./quantity";
export { openStore, type RetryOptions, type Store } from "./storage";
export { parseYaml, parseYamlDocuments } from "./yaml";
export { applyOverrides, parseRunSpec, RunSpecError, type RunSpec } from "./spec";

/** The trainer's release version (its package.json): the program's default image tag. */
export function trainerVersion(): string {
  // Read, not imported: the trainer's build (rootDir src) cannot import its own package.json.
  const manifest = path.join(__dirname, "..", "package.json");
  return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
}
export { checkLocalPath, LocalPathError, localPathProblem, makeDirs, type PathUse } from "./local-path";
export { tooDeep } from "./yaml-depth";
export { mulberry32 } from "./rng";
