import * as crypto from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TeamConfig } from "../config";
import { ACCOUNTANT_NAME, ACCOUNTANT_SETTINGS_KEY } from "../../contract/accounting/keys";
import { ACCOUNTANT_NAMESPACE } from "../../contract/names";
import type { SystemPlacement } from "../platform";
import { settingsSchema, type SettingsInput } from "../../contract/accounting/settings";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";
import { KUEUE_GROUP } from "../../contract/kueue";

/** The Kubernetes provider's annotation for "do not wait for this object to be ready". */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

export interface AccountantArgs {
  /** Full image reference `<repository>:<tag>`. */
  readonly image: pulumi.Input<string>;
  /** Teams, with their namespaces (created before) and budgets. */
  readonly teams: readonly TeamConfig[];
  /** Team name -> its namespace resource name output (the per-namespace Roles wait for it). */
  readonly namespaces: Record<string, pulumi.Input<string>>;
  /** Team name -> ClusterQueue name; the accountant may patch only these. Empty without Kueue. */
  readonly clusterQueues: Record<string, string>;
  /** AWS region whose grid intensity prices CO2e. */
  readonly gridRegion: pulumi.Input<string>;
  /** Seconds between passes; default 30. */
  readonly intervalSeconds?: number;
  /** Port of its /healthz and /readyz probes (in the pod only; no Service); default 8080. */
  readonly healthPort?: number;
  /** Days a finished Job's usage record is kept before it is pruned (its month rolled up first); default 35. */
  readonly recordRetentionDays?: number;
  /** CIDRs the API server answers on (NetworkPolicy egress on 443/6443); default none: egress is not restricted. */
  readonly apiServerCidrs?: pulumi.Input<readonly string[]>;
  /** `host:port` of the API server for the pod (KUBERNETES_SERVICE_HOST/PORT), when the Service is not routed; default the Service. */
  readonly apiServer?: string;
  /**
   * Wait for its pod to be ready during `pulumi up`; default true. false where the image is pushed after
   * the stack exists (aws: the stack creates its ECR repository): the Deployment gets
   * `pulumi.com/skipAwait: "true"` and its pod starts once the image is there.
   */
  readonly awaitReady?: boolean;
  /** Node selector + tolerations of the platform's system nodes; default any node. */
  readonly placement?: SystemPlacement;
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
}

/**
 * kiln-accountant: one Deployment that keeps a usage record per training Job and every team's budget
 * status, and holds a team's ClusterQueue at its budget. Least privilege: it reads Jobs, pods and
 * ConfigMaps and writes (and prunes) ConfigMaps only in team namespaces, reads nodes, and may patch only the team
 * ClusterQueues, by name.
 */
export class Accountant extends pulumi.ComponentResource {
  /** Namespace it runs in. */
  readonly namespace: string;
  /** The settings it runs with (for the plan and tests). */
  readonly settings: pulumi.Output<SettingsInput>;

