import * as fs from "fs";
import * as path from "path";
import { GPU_POOL_LABEL, GPU_PRESENT_LABEL, GPU_TAINT } from "../../../infra/contract/gpu";
import { kubeletConfig, nodeLabelsFlag, realNodeSettings, REAL_NODE_LABEL } from "../../../scripts/cluster/real-node";

const ROOT = path.resolve(__dirname, "../../..");
const committed = fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8");
const stack = `config:\n  kiln:trainer: {repository: registry.test/kiln/trainer}\n  kiln:gpuPools:\n    - {name: a10g, maxGpus: 16, gpusPerNode: 8}\n    - {name: l4, maxGpus: 4, gpusPerNode: 4}\n`;

describe("the local cluster's real node", () => {
  it("joins the first GPU pool by default with the GPU contract's label and taint, and advertises that pool's GPUs per node", () => {
    const s = realNodeSettings(stack);
    expect(s).toEqual({
      pool: "a10g",
      gpus: 8,
      labels: { [GPU_POOL_LABEL]: "a10g", [GPU_PRESENT_LABEL.key]: GPU_PRESENT_LABEL.value, [REAL_NODE_LABEL]: "real", "node.kubernetes.io/instance-type": "kiln-local-real" },
      taints: [GPU_TAINT],
    });
    expect(realNodeSettings(stack, "l4")).toMatchObject({ pool: "l4", gpus: 4, labels: { [GPU_POOL_LABEL]: "l4" } });
    expect(realNodeSettings(committed).pool).toBe("a10g");
  });

  it("names the pools when asked for one that does not exist, and refuses a stack without pools", () => {
    expect(() => realNodeSettings(stack, "h100", "x.yaml")).toThrow("KILN_REAL_NODE_POOL=h100: not a pool of x.yaml (pools: a10g, l4)");
    expect(() => realNodeSettings("config:\n  kiln:trainer: {repository: r/k}\n", undefined, "y.yaml")).toThrow("y.yaml: kiln:gpuPools is empty");
  });

  it("writes a kubelet config for these VMs: cgroupfs on cgroup v1, no anonymous API, taints at registration, its own socket and log dir", () => {
    const cfg = kubeletConfig(realNodeSettings(stack), { nodeIp: "10.250.0.1", socket: "/s/containerd.sock", clientCa: "/p/ca.crt", tlsCert: "/p/k.crt", tlsKey: "/p/k.key", podLogsDir: "/n/pod-logs" });
    expect(cfg).toMatchObject({
      kind: "KubeletConfiguration",
      address: "10.250.0.1",
      readOnlyPort: 0,
      cgroupDriver: "cgroupfs",
      failCgroupV1: false,
      containerRuntimeEndpoint: "unix:///s/containerd.sock",
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: "/p/ca.crt" } },
      authorization: { mode: "Webhook" },
      registerWithTaints: [GPU_TAINT],
      podLogsDir: "/n/pod-logs",
      tlsCertFile: "/p/k.crt",
    });
    expect(nodeLabelsFlag({ a: "1", "b/c": "2" })).toBe("a=1,b/c=2");
  });
});
