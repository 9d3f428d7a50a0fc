/**
 * The tfjs backends the trainer's tests run on: cpu and wasm always, tensorflow (tfjs-node) when its addon
 * is built here (trainer-image/native/install.sh); otherwise the reason is printed once and it is skipped.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { recordSkip } from "../support/skips";

const reported = new Set<string>();
const report = (reason: string) => {
  if (reported.has(reason)) return;
  reported.add(reason);
  console.log(`skipping the tensorflow backend: ${reason}`);
};

/** Why the tensorflow backend (tfjs-node, or tfjs-node-gpu with `gpu`) cannot run here, or undefined when it can. */
export function tensorflowMissing(variant: "cpu" | "gpu" = "cpu"): string | undefined {
  const name = variant === "gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
  let pkg: string;
  try {
    pkg = path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return `${name} is not installed (npm ci --include=optional --ignore-scripts)`;
  }
  const napi = Math.min(8, Number(process.versions.napi));
  const addon = path.join(pkg, "lib", `napi-v${napi}`, "tfjs_binding.node");
  if (!existsSync(addon))
    return `its addon ${path.relative(process.cwd(), addon)} is not built (trainer-image/native/install.sh ${variant} builds it)`;
  return undefined;
}

/**
 * Backends to run a test on. In jest, tfjs-node's typed arrays come from the process's realm, not the
 * test's VM context: test/support/node-realm-environment.js makes them one, so in-process tests run it too.
 */
export function testBackends(): string[] {
  const base = ["cpu", "wasm"];
  const missing = tensorflowMissing();
  if (missing && !reported.has(missing))
    recordSkip({
      what: "the trainer's tests on the tensorflow backend",
      missing,
      enable: "npm run native -w trainer-image",
    });
  if (missing) report(missing);
  return missing ? base : [...base, "tensorflow"];
}
