/** EKS control plane and managed node groups. */
import type { ResourceRule } from "./types";
import { ACKNOWLEDGE_TAG, exposureProblems } from "../../contract/exposure";
import { asArray, isComputed, isFalse, isTrue, num, OPEN_CIDRS, typeIn } from "./util";

const CLUSTER = "aws:eks/cluster";
const NODE_GROUP = "aws:eks/nodeGroup";
export const EKS_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

export const eksSecretsEncryption: ResourceRule = {
  kind: "resource",
  name: "eks-secrets-encryption",
  description: "EKS encrypts Kubernetes Secrets with a customer KMS key (envelope encryption).",
  severity: "high",
  applies: (type) => typeIn(type, CLUSTER),
  check: (r) => {
    const enc = asArray<any>(r.props.encryptionConfig)[0];
    const resources = asArray<string>(enc?.resources);
    if (!resources.includes("secrets"))
      return [`EKS cluster ${r.name} does not encrypt secrets: set encryptionConfig.resources to ["secrets"]`];
    if (!enc?.provider?.keyArn)
      return [`EKS cluster ${r.name} encryptionConfig has no provider.keyArn: use the stack's KMS key`];
    return [];
  },
};

export const eksControlPlaneLogs: ResourceRule = {
  kind: "resource",
  name: "eks-control-plane-logs",
  description: "EKS sends every control-plane log type to CloudWatch.",
  severity: "medium",
  applies: (type) => typeIn(type, CLUSTER),
  check: (r) => {
    const on = asArray<string>(r.props.enabledClusterLogTypes);
    const missing = EKS_LOG_TYPES.filter((t) => !on.includes(t));
    return missing.length
      ? [
          `EKS cluster ${r.name} does not log ${missing.join(", ")}: set enabledClusterLogTypes to ${EKS_LOG_TYPES.join(", ")}`,
        ]
      : [];
  },
};

export const eksEndpointAccess: ResourceRule = {
  kind: "resource",
  name: "eks-endpoint-access",
  description:
    "The EKS API endpoint is private, or public only to an allow-list opening at most a /8 per range and 1/256 of IPv4 in all (more only with kiln:publicAccessAcknowledgedPercent; never 0.0.0.0/0).",
  severity: "critical",
  applies: (type) => typeIn(type, CLUSTER),
  check: (r) => {
    const vpc = r.props.vpcConfig ?? {};
    const out: string[] = [];
    if (!isTrue(vpc.endpointPrivateAccess))
      out.push(`EKS cluster ${r.name} has no private endpoint: set vpcConfig.endpointPrivateAccess true`);
    if (!isFalse(vpc.endpointPublicAccess)) {
      const cidrs = asArray<string>(vpc.publicAccessCidrs);
      if (cidrs.length === 0)
        out.push(
          `EKS cluster ${r.name} has a public endpoint open to 0.0.0.0/0 (AWS default): set endpointPublicAccess false or list publicAccessCidrs`,
        );
      // IPv6 `::/0` (EKS takes IPv4 only, but a hand-written stack might list it); IPv4 is judged below.
      const open = cidrs.filter((c) => OPEN_CIDRS.includes(c) && !c.includes("."));
      if (open.length)
        out.push(`EKS cluster ${r.name} allows ${open.join(", ")} to the public endpoint: list your office/VPN ranges`);
      // Judged by the addresses the list opens (the config's rule, infra/lib/exposure.ts), with the stack's acknowledgement.
      const ack = num(r.props.tags?.[ACKNOWLEDGE_TAG]);
      const known = cidrs.filter((c) => typeof c === "string" && !isComputed(c));
      for (const p of exposureProblems(known, ack && ack < 100 ? ack : undefined))
        out.push(`EKS cluster ${r.name} public endpoint: ${p.message}`);
    }
    return out;
  },
};

export const eksAuthenticationMode: ResourceRule = {
  kind: "resource",
  name: "eks-authentication-mode",
  description:
    "EKS uses access entries (authenticationMode API or API_AND_CONFIG_MAP), not the aws-auth ConfigMap alone.",
  severity: "medium",
  applies: (type) => typeIn(type, CLUSTER),
  check: (r) => {
    const mode = r.props.accessConfig?.authenticationMode;
    return mode === "API" || mode === "API_AND_CONFIG_MAP"
      ? []
      : [
          `EKS cluster ${r.name} authenticationMode is '${mode ?? "CONFIG_MAP (default)"}': set accessConfig.authenticationMode to API`,
        ];
  },
};

export const nodeGroupNoSsh: ResourceRule = {
  kind: "resource",
  name: "eks-nodegroup-no-ssh",
  description: "Managed node groups allow no SSH (remoteAccess unset); use SSM if a shell is needed.",
  severity: "high",
  applies: (type) => typeIn(type, NODE_GROUP),
  check: (r) => (r.props.remoteAccess ? [`node group ${r.name} enables SSH remoteAccess: remove it`] : []),
};

export const nodeGroupLaunchTemplate: ResourceRule = {
  kind: "resource",
  name: "eks-nodegroup-launch-template",
  description: "Managed node groups use a launch template (where IMDSv2 and encrypted volumes are set).",
  severity: "high",
  applies: (type) => typeIn(type, NODE_GROUP),
  check: (r) => {
    const lt = r.props.launchTemplate;
    return lt && (lt.id || lt.name)
      ? []
      : [`node group ${r.name} has no launchTemplate: attach one with IMDSv2 and encrypted gp3 volumes`];
  },
};

export const clusterRules = [
  eksSecretsEncryption,
  eksControlPlaneLogs,
  eksEndpointAccess,
  eksAuthenticationMode,
  nodeGroupNoSsh,
  nodeGroupLaunchTemplate,
];
