/**
 * The local cluster's one real worker node (kubelet + containerd + runc beside the KWOK nodes): which
 * GPU pool it joins, the labels and taint it registers with, how many `nvidia.com/gpu` it advertises,
 * and its KubeletConfiguration. Labels, taint and resource name come from the GPU contract in
 * infra/cluster/labels.ts, the same one the simulated nodes and the aws platform use.
 *
 *   ts-node scripts/cluster/real-node.ts kubelet-config --out F --node-ip IP --socket S --ca F --tls-cert F --tls-key F --pod-logs D [--config F] [--pool P]
 *   ts-node scripts/cluster/real-node.ts settings [--config F] [--pool P]     # shell assignments: NODE_POOL, NODE_GPUS, NODE_GPU_RESOURCE, NODE_LABELS
 */
import * as fs from "node:fs";
import { Command } from "commander";
import YAML from "yaml";
import { GPU_POOL_LABEL, GPU_PRESENT_LABEL, GPU_RESOURCE, GPU_TAINT } from "../../contract/gpu";
import { poolsFromStackConfig, topologyLabels } from "./nodes";

/** The real node is a block and a rack of its own in the synthetic topology. */
export const REAL_NODE_TOPOLOGY = { block: "real", rack: "real" } as const;

/** Label telling the real node from the simulated ones (KWOK nodes carry `type: kwok`). */
export const REAL_NODE_LABEL = "kiln.dev/node-kind";

export interface RealNodeSettings {
  /** GPU pool the node joins. */
  readonly pool: string;
  /** `nvidia.com/gpu` the node advertises (an extended resource: no GPU is behind it). */
  readonly gpus: number;
  readonly labels: Record<string, string>;
  readonly taints: readonly { key: string; value: string; effect: string }[];
}

/** The node joins `pool` (default: the stack config's first GPU pool) and advertises that pool's GPUs per node. */
export function realNodeSettings(stackConfig: string, pool?: string, file = "stack config"): RealNodeSettings {
  const pools = poolsFromStackConfig(stackConfig, file);
  if (pools.length === 0) throw new Error(`${file}: kiln:gpuPools is empty; the real node joins a GPU pool`);
  const chosen = pool === undefined || pool === "" ? pools[0] : pools.find((p) => p.name === pool);
  if (!chosen)
    throw new Error(
      `KILN_REAL_NODE_POOL=${pool}: not a pool of ${file} (pools: ${pools.map((p) => p.name).join(", ")})`,
    );
  return {
    pool: chosen.name,
    gpus: chosen.gpusPerNode,
    labels: {
      [GPU_POOL_LABEL]: chosen.name,
      [GPU_PRESENT_LABEL.key]: GPU_PRESENT_LABEL.value,
      [REAL_NODE_LABEL]: "real",
      "node.kubernetes.io/instance-type": "kiln-local-real",
      ...topologyLabels(REAL_NODE_TOPOLOGY),
    },
    taints: [{ ...GPU_TAINT }],
  };
}

export interface KubeletPaths {
  readonly nodeIp: string;
  /** containerd's CRI socket. */
  readonly socket: string;
  /** CA that signs the API server's client certificate for `kubectl logs/exec` (x509 authentication). */
  readonly clientCa: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly podLogsDir: string;
  /** The kubelet's API port (on the node IP) and its healthz port (on loopback); default 10250 and 10248. */
  readonly port?: number;
  readonly healthzPort?: number;
  /** The cluster DNS pods are told to use (CoreDNS on the node's address); none: pods get the host's resolv.conf. */
  readonly clusterDns?: string;
  readonly clusterDomain?: string;
}

