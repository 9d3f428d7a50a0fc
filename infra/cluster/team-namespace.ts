import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TeamConfig } from "../config";
import { GPU_RESOURCE } from "../../contract/gpu";
import { JOBSET_GROUP, JOBSET_PLURAL } from "../../contract/workload";
import type { ObjectStoreEgress, ObjectStoreOutputs } from "../platform";
import { POOL_CATALOG_CONFIGMAP, POOL_CATALOG_KEY, type PoolCatalog } from "./pool-catalog";
import { PART_OF, PART_OF_LABEL, TEAM_LABEL } from "../../contract/labels";

/** Secret in each team namespace holding static object-store credentials (local platform only). */
export const OBJECT_STORE_SECRET = "kiln-object-store";
/** Role every team's submitters are bound to. */
export const SUBMITTER_ROLE = "kiln-submitter";
/** The group a team's ML engineers must be in to launch runs (IdP / access entry maps users to it). */
export function submitterGroup(team: string): string {
  return `kiln:${team}:submitters`;
}

export interface TeamNamespaceArgs {
  /** The team (name, namespace, quotas) from validated config. */
  readonly team: TeamConfig;
  /** Object store the team's pods talk to: egress rule and, on local, the credentials Secret. */
  readonly objectStore: ObjectStoreOutputs;
  /** Extra egress for the pods' cloud identity (e.g. the EKS Pod Identity agent); default none. */
  readonly identityEgress?: readonly ObjectStoreEgress[];
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
  /** ResourceQuota `count/jobs.batch`; default 2000 (finished Jobs count until their TTL removes them). */
  readonly maxJobs?: number;
  /** The team's GPU pools as runs see them (ConfigMap kiln-pools, key pools.json); default none (no ConfigMap). */
  readonly pools?: readonly PoolCatalog[];
  /** LimitRange default requests of a container that sets none; default {cpu: 500m, memory: 1Gi}. */
  readonly defaultRequest?: Record<string, string>;
}

/**
 * A team's training namespace: Pod Security `restricted`, quotas, default-deny networking with only
 * DNS and object-store egress, and the `kiln-submitter` Role. The trainer ServiceAccount comes from
 * the trainer chart (values.serviceAccount), not from here.
 */
export class TeamNamespace extends pulumi.ComponentResource {
  /** Namespace name. */
  readonly namespace: pulumi.Output<string>;
  /** The namespace object (for dependsOn). */
  readonly ns: k8s.core.v1.Namespace;
  /** `kiln-object-store` Secret when the platform hands out static credentials. */
  readonly credentials?: k8s.core.v1.Secret;

  constructor(name: string, args: TeamNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:TeamNamespace", name, {}, opts);
    const { team, provider } = args;
    const child = { parent: this, provider };
    const labels = { [PART_OF_LABEL]: PART_OF, "app.kubernetes.io/managed-by": "pulumi", [TEAM_LABEL]: team.name };

    this.ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: team.namespace,
          labels: {
            ...labels,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
          },
        },
      },
      child,
    );
    const namespace = this.ns.metadata.name;
    this.namespace = namespace;

    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      {
        metadata: { name: "kiln-team-quota", namespace, labels },
        spec: {
          hard: {
            [`requests.${GPU_RESOURCE}`]: String(team.gpuQuota),
            "requests.cpu": team.cpuQuota,
            "requests.memory": team.memoryQuota,
            "count/jobs.batch": String(args.maxJobs ?? 2000),
          },
        },
      },
      child,
    );

    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      {
        metadata: { name: "kiln-container-defaults", namespace, labels },
        // Only default requests: a default limit below a container's own request would reject the pod.
        spec: {
          limits: [{ type: "Container", defaultRequest: args.defaultRequest ?? { cpu: "500m", memory: "1Gi" } }],
        },
      },
      child,
    );

    this.networkPolicies(name, namespace, labels, args.objectStore.egress, args.identityEgress ?? [], child);

    const role = new k8s.rbac.v1.Role(
      `${name}-submitter`,
      {
        metadata: { name: SUBMITTER_ROLE, namespace, labels },
        rules: [
          { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete", "patch"] },
          { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
          { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] },
          { apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get", "list"] },
          // Multi-node runs: a JobSet, and its `<run>-peers` NetworkPolicy (the only shape the
          // kiln-run-peers ValidatingAdmissionPolicy lets a submitter create). No update or delete of
          // NetworkPolicies (that could drop default-deny): the peers policy is owned by the JobSet and
          // goes with it.
          {
            apiGroups: [JOBSET_GROUP],
            resources: [JOBSET_PLURAL],
            verbs: ["create", "get", "list", "watch", "delete"],
          },
          {
            apiGroups: ["networking.k8s.io"],
            resources: ["networkpolicies"],
            verbs: ["create", "get", "list", "watch"],
          },
        ],
      },
      child,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-submitters`,
      {
        metadata: { name: SUBMITTER_ROLE, namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: submitterGroup(team.name) }],
      },
      child,
    );

    if (args.pools)
      new k8s.core.v1.ConfigMap(
        `${name}-pools`,
        {
          metadata: { name: POOL_CATALOG_CONFIGMAP, namespace, labels },
          data: { [POOL_CATALOG_KEY]: JSON.stringify(args.pools) },
        },
        child,
      );

    const creds = args.objectStore.credentials;
    if (creds) {
      this.credentials = new k8s.core.v1.Secret(
        `${name}-object-store`,
        {
          metadata: { name: OBJECT_STORE_SECRET, namespace, labels },
          type: "Opaque",
          stringData: {
            AWS_ACCESS_KEY_ID: creds.accessKeyId,
            AWS_SECRET_ACCESS_KEY: pulumi.secret(creds.secretAccessKey),
          },
        },
        child,
      );
    }
    this.registerOutputs({ namespace: this.namespace, ns: this.ns, credentials: this.credentials });
  }

  /** Default-deny in both directions, then DNS to kube-dns and the object store, nothing else. */
  private networkPolicies(
    name: string,
    namespace: pulumi.Output<string>,
    labels: Record<string, string>,
    egress: ObjectStoreEgress,
    identityEgress: readonly ObjectStoreEgress[],
    child: pulumi.CustomResourceOptions,
  ): void {
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      {
        metadata: { name: "default-deny", namespace, labels },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-dns`,
      {
        metadata: { name: "allow-dns", namespace, labels },
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ],
        },
      },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-object-store`,
      {
        metadata: { name: "allow-object-store", namespace, labels },
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [egressRule(egress)] },
      },
      child,
    );
    if (identityEgress.length > 0) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-allow-identity`,
        {
          metadata: { name: "allow-identity", namespace, labels },
          spec: { podSelector: {}, policyTypes: ["Egress"], egress: identityEgress.map(egressRule) },
        },
        child,
      );
    }
  }
}

/** One NetworkPolicy egress rule: pods (namespace + labels) or IP blocks, on one TCP port. */
function egressRule(egress: ObjectStoreEgress): k8s.types.input.networking.v1.NetworkPolicyEgressRule {
  const ports = [{ protocol: "TCP", port: egress.port }];
  switch (egress.kind) {
    case "pods":
      return {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": egress.namespace } },
            podSelector: { matchLabels: egress.podLabels },
          },
        ],
        ports,
      };
    case "cidr":
      return {
        to: [{ ipBlock: { cidr: egress.cidr, ...(egress.except?.length ? { except: egress.except } : {}) } }],
        ports,
      };
    case "cidrs":
      return { to: pulumi.output(egress.cidrs).apply((cidrs) => cidrs.map((cidr) => ({ ipBlock: { cidr } }))), ports };
  }
}
