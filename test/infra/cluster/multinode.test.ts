/**
 * Multi-node runs in the cluster layer on the local stack: topology-aware queues, the run-peers
 * admission policy, RBAC and DNS egress; and the config keys they add.
 */
import { parseConfig } from "../../../infra/config";
import { runPeersPolicySpec } from "../../../infra/cluster/run-peers-policy";
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { object, objects, releases, runStack } from "./support";

let local: ProgramRun;
let allPools: ProgramRun;
beforeAll(async () => {
  local = await runStack("local");
  // The default on local: every pool topology-aware (the committed stack narrows it to h100).
  allPools = await runStack("local", { "kiln:topology": {} });
}, 120_000);

describe("topology on the local stack", () => {
  test("the Topology lists the harness's synthetic block and rack labels then the host", () => {
    const levels = object(local, "Topology", "kiln-topology").inputs.spec.levels.map(
      (l: { nodeLabel: string }) => l.nodeLabel,
    );
    expect(levels).toEqual(["kiln.dev/topology-block", "kiln.dev/topology-rack", "kubernetes.io/hostname"]);
  });

  test("every GPU pool flavor and the cpu flavor (CPU nodes) name the Topology: every team queue is topology-only", () => {
    for (const f of objects(allPools, "ResourceFlavor")) expect(f.inputs.spec.topologyName).toBe("kiln-topology");
    expect(object(allPools, "ResourceFlavor", "cpu").inputs.spec.nodeLabels).toEqual({ "kiln.dev/node-role": "cpu" });
    expect(object(allPools, "ResourceFlavor", "a10g").inputs.spec.nodeLabels).toEqual({ "kiln.dev/gpu-pool": "a10g" });
  });

  test("kiln:topology.pools naming some pools (the committed local stack: h100) keeps the cpu flavor plain (it is shared by every team)", async () => {
    const run = local;
    expect(object(run, "ResourceFlavor", "h100").inputs.spec.topologyName).toBe("kiln-topology");
    expect(object(run, "ResourceFlavor", "a10g").inputs.spec.topologyName).toBeUndefined();
    expect(object(run, "ResourceFlavor", "cpu").inputs.spec).toEqual({});
    // research (a10g + h100): one group, cpu flavor first; vision (a10g only): the two-group layout.
    expect(
      object(run, "ClusterQueue", "kiln-research").inputs.spec.resourceGroups[0].flavors.map((f: any) => f.name),
    ).toEqual(["cpu", "a10g", "h100"]);
    expect(object(run, "ClusterQueue", "kiln-vision").inputs.spec.resourceGroups).toHaveLength(2);
  });

  test("submitters may read the Topology (cluster-wide, get/list/watch only)", () => {
    const role = object(local, "ClusterRole", "kiln-topology-reader").inputs;
    expect(role.rules).toEqual([
      { apiGroups: ["kueue.x-k8s.io"], resources: ["topologies"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = object(local, "ClusterRoleBinding", "kiln-topology-reader").inputs;
    expect(binding.subjects.map((s: { name: string }) => s.name)).toEqual([
      "kiln:research:submitters",
      "kiln:vision:submitters",
    ]);
  });

  test("the local stack's Kueue chart (when installed) manages JobSets; the JobSet chart runs unless install is external", () => {
    expect(releases(local, "jobset")).toHaveLength(1);
    expect(releases(local, "kueue")[0].inputs.values.managerConfig.controllerManagerConfigYaml).toContain(
      "jobset.x-k8s.io/jobset",
    );
  });
});

describe("network and RBAC for multi-node runs", () => {
  test("DNS egress stays allowed in every team namespace: kube-system pods k8s-app=kube-dns on UDP and TCP 53", () => {
    for (const ns of ["kiln-research", "kiln-vision"])
      expect(object(local, "NetworkPolicy", "allow-dns", ns).inputs.spec.egress[0]).toEqual({
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
      });
  });

  test("kiln-submitter may create JobSets and NetworkPolicies, but never update or delete a NetworkPolicy", () => {
    const rules = object(local, "Role", "kiln-submitter", "kiln-research").inputs.rules;
    expect(rules).toContainEqual({
      apiGroups: ["jobset.x-k8s.io"],
      resources: ["jobsets"],
      verbs: ["create", "get", "list", "watch", "delete"],
    });
    const np = rules.find((r: { resources: string[] }) => r.resources.includes("networkpolicies"));
    expect(np.verbs).toEqual(["create", "get", "list", "watch"]);
  });

  test("the kiln-run-peers ValidatingAdmissionPolicy is bound (Deny) to team namespaces", () => {
    const policy = object(local, "ValidatingAdmissionPolicy", "kiln-run-peers").inputs;
    expect(policy.apiVersion).toBe("admissionregistration.k8s.io/v1");
    expect(policy.spec.failurePolicy).toBe("Fail");
    const binding = object(local, "ValidatingAdmissionPolicyBinding", "kiln-run-peers").inputs;
    expect(binding.spec).toMatchObject({ policyName: "kiln-run-peers", validationActions: ["Deny"] });
    expect(binding.spec.matchResources.namespaceSelector).toEqual({
      matchExpressions: [{ key: "kiln.dev/team", operator: "Exists" }],
    });
  });

  test("each team namespace holds its pools as runs see them (ConfigMap kiln-pools)", () => {
    const levels = ["kiln.dev/topology-block", "kiln.dev/topology-rack", "kubernetes.io/hostname"];
    const pools = (run: ProgramRun, ns: string) =>
      JSON.parse(object(run, "ConfigMap", "kiln-pools", ns).inputs.data["pools.json"]);
    expect(pools(allPools, "kiln-vision")).toEqual([
      { name: "a10g", maxGpus: 16, gpusPerNode: 8, topology: { name: "kiln-topology", levels } },
    ]);
    // The committed local stack: only h100 is topology-aware, and a pool that is not says nothing of topology.
    expect(pools(local, "kiln-vision")).toEqual([{ name: "a10g", maxGpus: 16, gpusPerNode: 8 }]);
    expect(pools(local, "kiln-research")).toEqual([
      { name: "a10g", maxGpus: 16, gpusPerNode: 8 },
      { name: "h100", maxGpus: 8, gpusPerNode: 8, topology: { name: "kiln-topology", levels } },
    ]);
  });
});

describe("the run-peers policy's CEL", () => {
  const spec = runPeersPolicySpec() as any;

  test("it applies to CREATE and UPDATE of NetworkPolicies in team namespaces, by submitters who are not cluster admins", () => {
    expect(spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ["networking.k8s.io"],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["networkpolicies"],
      },
    ]);
    expect(spec.matchConstraints.namespaceSelector).toEqual({
      matchExpressions: [{ key: "kiln.dev/team", operator: "Exists" }],
    });
    const conditions = spec.matchConditions.map((c: { expression: string }) => c.expression).join("\n");
    expect(conditions).toContain(":submitters$");
    expect(conditions).toContain("!('system:masters' in request.userInfo.groups)");
  });

  test("the validations check the run selector, the name, and both directions' peers (no namespaceSelector, no ipBlock, no empty peer list)", () => {
    const [selector, name, ingress, egress] = spec.validations.map((v: { expression: string }) => v.expression);
    expect(selector).toContain("object.spec.podSelector.matchLabels.size() == 2");
    expect(selector).toContain(
      "object.spec.podSelector.matchLabels['jobset.sigs.k8s.io/jobset-name'] == variables.run",
    );
    expect(selector).toContain("!has(object.spec.podSelector.matchExpressions)");
    expect(name).toBe("object.metadata.name == variables.run + '-peers'");
    for (const [expr, field] of [
      [ingress, "from"],
      [egress, "to"],
    ]) {
      expect(expr).toContain(`has(r.${field}) && r.${field}.size() > 0`);
      expect(expr).toContain("!has(p.namespaceSelector) && !has(p.ipBlock)");
      expect(expr).toContain("p.podSelector.matchLabels['kiln.dev/run'] == variables.run");
      expect(expr).toContain("p.podSelector.matchLabels['jobset.sigs.k8s.io/jobset-name'] == variables.run");
    }
    for (const v of spec.validations) expect(v.message ?? v.messageExpression).toBeTruthy();
  });

  test("every CEL expression has balanced parentheses and quotes (a typo fails in the API server, not here)", () => {
    const exprs = [...spec.matchConditions, ...spec.variables, ...spec.validations].flatMap((x: any) =>
      [x.expression, x.messageExpression].filter(Boolean),
    );
    for (const e of exprs) {
      const unquoted = e.replace(/'(?:[^'\\]|\\.)*'/g, "''");
      expect(unquoted.split("(").length).toBe(unquoted.split(")").length);
      expect(unquoted).not.toContain("'''");
    }
  });
});

describe("config keys", () => {
  const base = {
    "kiln:platform": "aws",
    "kiln:gpuPools": JSON.stringify([
      { name: "a10g", instanceFamilies: ["g5"], maxGpus: 8 },
      { name: "h100", instanceTypes: ["p5.48xlarge"], maxGpus: 8 },
    ]),
  };
  const problems = (raw: Record<string, string>) => {
    try {
      parseConfig(raw, "dev");
      return [];
    } catch (e) {
      return (e as { problems: string[] }).problems;
    }
  };

  test("defaults: JobSet chart 0.12.0, topology on with the platform's default pools", () => {
    const c = parseConfig(base, "dev");
    expect(c.jobset).toEqual({ enabled: true, install: "chart", version: "0.12.0" });
    expect(c.topology).toEqual({ enabled: true });
  });

  test("kiln:jobset errors name the key", () => {
    expect(problems({ ...base, "kiln:jobset": JSON.stringify({ install: "external" }) })).toEqual([
      "kiln:jobset.install: 'external' is for local test clusters; the aws platform installs JobSet's chart",
    ]);
    expect(problems({ ...base, "kiln:jobset": JSON.stringify({ version: "latest" }) })[0]).toMatch(
      /^kiln:jobset\.version: must be an exact chart version such as 0\.12\.0/,
    );
    expect(problems({ ...base, "kiln:jobset": JSON.stringify({ replicas: 2 }) })[0]).toMatch(
      /^kiln:jobset\.replicas: unknown field \(fields of kiln:jobset: enabled, install, version\)/,
    );
  });

  test("kiln:topology.pools: unknown pools, pools without EC2 instance topology (aws) and contradictions name the key", () => {
    expect(problems({ ...base, "kiln:topology": JSON.stringify({ pools: ["h200"] }) })).toEqual([
      "kiln:topology.pools[0]: unknown GPU pool 'h200' (pools: a10g, h100)",
    ]);
    expect(problems({ ...base, "kiln:topology": JSON.stringify({ pools: ["a10g"] }) })[0]).toMatch(
      /^kiln:topology\.pools\[0\]: pool 'a10g' \(g5\) has instance types without EC2 instance topology labels/,
    );
    expect(problems({ ...base, "kiln:topology": JSON.stringify({ pools: ["h100"] }) })).toEqual([]);
    expect(problems({ ...base, "kiln:topology": JSON.stringify({ enabled: false, pools: ["h100"] }) })).toEqual([
      "kiln:topology.pools: lists pools but kiln:topology.enabled is false: remove the list or enable topology",
    ]);
    expect(problems({ ...base, "kiln:topology": JSON.stringify({ enabled: "yes" }) })[0]).toMatch(
      /^kiln:topology\.enabled: /,
    );
    // On local any pool may be listed (the harness labels every node).
    expect(
      problems({
        "kiln:platform": "local",
        "kiln:trainer": JSON.stringify({ repository: "r/t" }),
        "kiln:gpuPools": base["kiln:gpuPools"],
        "kiln:topology": JSON.stringify({ pools: ["a10g"] }),
      }),
    ).toEqual([]);
  });
});
