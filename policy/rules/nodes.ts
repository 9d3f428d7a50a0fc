/** Node capacity: launch templates, Karpenter EC2NodeClasses and GPU NodePools. */
import { GPU_FAMILIES, efaInterfacesOf, familyOf } from "../../contract/catalog/gpu-families";
import { EFA_NODE_LABEL } from "../../contract/workload";
import { GPU_POOL_LABEL, GPU_RESOURCE, GPU_TAINT, KARPENTER_GPU_LABEL } from "../../contract/gpu";
import type { PolicySubject, ResourceRule, StackRule } from "./types";
import { asArray, isK8s, isTrue, num, typeIn } from "./util";

const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate";
const isNodeClass = (type: string) => isK8s(type, "karpenter.k8s.aws", "EC2NodeClass");
const isNodePool = (type: string) => isK8s(type, "karpenter.sh", "NodePool");

/** IMDS settings problems, for a launch template (`metadataOptions`) or node class (`spec.metadataOptions`). */
function imdsProblems(what: string, m: any): string[] {
  const out: string[] = [];
  if (m?.httpTokens !== "required")
    out.push(`${what} does not require IMDSv2: set metadataOptions.httpTokens required`);
  if (num(m?.httpPutResponseHopLimit) !== 1)
    out.push(
      `${what} has IMDS hop limit ${m?.httpPutResponseHopLimit ?? "unset"}: set httpPutResponseHopLimit 1 so pods cannot reach node credentials`,
    );
  return out;
}

export const launchTemplateImdsv2: ResourceRule = {
  kind: "resource",
  name: "launch-template-imdsv2",
  description: "Every launch template requires IMDSv2 with hop limit 1.",
  severity: "high",
  applies: (type) => typeIn(type, LAUNCH_TEMPLATE),
  check: (r) => imdsProblems(`launch template ${r.name}`, r.props.metadataOptions),
};

/** Volumes of a launch template / node class that are not encrypted, or a message when none are declared. */
function ebsProblems(what: string, mappings: any[]): string[] {
  if (mappings.length === 0)
    return [`${what} declares no block device mappings: declare the root volume with ebs.encrypted true`];
  return mappings
    .filter((m) => !isTrue(m?.ebs?.encrypted))
    .map((m) => `${what} volume ${m?.deviceName ?? "?"} is not encrypted: set ebs.encrypted true`);
}

export const launchTemplateEbsEncrypted: ResourceRule = {
  kind: "resource",
  name: "launch-template-ebs-encrypted",
  description: "Every launch template's EBS volumes are encrypted.",
  severity: "high",
  applies: (type) => typeIn(type, LAUNCH_TEMPLATE),
  check: (r) => ebsProblems(`launch template ${r.name}`, asArray(r.props.blockDeviceMappings)),
};

export const nodeClassImdsv2: ResourceRule = {
  kind: "resource",
  name: "nodeclass-imdsv2",
  description: "Every Karpenter EC2NodeClass requires IMDSv2 with hop limit 1.",
  severity: "high",
  applies: isNodeClass,
  check: (r) => imdsProblems(`EC2NodeClass ${r.props.metadata?.name ?? r.name}`, r.props.spec?.metadataOptions),
};

export const nodeClassEbsEncrypted: ResourceRule = {
  kind: "resource",
  name: "nodeclass-ebs-encrypted",
  description: "Every Karpenter EC2NodeClass declares encrypted EBS volumes.",
  severity: "high",
  applies: isNodeClass,
  check: (r) =>
    ebsProblems(`EC2NodeClass ${r.props.metadata?.name ?? r.name}`, asArray(r.props.spec?.blockDeviceMappings)),
};

const GPU_REQUIREMENT_KEYS = [
  KARPENTER_GPU_LABEL,
  "karpenter.k8s.aws/instance-gpu-count",
  "karpenter.k8s.aws/instance-gpu-manufacturer",
];

/** A NodePool makes GPU nodes when it is labelled as a Kiln GPU pool or asks for GPU instances. */
export function isGpuNodePool(r: Pick<PolicySubject, "type" | "props">): boolean {
  if (!isNodePool(r.type)) return false;
  const tmpl = r.props.spec?.template ?? {};
  if (tmpl.metadata?.labels?.[GPU_POOL_LABEL]) return true;
  return asArray<any>(tmpl.spec?.requirements).some((req) => {
    if (GPU_REQUIREMENT_KEYS.includes(req?.key)) return true;
    const values = asArray<string>(req?.values);
    if (req?.operator !== "In" || values.length === 0) return false;
    if (req.key === "karpenter.k8s.aws/instance-family") return values.every((f) => f in GPU_FAMILIES);
    if (req.key === "node.kubernetes.io/instance-type") return values.every((t) => familyOf(t) in GPU_FAMILIES);
    return false;
  });
}

