/** Network exposure: security groups and Kubernetes Services. */
import type { ResourceRule } from "./types";
import { asArray, isK8s, OPEN_CIDRS, typeIn } from "./util";

/**
 * Ingress from the internet that is allowed anyway. Kiln needs none: the EKS API endpoint is an
 * AWS-managed ENI governed by publicAccessCidrs, and nothing in Kiln serves the internet.
 */
export const ALLOWED_PUBLIC_INGRESS: readonly {
  readonly fromPort: number;
  readonly toPort: number;
  readonly protocol: string;
}[] = [];

function allowed(rule: any): boolean {
  return ALLOWED_PUBLIC_INGRESS.some(
    (a) =>
      a.fromPort === Number(rule?.fromPort) &&
      a.toPort === Number(rule?.toPort) &&
      a.protocol === String(rule?.protocol ?? rule?.ipProtocol),
  );
}

function openSources(rule: any): string[] {
  return [
    ...asArray<string>(rule?.cidrBlocks),
    ...asArray<string>(rule?.ipv6CidrBlocks),
    rule?.cidrIpv4,
    rule?.cidrIpv6,
  ].filter((c) => OPEN_CIDRS.includes(c));
}

export const sgNoPublicIngress: ResourceRule = {
  kind: "resource",
  name: "sg-no-public-ingress",
  description:
    "No security group admits traffic from 0.0.0.0/0 or ::/0 (except the allow-list in policy/rules/network.ts).",
  severity: "critical",
  applies: (type) =>
    typeIn(
      type,
      "aws:ec2/securityGroup",
      "aws:ec2/defaultSecurityGroup",
      "aws:ec2/securityGroupRule",
      "aws:vpc/securityGroupIngressRule",
    ),
  check: (r) => {
    let rules: any[];
    if (typeIn(r.type, "aws:ec2/securityGroup", "aws:ec2/defaultSecurityGroup")) rules = asArray(r.props.ingress);
    else if (typeIn(r.type, "aws:ec2/securityGroupRule")) rules = r.props.type === "ingress" ? [r.props] : [];
    else rules = [r.props];
    return rules
      .filter((rule) => openSources(rule).length > 0 && !allowed(rule))
      .map(
        (rule) =>
          `${r.name} allows ingress from ${openSources(rule).join(", ")} on ${rule.protocol ?? rule.ipProtocol ?? "?"} ${rule.fromPort ?? "?"}-${rule.toPort ?? "?"}: restrict the source`,
      );
  },
};

export const k8sNoExternalServices: ResourceRule = {
  kind: "resource",
  name: "k8s-no-external-services",
  description: "No Kubernetes Service is exposed outside the cluster (type LoadBalancer or NodePort).",
  severity: "high",
  applies: (type) => isK8s(type, "core", "Service"),
  check: (r) => {
    const t = r.props.spec?.type;
    return t === "LoadBalancer" || t === "NodePort"
      ? [`Service ${r.props.metadata?.name ?? r.name} is type ${t}: use ClusterIP (kubectl port-forward for humans)`]
      : [];
  },
};

/** ipBlock CIDRs of a NetworkPolicy's egress rules that cover the whole internet. */
function openEgress(spec: any): string[] {
  return asArray<any>(spec?.egress)
    .flatMap((rule) => asArray<any>(rule?.to))
    .map((peer) => peer?.ipBlock?.cidr)
    .filter((cidr): cidr is string => OPEN_CIDRS.includes(cidr));
}

export const k8sNoOpenEgress: ResourceRule = {
  kind: "resource",
  name: "k8s-no-open-egress",
  description:
    "No NetworkPolicy allows egress to 0.0.0.0/0 or ::/0: training pods reach only DNS, the object store and their identity agent.",
  severity: "high",
  applies: (type) => isK8s(type, "networking.k8s.io", "NetworkPolicy"),
  check: (r) =>
    openEgress(r.props.spec).map(
      (cidr) =>
        `NetworkPolicy ${r.props.metadata?.name ?? r.name} allows egress to ${cidr}: allow only the object store's address ranges (on aws the S3 prefix list)`,
    ),
};

export const networkRules = [sgNoPublicIngress, k8sNoExternalServices, k8sNoOpenEgress];
