/**
 * @kiln/trainer's public API: what other rooms (the plugin, its dashboard) may use of the trainer. Anything
 * not exported here is the trainer's own; test/layout/imports.test.ts refuses imports around this file.
 */
export { clip } from "./clip";
export { resolveRunSpec } from "./loadSpec";
export { parseQuantity } from "./quantity";
export { openStore, type RetryOptions, type Store } from "./storage";
export { parseYaml, parseYamlDocuments } from "./yaml";
export { applyOverrides, parseRunSpec, RunSpecError, type RunSpec } from "./spec";