/** KubeletConfiguration for a node on a VM with cgroup v1, no swap accounting and no CAP_SYS_RESOURCE. */
export function kubeletConfig(settings: RealNodeSettings, paths: KubeletPaths): Record<string, unknown> {
  return {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: paths.nodeIp,
    port: paths.port ?? 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: paths.healthzPort ?? 10248,
    tlsCertFile: paths.tlsCert,
    tlsPrivateKeyFile: paths.tlsKey,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: paths.clientCa },
    },
    authorization: { mode: "Webhook" },
    containerRuntimeEndpoint: `unix://${paths.socket}`,
    cgroupDriver: "cgroupfs",
    // Kubernetes 1.34 refuses cgroup v1 unless told otherwise; these VMs are cgroup v1 hybrids.
    failCgroupV1: false,
    failSwapOn: false,
    // The kubelet may not write the root cgroups' limits here; it still creates and enforces per-pod cgroups.
    enforceNodeAllocatable: [],
    registerNode: true,
    registerWithTaints: settings.taints,
    podLogsDir: paths.podLogsDir,
    // A shared dev machine's disk is not the node's: evict and collect images only when nearly full.
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    evictionHard: {
      "memory.available": "200Mi",
      "nodefs.available": "2%",
      "imagefs.available": "2%",
      "nodefs.inodesFree": "2%",
    },
    maxPods: 16,
    serializeImagePulls: false,
    resolvConf: "/etc/resolv.conf",
    clusterDomain: paths.clusterDomain ?? "cluster.local",
    ...(paths.clusterDns ? { clusterDNS: [paths.clusterDns] } : {}),
    shutdownGracePeriod: "0s",
    nodeStatusReportFrequency: "10s",
    nodeStatusUpdateFrequency: "10s",
  };
}

/** `a=b,c=d` for kubelet's --node-labels. */
export function nodeLabelsFlag(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function main(argv: string[]): void {
  const program = new Command("real-node").description("Settings of the local cluster's real worker node");
  const common = (c: Command) =>
    c
      .option("--config <file>", "stack config whose kiln:gpuPools the node joins", "Pulumi.local.yaml")
      .option("--pool <name>", "GPU pool (default: the first)");
  const read = (opts: { config: string; pool?: string }) => {
    if (!fs.existsSync(opts.config)) throw new Error(`--config ${opts.config}: file not found`);
    return realNodeSettings(fs.readFileSync(opts.config, "utf8"), opts.pool, opts.config);
  };
  common(
    program
      .command("settings")
      .description("print NODE_POOL, NODE_GPUS, NODE_GPU_RESOURCE and NODE_LABELS as shell assignments"),
  ).action((opts) => {
    const s = read(opts);
    process.stdout.write(
      `NODE_POOL=${shellQuote(s.pool)}\nNODE_GPUS=${s.gpus}\nNODE_GPU_RESOURCE=${shellQuote(GPU_RESOURCE)}\nNODE_LABELS=${shellQuote(nodeLabelsFlag(s.labels))}\n`,
    );
  });
  common(program.command("kubelet-config").description("write the KubeletConfiguration"))
    .requiredOption("--out <file>", "where to write it")
    .requiredOption("--node-ip <ip>", "the node's address")
    .requiredOption("--socket <path>", "containerd's CRI socket")
    .requiredOption("--ca <file>", "client CA for the kubelet's API (x509 authentication)")
    .requiredOption("--tls-cert <file>", "kubelet serving certificate")
    .requiredOption("--tls-key <file>", "kubelet serving key")
    .requiredOption("--pod-logs <dir>", "pod log directory")
    .option("--port <port>", "the kubelet's API port", "10250")
    .option("--healthz-port <port>", "the kubelet's healthz port (loopback)", "10248")
    .option("--cluster-dns <ip>", "the cluster DNS server pods use")
    .option("--cluster-domain <domain>", "the cluster's DNS domain", "cluster.local")
    .action((opts) => {
      const doc = kubeletConfig(read(opts), {
        nodeIp: opts.nodeIp,
        socket: opts.socket,
        clientCa: opts.ca,
        tlsCert: opts.tlsCert,
        tlsKey: opts.tlsKey,
        podLogsDir: opts.podLogs,
        port: Number(opts.port),
        healthzPort: Number(opts.healthzPort),
        clusterDns: opts.clusterDns,
        clusterDomain: opts.clusterDomain,
      });
      fs.writeFileSync(opts.out, YAML.stringify(doc));
    });
  program.parse(argv);
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (e) {
    process.stderr.write(`real-node: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
