/**
 * Backend selection: tfjs-node-gpu -> tfjs-node -> wasm -> cpu, or the one KILN_BACKEND names.
 * The wasm binaries are loaded from node_modules (no network).
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export const BACKENDS = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  /** What was chosen: tensorflow-gpu (tfjs-node-gpu), tensorflow (tfjs-node), wasm or cpu. */
  readonly name: BackendName;
  /** tf.getBackend() after selection. */
  readonly tfBackend: string;
  /** Whether an NVIDIA device is visible to the process. */
  readonly gpuFound: boolean;
  /** Whether TensorFlow placed its ops on a GPU (tfjs-node-gpu found a usable device); false for the others. */
  readonly gpuDevice: boolean;
  /** Backends tried before this one and why they were skipped. */
  readonly skipped: Record<string, string>;
}

/** Directory holding tfjs-backend-wasm's .wasm files (with trailing slash). */
export function wasmDir(): string {
  const main = require.resolve("@tensorflow/tfjs-backend-wasm");
  let dir = path.dirname(main);
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return path.join(dir, "dist") + path.sep;
}

function gpuVisible(): boolean {
  return existsSync("/dev/nvidia0") || existsSync("/proc/driver/nvidia/gpus");
}

/** tfjs-node's backend asks TensorFlow whether it created a GPU device (a CUDA build with a usable GPU). */
function usingGpuDevice(): boolean {
  return (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
}

async function tryBackend(name: BackendName): Promise<void> {
  if (name === "tensorflow-gpu" || name === "tensorflow") {
    // tfjs-node(-gpu) registers the "tensorflow" backend with the shared tfjs-core on require.
    require(name === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node");
    if (!(await tf.setBackend("tensorflow"))) throw new Error("tensorflow backend did not initialise");
    return;
  }
  if (name === "wasm") setWasmPaths(wasmDir());
  if (!(await tf.setBackend(name))) throw new Error(`${name} backend did not initialise`);
}

/** Other names people use for the tfjs-node backends. */
const ALIASES: Record<string, BackendName> = {
  "tfjs-node-gpu": "tensorflow-gpu",
  gpu: "tensorflow-gpu",
  "tfjs-node": "tensorflow",
  node: "tensorflow",
};

/** Selects the backend (forced by `requested`, e.g. KILN_BACKEND) and waits until it is ready. */
export async function selectBackend(requested?: string): Promise<BackendInfo> {
  const forced = requested ? (ALIASES[requested] ?? requested) : undefined;
  if (forced !== undefined && !(BACKENDS as readonly string[]).includes(forced)) {
    throw new Error(`KILN_BACKEND="${requested}" is not a backend; use one of ${BACKENDS.join(", ")}`);
  }
  const order: BackendName[] = forced ? [forced as BackendName] : [...BACKENDS];
  const skipped: Record<string, string> = {};
  for (const name of order) {
    try {
      await tryBackend(name);
      await tf.ready();
      return { name, tfBackend: tf.getBackend(), gpuFound: gpuVisible(), gpuDevice: usingGpuDevice(), skipped };
    } catch (err) {
      skipped[name] = (err as Error).message.split("\n")[0];
      if (forced) throw new Error(`KILN_BACKEND=${requested} could not be loaded: ${skipped[name]}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded: ${JSON.stringify(skipped)}`);
}
