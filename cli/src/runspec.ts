/** The trainer's own run-spec schema, shared (not copied) with the plugin. */
export { applyOverrides, parseRunSpec, RunSpecError, type RunSpec } from "../../trainer-image/src/api";
