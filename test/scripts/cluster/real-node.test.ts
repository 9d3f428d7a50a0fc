import * as fs from "node:fs";
import * as path from "node:path";
import { GPU_POOL_LABEL, GPU_PRESENT_LABEL, GPU_TAINT } from "../../../contract/gpu";
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
      labels: {
        [GPU_POOL_LABEL]: "a10g",
        [GPU_PRESENT_LABEL.key]: GPU_PRESENT_LABEL.value,
        [REAL_NODE_LABEL]: "real",
        "node.kubernetes.io/instance-type": "kiln-local-real",
        // A block and rack of its own in the synthetic topology (every local flavor is topology-aware).
        "kiln.dev/topology-block": "real",
        "kiln.dev/topology-rack": "real",
      },
      taints: [GPU_TAINT],
    });
    expect(realNodeSettings(stack, "l4")).toMatchObject({ pool: "l4", gpus: 4, labels: { [GPU_POOL_LABEL]: "l4" } });
    expect(realNodeSettings(committed).pool).toBe("a10g");
  });

  it("names the pools when asked for one that does not exist, and refuses a stack without pools", () => {
    expect(() => realNodeSettings(stack, "h100", "x.yaml")).toThrow(
      "KILN_REAL_NODE_POOL=h100: not a pool of x.yaml (pools: a10g, l4)",
    );
    expect(() => realNodeSettings("config:\n  kiln:trainer: {repository: r/k}\n", undefined, "y.yaml")).toThrow(
      "y.yaml: kiln:gpuPools is empty",
    );
  });

  it("writes a kubelet config for these VMs: cgroupfs on cgroup v1, no anonymous API, taints at registration, its own socket and log dir", () => {
    const cfg = kubeletConfig(realNodeSettings(stack), {
      nodeIp: "10.250.0.1",
      socket: "/s/containerd.sock",
      clientCa: "/p/ca.crt",
      tlsCert: "/p/k.crt",
      tlsKey: "/p/k.key",
      podLogsDir: "/n/pod-logs",
    });
    expect(cfg).toMatchObject({
      kind: "KubeletConfiguration",
      address: "10.250.0.1",
      readOnlyPort: 0,
      cgroupDriver: "cgroupfs",
      failCgroupV1: false,
      containerRuntimeEndpoint: "unix:///s/containerd.sock",
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: "/p/ca.crt" },
      },
      authorization: { mode: "Webhook" },
      registerWithTaints: [GPU_TAINT],
      podLogsDir: "/n/pod-logs",
      tlsCertFile: "/p/k.crt",
    });
    expect(nodeLabelsFlag({ a: "1", "b/c": "2" })).toBe("a=1,b/c=2");
  });

  it("points pods at the cluster DNS on the node's address and takes its ports from the harness", () => {
    const paths = { nodeIp: "10.250.0.1", socket: "/s", clientCa: "/c", tlsCert: "/t", tlsKey: "/k", podLogsDir: "/l" };
    expect(
      kubeletConfig(realNodeSettings(stack), {
        ...paths,
        clusterDns: "10.250.0.1",
        clusterDomain: "cluster.local",
        port: 11250,
        healthzPort: 11248,
      }),
    ).toMatchObject({
      clusterDNS: ["10.250.0.1"],
      clusterDomain: "cluster.local",
      port: 11250,
      healthzPort: 11248,
    });
    // Without a cluster DNS pods get the host's resolv.conf, and the ports are the kubelet's defaults.
    const plain = kubeletConfig(realNodeSettings(stack), paths);
    expect(plain).not.toHaveProperty("clusterDNS");
    expect(plain).toMatchObject({ port: 10250, healthzPort: 10248 });
  });
});
