// jest's node environment with the process's own typed-array and ArrayBuffer constructors. Native
// addons (tfjs-node) return typed arrays made in the process's realm, which fail `instanceof Float32Array`
// against the copies jest's VM context has ("Unsupported TypedArray subtype: Float32Array" in tfjs-core).
const { TestEnvironment } = require("jest-environment-node");

const SHARED = [
  "ArrayBuffer",
  "SharedArrayBuffer",
  "DataView",
  "Float32Array",
  "Float64Array",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
