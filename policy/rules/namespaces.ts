/** Training namespaces: Pod Security restricted, quotas, default-deny networking, defaults. */
import { GPU_RESOURCE } from "../../contract/gpu";
import { inNamespace, nsName, trainingNamespaces } from "./k8s";
import type { ResourceRule, StackRule } from "./types";
import { asArray, isK8s, labels } from "./util";
import { TEAM_LABEL } from "../../contract/labels";

export const namespacePssRestricted: ResourceRule = {
  kind: "resource",
  name: "namespace-pss-restricted",
  description: "Training namespaces enforce Pod Security Standard restricted.",
  severity: "high",
  applies: (type, props) => isK8s(type, "core", "Namespace") && labels(props)[TEAM_LABEL] !== undefined,
  check: (r) => {
    const level = labels(r.props)["pod-security.kubernetes.io/enforce"];
    return level === "restricted"
      ? []
      : [
          `namespace ${r.props.metadata?.name ?? r.name} enforces Pod Security '${level ?? "none"}': label pod-security.kubernetes.io/enforce=restricted`,
        ];
  },
};

export const namespaceGpuQuota: StackRule = {
  kind: "stack",
  name: "namespace-gpu-quota",
  description: "Every training namespace has a ResourceQuota capping requests.nvidia.com/gpu.",
  severity: "high",
  check: (all) =>
    trainingNamespaces(all)
      .filter(
        (ns) =>
          !inNamespace(all, ns, "core", "ResourceQuota").some(
            (q) => q.props.spec?.hard?.[`requests.${GPU_RESOURCE}`] !== undefined,
          ),
      )
      .map((ns) => ({
        urn: ns.urn,
        message: `namespace ${nsName(ns)} has no ResourceQuota with requests.nvidia.com/gpu: add one from the team's gpuQuota`,
      })),
};

/** podSelector {} selects every pod. */
function selectsAll(selector: any): boolean {
  return (
    !selector ||
    (Object.keys(selector.matchLabels ?? {}).length === 0 && asArray(selector.matchExpressions).length === 0)
  );
}

export const namespaceDefaultDeny: StackRule = {
  kind: "stack",
  name: "namespace-default-deny",
  description: "Every training namespace has a default-deny NetworkPolicy for ingress and egress.",
  severity: "high",
  check: (all) =>
    trainingNamespaces(all)
      .filter(
        (ns) =>
          !inNamespace(all, ns, "networking.k8s.io", "NetworkPolicy").some((p) => {
            const spec = p.props.spec ?? {};
            const types = asArray<string>(spec.policyTypes);
            return (
              selectsAll(spec.podSelector) &&
              types.includes("Ingress") &&
              types.includes("Egress") &&
              asArray(spec.ingress).length === 0 &&
              asArray(spec.egress).length === 0
            );
          }),
      )
      .map((ns) => ({
        urn: ns.urn,
        message: `namespace ${nsName(ns)} has no default-deny NetworkPolicy (podSelector {}, policyTypes [Ingress, Egress], no rules): add one`,
      })),
};

export const namespaceLimitRange: StackRule = {
  kind: "stack",
  name: "namespace-limit-range",
  description: "Every training namespace has a LimitRange so containers without requests still count against quota.",
  severity: "low",
  check: (all) =>
    trainingNamespaces(all)
      .filter((ns) => inNamespace(all, ns, "core", "LimitRange").length === 0)
      .map((ns) => ({
        urn: ns.urn,
        message: `namespace ${nsName(ns)} has no LimitRange: add container default requests`,
      })),
};

export const namespaceRules = [namespacePssRestricted, namespaceGpuQuota, namespaceDefaultDeny, namespaceLimitRange];