const poolName = (r: PolicySubject) => r.props.metadata?.name ?? r.name;

export const gpuNodePoolTaint: ResourceRule = {
  kind: "resource",
  name: "gpu-nodepool-taint",
  description: "GPU NodePools taint their nodes nvidia.com/gpu:NoSchedule so only GPU pods land there.",
  severity: "high",
  applies: (type, props) => isGpuNodePool({ type, props }),
  check: (r) => {
    const taints = asArray<any>(r.props.spec?.template?.spec?.taints);
    return taints.some((t) => t?.key === GPU_TAINT.key && t?.effect === GPU_TAINT.effect)
      ? []
      : [
          `GPU NodePool ${poolName(r)} has no ${GPU_TAINT.key} ${GPU_TAINT.effect} taint: add {key: ${GPU_TAINT.key}, value: "${GPU_TAINT.value}", effect: ${GPU_TAINT.effect}}`,
        ];
  },
};

export const gpuNodePoolLimit: ResourceRule = {
  kind: "resource",
  name: "gpu-nodepool-limit",
  description: "GPU NodePools cap the GPUs they may hold (spec.limits nvidia.com/gpu).",
  severity: "critical",
  applies: (type, props) => isGpuNodePool({ type, props }),
  check: (r) => {
    const limit = r.props.spec?.limits?.[GPU_RESOURCE];
    return num(limit) === undefined
      ? [
          `GPU NodePool ${poolName(r)} has no numeric limits.nvidia.com/gpu (got ${JSON.stringify(limit) ?? "unset"}): set it to the pool's maxGpus`,
        ]
      : [];
  },
};

export const gpuNodePoolDisruption: ResourceRule = {
  kind: "resource",
  name: "gpu-nodepool-disruption",
  description: "GPU NodePools consolidate only empty nodes (WhenEmpty), never nodes running training.",
  severity: "medium",
  applies: (type, props) => isGpuNodePool({ type, props }),
  check: (r) => {
    const policy = r.props.spec?.disruption?.consolidationPolicy;
    return policy === "WhenEmpty"
      ? []
      : [
          `GPU NodePool ${poolName(r)} consolidationPolicy is '${policy ?? "WhenEmptyOrUnderutilized (default)"}': set WhenEmpty`,
        ];
  },
};

/** The instance families/types a NodePool's requirements pin (empty when it pins neither). */
function poolShape(r: Pick<PolicySubject, "props">): string[] {
  const reqs = asArray<any>(r.props.spec?.template?.spec?.requirements);
  const pinned = reqs.find(
    (q) =>
      (q?.key === "karpenter.k8s.aws/instance-family" || q?.key === "node.kubernetes.io/instance-type") &&
      q?.operator === "In",
  );
  return asArray<string>(pinned?.values);
}

const isEfaPlugin = (r: PolicySubject) =>
  /^kubernetes:helm\.sh\/v\d:Release$/.test(r.type) && r.props.chart === "aws-efa-k8s-device-plugin";

export const gpuNodePoolEfa: StackRule = {
  kind: "stack",
  name: "gpu-nodepool-efa",
  description:
    "GPU NodePools of EFA instance families (p4d, p4de, p5, p5e) run with EFA: the kiln.dev/efa node label, and the EFA device plugin in the stack.",
  severity: "medium",
  check: (all) => {
    const plugin = all.some(isEfaPlugin);
    return all
      .filter((r) => isGpuNodePool(r) && efaInterfacesOf(poolShape(r)) > 0)
      .flatMap((r) => {
        const out: string[] = [];
        if (r.props.spec?.template?.metadata?.labels?.[EFA_NODE_LABEL] !== "true")
          out.push(
            `GPU NodePool ${poolName(r)} has EFA instances but no ${EFA_NODE_LABEL}=true label: give it the EFA node class (EFA security group) and label, or multi-node runs there talk over TCP`,
          );
        if (!plugin)
          out.push(
            `GPU NodePool ${poolName(r)} has EFA instances but the stack has no aws-efa-k8s-device-plugin release: vpc.amazonaws.com/efa is never allocatable`,
          );
        return out.map((message) => ({ urn: r.urn, message }));
      });
  },
};

export const nodeRules = [
  launchTemplateImdsv2,
  launchTemplateEbsEncrypted,
  nodeClassImdsv2,
  nodeClassEbsEncrypted,
  gpuNodePoolTaint,
  gpuNodePoolLimit,
  gpuNodePoolDisruption,
  gpuNodePoolEfa,
];