  constructor(name: string, args: AccountantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:Accountant", name, {}, opts);
    const { provider } = args;
    const child = { parent: this, provider };
    const labels = {
      [PART_OF_LABEL]: PART_OF,
      "app.kubernetes.io/name": ACCOUNTANT_NAME,
      "app.kubernetes.io/managed-by": "pulumi",
    };
    const selector = { "app.kubernetes.io/name": ACCOUNTANT_NAME };
    this.namespace = ACCOUNTANT_NAMESPACE;
    const healthPort = args.healthPort ?? settingsSchema.shape.healthPort.parse(undefined);

    const ns = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: ACCOUNTANT_NAMESPACE,
          labels: {
            ...labels,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
      child,
    );
    const inNs = { ...child, dependsOn: [ns] };
    const sa = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: ACCOUNTANT_NAME, namespace: ACCOUNTANT_NAMESPACE, labels } },
      inNs,
    );
    const subject = { kind: "ServiceAccount", name: ACCOUNTANT_NAME, namespace: ACCOUNTANT_NAMESPACE };

    const queues = Object.values(args.clusterQueues);
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-cluster`,
      {
        metadata: { name: ACCOUNTANT_NAME, labels },
        rules: [
          // Instance type, capacity type and pool of the node a pod ran on: what prices it.
          { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
          ...(queues.length
            ? [
                {
                  apiGroups: [KUEUE_GROUP],
                  resources: ["clusterqueues"],
                  resourceNames: queues,
                  verbs: ["get", "patch"],
                },
              ]
            : []),
        ],
      },
      child,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-cluster`,
      {
        metadata: { name: ACCOUNTANT_NAME, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [subject],
      },
      { ...child, dependsOn: [sa] },
    );
    for (const team of args.teams) {
      const namespace = args.namespaces[team.name];
      const role = new k8s.rbac.v1.Role(
        `${name}-${team.name}`,
        {
          metadata: { name: ACCOUNTANT_NAME, namespace, labels },
          rules: [
            // Watched (cache.ts): a pass reads from memory.
            { apiGroups: ["batch"], resources: ["jobs"], verbs: ["list", "watch"] },
            { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
            // delete: per-Job usage records past their retention (accountant/src/retention.ts).
            {
              apiGroups: [""],
              resources: ["configmaps"],
              verbs: ["get", "list", "watch", "create", "update", "delete"],
            },
          ],
        },
        child,
      );
      new k8s.rbac.v1.RoleBinding(
        `${name}-${team.name}`,
        {
          metadata: { name: ACCOUNTANT_NAME, namespace, labels },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
          subjects: [subject],
        },
        { ...child, dependsOn: [sa] },
      );
    }

    this.settings = pulumi.output(args.gridRegion).apply(
      (region): SettingsInput => ({
        region,
        intervalSeconds: args.intervalSeconds ?? 30,
        ...(args.recordRetentionDays !== undefined ? { recordRetentionDays: args.recordRetentionDays } : {}),
        healthPort,
        teams: args.teams.map((t) => ({
          name: t.name,
          namespace: t.namespace,
          ...(args.clusterQueues[t.name] ? { clusterQueue: args.clusterQueues[t.name] } : {}),
          ...(t.budget && args.clusterQueues[t.name]
            ? {
                budget:
                  t.budget.usd !== undefined
                    ? { unit: "usd" as const, limit: t.budget.usd }
                    : { unit: "gpuHours" as const, limit: t.budget.gpuHours! },
              }
            : {}),
        })),
      }),
    );
    const settingsText = this.settings.apply((s) => JSON.stringify(s, null, 2));
    const settings = new k8s.core.v1.ConfigMap(
      `${name}-settings`,
      {
        metadata: { name: ACCOUNTANT_NAME, namespace: ACCOUNTANT_NAMESPACE, labels },
        data: { [ACCOUNTANT_SETTINGS_KEY]: settingsText },
      },
      inNs,
    );

    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: {
          name: ACCOUNTANT_NAME,
          namespace: ACCOUNTANT_NAMESPACE,
          labels,
          ...(args.awaitReady === false ? { annotations: { [SKIP_AWAIT]: "true" } } : {}),
        },
        spec: {
          replicas: 1,
          // One writer of the records at a time.
          strategy: { type: "Recreate" },
          selector: { matchLabels: selector },
          template: {
            metadata: {
              labels: { ...labels, ...selector },
              // New settings roll the pod (a ConfigMap volume update would be seen only after a restart).
              annotations: {
                "kiln.dev/settings-sha256": settingsText.apply((t) =>
                  crypto.createHash("sha256").update(t).digest("hex").slice(0, 16),
                ),
              },
            },
            spec: {
              serviceAccountName: ACCOUNTANT_NAME,
              nodeSelector: args.placement?.nodeSelector,
              tolerations: args.placement?.tolerations.map((t) => ({ ...t })),
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 10001,
                runAsGroup: 10001,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "accountant",
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  args: ["--settings", `/etc/kiln/${ACCOUNTANT_SETTINGS_KEY}`],
                  // The in-cluster config reads these; set, they win over the kubelet's own.
                  env: args.apiServer
                    ? [
                        {
                          name: "KUBERNETES_SERVICE_HOST",
                          value: args.apiServer.slice(0, args.apiServer.lastIndexOf(":")),
                        },
                        {
                          name: "KUBERNETES_SERVICE_PORT",
                          value: args.apiServer.slice(args.apiServer.lastIndexOf(":") + 1),
                        },
                      ]
                    : undefined,
                  ports: [{ name: "health", containerPort: healthPort, protocol: "TCP" }],
                  // Liveness: the loop turns (a pass began or ended within 3 intervals); readiness: the watches
                  // have listed and the last pass succeeded (accountant/src/health.ts).
                  livenessProbe: {
                    httpGet: { path: "/healthz", port: "health" },
                    initialDelaySeconds: 10,
                    periodSeconds: 20,
                    timeoutSeconds: 5,
                    failureThreshold: 3,
                  },
                  readinessProbe: {
                    httpGet: { path: "/readyz", port: "health" },
                    periodSeconds: 10,
                    timeoutSeconds: 5,
                    failureThreshold: 3,
                  },
                  resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  volumeMounts: [{ name: "settings", mountPath: "/etc/kiln", readOnly: true }],
                },
              ],
              volumes: [{ name: "settings", configMap: { name: settings.metadata.name } }],
            },
          },
        },
      },
      { ...inNs, dependsOn: [ns, sa, settings] },
    );

    // Nothing talks to it but the kubelet's probes (a CNI may class the node's traffic as any other); it talks to the
    // API server (and DNS) only, where the platform knows its address.
    const egress = args.apiServerCidrs
      ? [
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
          {
            to: pulumi.output(args.apiServerCidrs).apply((cidrs) => cidrs.map((cidr) => ({ ipBlock: { cidr } }))),
            ports: [
              { protocol: "TCP", port: 443 },
              { protocol: "TCP", port: 6443 },
            ],
          },
        ]
      : undefined;
    new k8s.networking.v1.NetworkPolicy(
      `${name}-network`,
      {
        metadata: { name: ACCOUNTANT_NAME, namespace: ACCOUNTANT_NAMESPACE, labels },
        spec: {
          podSelector: {},
          policyTypes: egress ? ["Ingress", "Egress"] : ["Ingress"],
          ingress: [{ ports: [{ protocol: "TCP", port: healthPort }] }],
          ...(egress ? { egress } : {}),
        },
      },
      inNs,
    );
    this.registerOutputs({ namespace: this.namespace, settings: this.settings });
  }
}
