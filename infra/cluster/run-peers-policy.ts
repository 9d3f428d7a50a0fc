/**
 * What a submitter's NetworkPolicy may be. Submitters may create NetworkPolicies in their team namespace
 * (a multi-node run's `<run>-peers`: its pods reach each other on every port), and this
 * ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, CEL in the API server, no webhook) refuses
 * every other shape: the policy must select exactly the pods of one run (`peerSelector`: the run label
 * and the JobSet name, both `<run>`, named
 * `<run>-peers`) and allow ingress only from, and egress only to, those same pods: no namespaceSelector,
 * no ipBlock, no empty peer list (which would mean "everyone"). Ports may narrow it.
 *
 * It applies to requests in team namespaces (label kiln.dev/team) from members of a team's submitter
 * group (`kiln:<team>:submitters`) who are not cluster admins (`system:masters`): the program's own
 * identity, controllers and admins are not submitters, so Kiln's default-deny, DNS and object-store
 * policies are untouched by it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { peerSelector } from "../../contract/workload";
import { PART_OF, PART_OF_LABEL, RUN_LABEL, TEAM_LABEL } from "../../contract/labels";

export const RUN_PEERS_POLICY = "kiln-run-peers";
/** Suffix of a run's peers NetworkPolicy name: `<run>-peers`. */
export const RUN_PEERS_SUFFIX = "-peers";

/** A CEL string literal. */
const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** `sel` (a LabelSelector) is exactly `{matchLabels: {kiln.dev/run: <run>, jobset.sigs.k8s.io/jobset-name: <run>}}` (the plugin's, `peerSelector`). */
const isRunSelector = (sel: string) =>
  `has(${sel}.matchLabels) && !has(${sel}.matchExpressions) && ${sel}.matchLabels.size() == ${Object.keys(peerSelector("x")).length} && ` +
  Object.keys(peerSelector("x"))
    .map((k) => `${lit(k)} in ${sel}.matchLabels && ${sel}.matchLabels[${lit(k)}] == variables.run`)
    .join(" && ");

/** Every peer of `rules[].<field>` is the run's own pods, and no rule has an empty peer list. */
const onlyRunPeers = (rules: string, field: "from" | "to") =>
  `!has(object.spec.${rules}) || object.spec.${rules}.all(r, has(r.${field}) && r.${field}.size() > 0 && r.${field}.all(p, !has(p.namespaceSelector) && !has(p.ipBlock) && has(p.podSelector) && ${isRunSelector("p.podSelector")}))`;

/** The policy's spec (pure: tested directly; the e2e suite exercises it on a real API server). */
export function runPeersPolicySpec(): Record<string, unknown> {
  return {
    failurePolicy: "Fail",
    matchConstraints: {
      resourceRules: [
        {
          apiGroups: ["networking.k8s.io"],
          apiVersions: ["v1"],
          operations: ["CREATE", "UPDATE"],
          resources: ["networkpolicies"],
        },
      ],
      namespaceSelector: { matchExpressions: [{ key: TEAM_LABEL, operator: "Exists" }] },
    },
    matchConditions: [
      {
        name: "submitters-only",
        expression: "request.userInfo.groups.exists(g, g.matches('^kiln:[a-z0-9]([-a-z0-9]*[a-z0-9])?:submitters$'))",
      },
      { name: "not-cluster-admins", expression: "!('system:masters' in request.userInfo.groups)" },
    ],
    variables: [
      {
        name: "run",
        expression: `has(object.spec.podSelector) && has(object.spec.podSelector.matchLabels) && ${lit(RUN_LABEL)} in object.spec.podSelector.matchLabels ? object.spec.podSelector.matchLabels[${lit(RUN_LABEL)}] : ''`,
      },
    ],
    validations: [
      {
        expression: `variables.run != '' && ${isRunSelector("object.spec.podSelector")}`,
        message: `a submitter's NetworkPolicy must select exactly one run's pods: podSelector.matchLabels {${Object.keys(
          peerSelector("x"),
        )
          .map((k) => `${k}: <run>`)
          .join(", ")}} and nothing else`,
        reason: "Forbidden",
      },
      {
        expression: `object.metadata.name == variables.run + ${lit(RUN_PEERS_SUFFIX)}`,
        messageExpression: `'a run\\'s NetworkPolicy is named <run>${RUN_PEERS_SUFFIX}: expected ' + variables.run + ${lit(RUN_PEERS_SUFFIX)} + ', got ' + object.metadata.name`,
        reason: "Forbidden",
      },
      {
        expression: onlyRunPeers("ingress", "from"),
        message: `ingress may come only from the run's own pods: every rule needs 'from' with podSelector.matchLabels {${RUN_LABEL}: <run>} only (no namespaceSelector, no ipBlock)`,
        reason: "Forbidden",
      },
      {
        expression: onlyRunPeers("egress", "to"),
        message: `egress may go only to the run's own pods: every rule needs 'to' with podSelector.matchLabels {${RUN_LABEL}: <run>} only (no namespaceSelector, no ipBlock)`,
        reason: "Forbidden",
      },
    ],
  };
}

export interface RunPeersPolicyArgs {
  /** Provider of the target cluster (no default). */
  readonly provider: k8s.Provider;
}

export class RunPeersPolicy extends pulumi.ComponentResource {
  constructor(name: string, args: RunPeersPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:RunPeersPolicy", name, {}, opts);
    const labels = { [PART_OF_LABEL]: PART_OF };
    const child = { parent: this, provider: args.provider };
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-policy`,
      { metadata: { name: RUN_PEERS_POLICY, labels }, spec: runPeersPolicySpec() },
      child,
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      `${name}-binding`,
      {
        metadata: { name: RUN_PEERS_POLICY, labels },
        spec: {
          policyName: policy.metadata.name,
          validationActions: ["Deny"],
          matchResources: { namespaceSelector: { matchExpressions: [{ key: TEAM_LABEL, operator: "Exists" }] } },
        },
      },
      child,
    );
    this.registerOutputs({});
  }
}
