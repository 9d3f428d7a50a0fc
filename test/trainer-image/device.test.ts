import type { BackendInfo } from "../../trainer-image/src/backend";
import { describeDevice } from "../../trainer-image/src/run";

const info = (name: BackendInfo["name"], gpuFound: boolean, gpuDevice: boolean): BackendInfo => ({
  name,
  tfBackend: name.startsWith("tensorflow") ? "tensorflow" : name,
  gpuFound,
  gpuDevice,
  skipped: {},
});

describe("the startup line says which device the run got", () => {
  test("tfjs-node-gpu: GPU only when TensorFlow created a GPU device; a visible GPU it could not use is called out", () => {
    expect(describeDevice(info("tensorflow-gpu", true, true))).toBe(
      "GPU (tfjs-node-gpu: TensorFlow created a GPU device)",
    );
    expect(describeDevice(info("tensorflow-gpu", true, false))).toMatch(
      /^CPU: tfjs-node-gpu loaded and an NVIDIA device is visible, but TensorFlow created no GPU device/,
    );
    expect(describeDevice(info("tensorflow-gpu", false, false))).toBe(
      "CPU: tfjs-node-gpu loaded but no NVIDIA device is visible",
    );
  });

  test("the CPU backends say the run is on the CPU, and why when a GPU is visible", () => {
    expect(describeDevice(info("wasm", true, false))).toBe(
      "CPU (wasm backend): an NVIDIA device is visible but this image has no GPU backend",
    );
    expect(describeDevice(info("tensorflow", false, false))).toBe(
      "CPU (tensorflow backend): no NVIDIA device is visible to this process",
    );
  });
});
