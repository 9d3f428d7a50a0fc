/** GPU services on the local stack with each `kiln:gpuServices` mode. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GpuServices } from "../../../infra/cluster";
import { KilnMocks } from "../../../scripts/plan/engine/mocks";
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { object, objects, releases, runStack } from "./support";

const GPU_NODE_TERMS = [
  { matchExpressions: [{ key: "kiln.dev/gpu-pool", operator: "Exists" }] },
  { matchExpressions: [{ key: "karpenter.k8s.aws/instance-gpu-name", operator: "Exists" }] },
];

describe("gpuServices: device-plugin", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runStack("local", { "kiln:gpuServices": "device-plugin" });
  }, 60_000);

  test("the device plugin tolerates the nvidia.com/gpu taint", () => {
    const pod = object(run, "DaemonSet", "nvidia-device-plugin", "kiln-gpu").inputs.spec.template.spec;
    expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
  });

  test("the device plugin runs only on GPU nodes (pool label or Karpenter GPU label)", () => {
    const pod = object(run, "DaemonSet", "nvidia-device-plugin", "kiln-gpu").inputs.spec.template.spec;
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual(
      GPU_NODE_TERMS,
    );
  });

  test("GPU service images are pinned to exact versions", () => {
    const images = objects(run, "DaemonSet").flatMap((d) =>
      d.inputs.spec.template.spec.containers.map((c: { image: string }) => c.image),
    );
    expect(images).toEqual([
      "nvcr.io/nvidia/k8s-device-plugin:v0.17.4",
      "nvcr.io/nvidia/k8s/dcgm-exporter:4.4.1-4.6.0-ubuntu22.04",
    ]);
    for (const image of images) expect(image).not.toMatch(/:(latest|main)$/);
  });

  test("the device plugin drops every capability and cannot escalate", () => {
    const [container] = object(run, "DaemonSet", "nvidia-device-plugin", "kiln-gpu").inputs.spec.template.spec
      .containers;
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });

  test("the DCGM exporter runs on GPU nodes only and is exposed by a metrics Service", () => {
    const ds = object(run, "DaemonSet", "dcgm-exporter", "kiln-gpu").inputs.spec;
    expect(
      ds.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual(GPU_NODE_TERMS);
    const svc = object(run, "Service", "dcgm-exporter", "kiln-gpu").inputs.spec;
    expect(svc.selector).toEqual(ds.selector.matchLabels);
    expect(svc.ports).toEqual([{ name: "metrics", port: 9400, targetPort: "metrics" }]);
  });

  test("no ServiceMonitor unless the Prometheus Operator is declared", () => {
    expect(objects(run, "ServiceMonitor")).toEqual([]);
  });

  test("the GPU services namespace states its privileged Pod Security level explicitly", () => {
    expect(object(run, "Namespace", "kiln-gpu").inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe(
      "privileged",
    );
  });
});

describe("gpuServices: operator", () => {
  test("installs the pinned NVIDIA GPU Operator chart instead of the DaemonSets, with the driver on a local cluster", async () => {
    const run = await runStack("local", { "kiln:gpuServices": "operator" });
    const [operator] = releases(run, "gpu-operator");
    expect(operator.inputs).toMatchObject({
      chart: "gpu-operator",
      version: "v25.10.1",
      repositoryOpts: { repo: "https://helm.ngc.nvidia.com/nvidia" },
      namespace: "kiln-gpu",
    });
    expect(operator.inputs.values.driver).toEqual({ enabled: true });
    expect(objects(run, "DaemonSet")).toEqual([]);
  }, 60_000);
});

describe("gpuServices: none", () => {
  test("installs nothing for GPUs", async () => {
    const run = await runStack("local", { "kiln:gpuServices": "none" });
    expect(objects(run, "DaemonSet")).toEqual([]);
    expect(releases(run, "gpu-operator")).toEqual([]);
    expect(run.resources.filter((r) => r.type === "kiln:cluster:GpuServices")).toEqual([]);
  }, 60_000);
});

describe("GpuServices component", () => {
  async function build(args: {
    mode: "device-plugin" | "operator";
    platform: "aws" | "local";
    serviceMonitor?: boolean;
  }): Promise<KilnMocks> {
    const mocks = new KilnMocks();
    await pulumi.runtime.setMocks(mocks, "kiln", "unit", true);
    const provider = new k8s.Provider("unit-k8s", {});
    new GpuServices("unit-gpu", { ...args, provider });
    await new Promise((r) => setTimeout(r, 200));
    return mocks;
  }

  test("a ServiceMonitor for the DCGM exporter when the Prometheus Operator exists", async () => {
    const mocks = await build({ mode: "device-plugin", platform: "local", serviceMonitor: true });
    const [monitor] = mocks.resources.filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
    expect(monitor.inputs.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" } },
      endpoints: [{ port: "metrics", interval: "15s" }],
    });
  });

  test("on aws the GPU Operator leaves driver and toolkit to the AL2023 NVIDIA AMI", async () => {
    const mocks = await build({ mode: "operator", platform: "aws" });
    const [operator] = mocks.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    expect(operator.inputs.values.driver).toEqual({ enabled: false });
    expect(operator.inputs.values.toolkit).toEqual({ enabled: false });
  });
});
