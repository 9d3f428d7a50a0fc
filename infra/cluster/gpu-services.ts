import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GPU_POOL_LABEL, GPU_TOLERATION, KARPENTER_GPU_LABEL } from "../../contract/gpu";
import { GPU_NAMESPACE } from "../../contract/names";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";

/** Pinned images and chart of the GPU services. */
export const DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4";
export const DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.4.1-4.6.0-ubuntu22.04";
export const GPU_OPERATOR_CHART = {
  chart: "gpu-operator",
  version: "v25.10.1",
  repo: "https://helm.ngc.nvidia.com/nvidia",
} as const;
/** Namespace of the GPU services (privileged: they use host paths and devices). */
export { GPU_NAMESPACE };

/** A node is a GPU node if it carries either label (Kiln's pool label, or Karpenter's on AWS). */
export const GPU_NODE_AFFINITY = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: GPU_POOL_LABEL, operator: "Exists" }] },
        { matchExpressions: [{ key: KARPENTER_GPU_LABEL, operator: "Exists" }] },
      ],
    },
  },
};
const GPU_TOLERATIONS = [{ ...GPU_TOLERATION }];

export interface GpuServicesArgs {
  /** `device-plugin`: NVIDIA device plugin + DCGM exporter; `operator`: the NVIDIA GPU Operator chart. */
  readonly mode: "device-plugin" | "operator";
  /** Platform the cluster runs on; on `aws` the AL2023 NVIDIA AMI already has driver and toolkit. */
  readonly platform: "aws" | "local";
  /** Create a ServiceMonitor for the DCGM exporter (needs the Prometheus Operator CRDs); default false. */
  readonly serviceMonitor?: boolean;
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
}

/**
 * Makes GPUs schedulable and observable: the NVIDIA device plugin (advertises `nvidia.com/gpu`)
 * and the DCGM exporter on GPU nodes only, or the GPU Operator chart that manages both.
 */
export class GpuServices extends pulumi.ComponentResource {
  /** Namespace the services run in. */
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: GpuServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:GpuServices", name, {}, opts);
    const { provider } = args;
    const child = { parent: this, provider };
    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: GPU_NAMESPACE,
          labels: {
            [PART_OF_LABEL]: PART_OF,
            // Device plugin and DCGM need host paths / SYS_ADMIN: privileged, stated explicitly
            // (warn/audit too, so every apply does not warn about what is intended).
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/audit": "privileged",
            "pod-security.kubernetes.io/warn": "privileged",
          },
        },
      },
      child,
    );
    this.namespace = ns.metadata.name;
    if (args.mode === "operator") this.operator(name, args, child);
    else {
      this.devicePlugin(name, child);
      this.dcgmExporter(name, args, child);
    }
    this.registerOutputs({ namespace: this.namespace });
  }

  private operator(name: string, args: GpuServicesArgs, child: pulumi.CustomResourceOptions): void {
    const onAws = args.platform === "aws";
    new k8s.helm.v3.Release(
      `${name}-gpu-operator`,
      {
        name: "gpu-operator",
        chart: GPU_OPERATOR_CHART.chart,
        version: GPU_OPERATOR_CHART.version,
        repositoryOpts: { repo: GPU_OPERATOR_CHART.repo },
        namespace: this.namespace,
        values: {
          // AL2023 NVIDIA AMIs ship the driver and container toolkit; the operator must not fight them.
          driver: { enabled: !onAws },
          toolkit: { enabled: !onAws },
          daemonsets: { tolerations: GPU_TOLERATIONS },
          dcgmExporter: { serviceMonitor: { enabled: args.serviceMonitor ?? false } },
        },
      },
      child,
    );
  }

  private devicePlugin(name: string, child: pulumi.CustomResourceOptions): void {
    const labels = { "app.kubernetes.io/name": "nvidia-device-plugin", [PART_OF_LABEL]: PART_OF };
    new k8s.apps.v1.DaemonSet(
      `${name}-device-plugin`,
      {
        metadata: { name: "nvidia-device-plugin", namespace: this.namespace, labels },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": "nvidia-device-plugin" } },
          updateStrategy: { type: "RollingUpdate" },
          template: {
            metadata: { labels },
            spec: {
              priorityClassName: "system-node-critical",
              tolerations: GPU_TOLERATIONS,
              affinity: GPU_NODE_AFFINITY,
              containers: [
                {
                  name: "nvidia-device-plugin",
                  image: DEVICE_PLUGIN_IMAGE,
                  env: [{ name: "FAIL_ON_INIT_ERROR", value: "false" }],
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                  volumeMounts: [{ name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" }],
                },
              ],
              volumes: [{ name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } }],
            },
          },
        },
      },
      child,
    );
  }

  private dcgmExporter(name: string, args: GpuServicesArgs, child: pulumi.CustomResourceOptions): void {
    const selector = { "app.kubernetes.io/name": "dcgm-exporter" };
    const labels = { ...selector, [PART_OF_LABEL]: PART_OF };
    new k8s.apps.v1.DaemonSet(
      `${name}-dcgm-exporter`,
      {
        metadata: { name: "dcgm-exporter", namespace: this.namespace, labels },
        spec: {
          selector: { matchLabels: selector },
          template: {
            metadata: { labels },
            spec: {
              priorityClassName: "system-node-critical",
              tolerations: GPU_TOLERATIONS,
              affinity: GPU_NODE_AFFINITY,
              automountServiceAccountToken: false,
              containers: [
                {
                  name: "dcgm-exporter",
                  image: DCGM_EXPORTER_IMAGE,
                  ports: [{ name: "metrics", containerPort: 9400 }],
                  env: [{ name: "DCGM_EXPORTER_KUBERNETES", value: "true" }],
                  // DCGM profiling metrics need SYS_ADMIN; nothing else is added.
                  securityContext: { runAsNonRoot: false, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } },
                  resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                  readinessProbe: { httpGet: { path: "/health", port: 9400 }, initialDelaySeconds: 15 },
                  livenessProbe: { httpGet: { path: "/health", port: 9400 }, initialDelaySeconds: 30 },
                  volumeMounts: [
                    { name: "pod-resources", mountPath: "/var/lib/kubelet/pod-resources", readOnly: true },
                  ],
                },
              ],
              volumes: [{ name: "pod-resources", hostPath: { path: "/var/lib/kubelet/pod-resources" } }],
            },
          },
        },
      },
      child,
    );
    const service = new k8s.core.v1.Service(
      `${name}-dcgm-exporter`,
      {
        metadata: { name: "dcgm-exporter", namespace: this.namespace, labels },
        spec: { selector, ports: [{ name: "metrics", port: 9400, targetPort: "metrics" }] },
      },
      child,
    );
    if (args.serviceMonitor) {
      new k8s.apiextensions.CustomResource(
        `${name}-dcgm-exporter-monitor`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: { name: "dcgm-exporter", namespace: this.namespace, labels },
          spec: { selector: { matchLabels: selector }, endpoints: [{ port: "metrics", interval: "15s" }] },
        },
        { ...child, dependsOn: [service] },
      );
    }
  }
}
