/**
 * kiln-accountant as the program deploys it: least-privilege RBAC, a locked-down pod, settings from the
 * stack's teams and budgets (local stack: vision has 500 GPU-hours a month), its image per platform.
 */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { parseSettings } from "../../../contract/accounting/settings";
import { object, objects, runStack } from "./support";

let local: ProgramRun;
let dev: ProgramRun;

beforeAll(async () => {
  local = await runStack("local");
  dev = await runStack("dev", { "kiln:teams": [{ name: "research", gpuQuota: 8, budget: { usd: 20000 } }] });
}, 120_000);

describe("kiln-accountant", () => {
  test("its settings are the stack's teams, queues and budgets, in the accountant's own schema", () => {
    const text = object(local, "ConfigMap", "kiln-accountant", "kiln-accountant").inputs.data["settings.json"];
    expect(parseSettings(text, "settings.json")).toEqual({
      region: "us-east-1",
      intervalSeconds: 10,
      openRecordRefreshSeconds: 300,
      recordRetentionDays: 35,
      healthPort: 8080,
      writeConcurrency: 8,
      teams: [
        { name: "research", namespace: "kiln-research", clusterQueue: "kiln-research" },
        {
          name: "vision",
          namespace: "kiln-vision",
          clusterQueue: "kiln-vision",
          budget: { unit: "gpuHours", limit: 500 },
        },
      ],
    });
    const devSettings = parseSettings(
      object(dev, "ConfigMap", "kiln-accountant", "kiln-accountant").inputs.data["settings.json"],
      "dev",
    );
    expect(devSettings.teams).toEqual([
      {
        name: "research",
        namespace: "kiln-research",
        clusterQueue: "kiln-research",
        budget: { unit: "usd", limit: 20000 },
      },
    ]);
  });

  test("it may patch only the team ClusterQueues, by name, and read nodes; nothing else cluster-wide", () => {
    const rules = object(local, "ClusterRole", "kiln-accountant").inputs.rules;
    expect(rules).toEqual([
      { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
      {
        apiGroups: ["kueue.x-k8s.io"],
        resources: ["clusterqueues"],
        resourceNames: ["kiln-research", "kiln-vision"],
        verbs: ["get", "patch"],
      },
    ]);
  });

  test("in each team namespace it lists and watches Jobs and pods and writes and prunes ConfigMaps; no Secrets, no wildcards", () => {
    for (const ns of ["kiln-research", "kiln-vision"]) {
      const role = object(local, "Role", "kiln-accountant", ns).inputs;
      expect(role.rules).toEqual([
        { apiGroups: ["batch"], resources: ["jobs"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update", "delete"] },
      ]);
      const binding = object(local, "RoleBinding", "kiln-accountant", ns).inputs;
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: "kiln-accountant", namespace: "kiln-accountant" },
      ]);
    }
    const all = [...objects(local, "Role"), ...objects(local, "ClusterRole")].filter(
      (r) => r.inputs.metadata.name === "kiln-accountant",
    );
    const text = JSON.stringify(all.map((r) => r.inputs.rules));
    expect(text).not.toContain('"*"');
    expect(text).not.toContain("secrets");
  });

  test("its pod runs as non-root with a read-only root file system and no capabilities, one replica at a time", () => {
    const d = object(local, "Deployment", "kiln-accountant", "kiln-accountant").inputs.spec;
    expect(d.replicas).toBe(1);
    expect(d.strategy).toEqual({ type: "Recreate" });
    const pod = d.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [c] = pod.containers;
    expect(c.image).toBe("localhost:5000/kiln/accountant:0.1.0");
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.resources.limits.memory).toBe("256Mi");
    expect(
      object(local, "Namespace", "kiln-accountant").inputs.metadata.labels["pod-security.kubernetes.io/enforce"],
    ).toBe("restricted");
  });

  test("on aws its image comes from the stack's own ECR repository and its egress is DNS and the API server in the VPC", () => {
    const repo = dev.ofType("aws:ecr/repository:Repository").map((r) => r.inputs.name);
    expect(repo).toContain("kiln-dev/accountant");
    const np = object(dev, "NetworkPolicy", "kiln-accountant", "kiln-accountant").inputs.spec;
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    // Only the probes' port comes in (the kubelet's probes; the endpoints tell liveness and readiness, nothing else).
    expect(np.ingress).toEqual([{ ports: [{ protocol: "TCP", port: 8080 }] }]);
    expect(np.egress[1]).toEqual({
      to: [{ ipBlock: { cidr: "10.0.0.0/16" } }],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 6443 },
      ],
    });
  });

  test("on aws the first pulumi up does not wait for the accountant: its image is pushed to the stack's new ECR repository afterwards", () => {
    const d = object(dev, "Deployment", "kiln-accountant", "kiln-accountant").inputs;
    expect(d.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    expect(d.spec.template.spec.containers[0].image).toMatch(/\/kiln-dev\/accountant:0\.1\.0$/);
  });

  test("where its image exists before pulumi up (local: loaded into the node; aws: a repository of your own) the Deployment is awaited", async () => {
    expect(
      object(local, "Deployment", "kiln-accountant", "kiln-accountant").inputs.metadata.annotations,
    ).toBeUndefined();
    const own = await runStack("dev", {
      "kiln:accountant": { repository: "123456789012.dkr.ecr.us-west-2.amazonaws.com/tools/accountant" },
    });
    const d = object(own, "Deployment", "kiln-accountant", "kiln-accountant").inputs;
    expect(d.spec.template.spec.containers[0].image).toBe(
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/tools/accountant:0.1.0",
    );
    expect(d.metadata.annotations).toBeUndefined();
  });

  test("its pod answers the kubelet's liveness and readiness probes on its settings' health port, as non-root", () => {
    const pod = object(local, "Deployment", "kiln-accountant", "kiln-accountant").inputs.spec.template.spec;
    const [c] = pod.containers;
    const port = parseSettings(
      object(local, "ConfigMap", "kiln-accountant", "kiln-accountant").inputs.data["settings.json"],
      "settings.json",
    ).healthPort;
    expect(c.ports).toEqual([{ name: "health", containerPort: port, protocol: "TCP" }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
    // A non-root process may bind it.
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    const np = object(local, "NetworkPolicy", "kiln-accountant", "kiln-accountant").inputs.spec;
    expect(np.ingress).toEqual([{ ports: [{ protocol: "TCP", port }] }]);
  });

  test("without Kueue its settings name no ClusterQueue, and the accountant accepts them", async () => {
    const noKueue = await runStack("local", {
      "kiln:kueue": { enabled: false },
      "kiln:topology": { enabled: false },
      "kiln:teams": [{ name: "research", gpuQuota: 8 }],
    });
    const text = object(noKueue, "ConfigMap", "kiln-accountant", "kiln-accountant").inputs.data["settings.json"];
    expect(parseSettings(text, "settings.json").teams).toEqual([{ name: "research", namespace: "kiln-research" }]);
  });

  test("kiln:accountant.enabled false deploys none", async () => {
    const off = await runStack("local", {
      "kiln:accountant": { enabled: false },
      "kiln:teams": [{ name: "research", gpuQuota: 16 }],
    });
    expect(objects(off, "Deployment").filter((d) => d.inputs.metadata.name === "kiln-accountant")).toEqual([]);
  });
});
