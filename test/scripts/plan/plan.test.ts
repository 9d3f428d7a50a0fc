/** The offline plan of the dev stack: complete resource records, redaction, and the reviewer summary. */
import { type KilnConfig, parseConfig } from "../../../infra/config";
import { renderLocalCharts, typeToken } from "../../../scripts/plan/charts";
import { diffPlans } from "../../../scripts/plan/diff";
import { type Evaluation, evaluateStack, type PlanResource } from "../../../scripts/plan/evaluate";
import { renderPlan } from "../../../scripts/plan/markdown";
import type { Plan } from "../../../scripts/plan/plan";
import { checkPlan } from "../../../scripts/plan/policy";
import { FAMILY_FACTS, FIXED_HOURLY, gpuTypesOf, INSTANCE_PRICES } from "../../../contract/catalog/prices";
import { summarize } from "../../../scripts/plan/summary";
import { ROOT, stackConfig } from "../../../scripts/plan/engine/program";

let e: Evaluation;
let plan: Plan;
const toPlan = (resources: PlanResource[], config: KilnConfig): Plan => ({
  kilnPlan: 1,
  stack: "dev",
  project: "kiln",
  summary: summarize(resources, config),
  policy: { rules: 42, violations: checkPlan(resources) },
  resources,
  rendered: [],
  renderProblems: [],
  outputs: {},
});

beforeAll(async () => {
  e = await evaluateStack("dev");
  plan = toPlan(e.resources, e.config);
}, 120_000);

describe("plan.json resources", () => {
  test("every resource has URN, type, name, and parents/dependencies that exist in the plan", () => {
    const urns = new Set(e.resources.map((r) => r.urn));
    expect(e.resources.length).toBeGreaterThan(50);
    for (const r of e.resources) {
      expect(r.urn.startsWith("urn:pulumi:dev::kiln::")).toBe(true);
      expect(r.urn.endsWith(`::${r.name}`)).toBe(true);
      if (r.parent) expect(urns.has(r.parent)).toBe(true);
      for (const d of r.dependencies) expect(urns.has(d)).toBe(true);
    }
    const nested = e.resources.filter((r) => r.parent);
    expect(nested.length).toBeGreaterThan(e.resources.length / 2);
    expect(e.resources.filter((r) => r.dependencies.length > 0).length).toBeGreaterThan(10);
  });

  test("the S3 encryption config depends on its bucket and its KMS key", () => {
    const sse = e.resources.find((r) => r.type.includes("bucketServerSideEncryptionConfiguration"))!;
    const deps = sse.dependencies.map((d) => d.split("::").slice(-2)[0].split("$").pop());
    expect(deps).toEqual(expect.arrayContaining(["aws:s3/bucket:Bucket", "aws:kms/key:Key"]));
  });

  test("secrets are redacted: the kubeconfig output and secret inputs never appear in plan.json", () => {
    expect(e.outputs.kubeconfig).toBe("[secret]");
    expect(JSON.stringify(e)).not.toMatch(/mock-password|BEGIN CERTIFICATE/);
  });
});

describe("the repository's charts are rendered with the program's values and checked", () => {
  test("plans carry no absolute paths of this checkout (base and head plans compare equal)", () => {
    expect(JSON.stringify(e)).not.toContain(`${ROOT}/`);
    const trainer = e.resources.find(
      (r) => r.type === "kubernetes:helm.sh/v3:Release" && String(r.inputs.chart).endsWith("charts/trainer"),
    )!;
    expect(trainer.inputs.chart).toBe("./charts/trainer");
  });

  test("the trainer chart renders its CronJob template into the team namespace, and it passes the pack", () => {
    const { rendered, problems } = renderLocalCharts(e.resources, ROOT);
    expect(problems).toEqual([]);
    const cronJob = rendered.find((r) => r.type === "kubernetes:batch/v1:CronJob")!;
    expect(cronJob.inputs.metadata as any).toMatchObject({ name: "kiln-trainer", namespace: "kiln-research" });
    expect(rendered.map((r) => r.type)).toEqual(
      expect.arrayContaining(["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ServiceAccount"]),
    );
    expect(checkPlan([...e.resources, ...rendered])).toEqual([]);
  });

  test("a Job template that may escalate privileges is caught through the rendered chart", () => {
    const { rendered } = renderLocalCharts(e.resources, ROOT);
    const cronJob = rendered.find((r) => r.type === "kubernetes:batch/v1:CronJob")!;
    (cronJob.inputs as any).spec.jobTemplate.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation =
      true;
    expect([...new Set(checkPlan([...e.resources, ...rendered]).map((v) => v.rule))].sort()).toEqual([
      "trainer-pod-security",
      "workload-hardening",
    ]);
  });

  test("type tokens follow the Kubernetes provider's (core group for v1)", () => {
    expect(typeToken("v1", "ConfigMap")).toBe("kubernetes:core/v1:ConfigMap");
    expect(typeToken("batch/v1", "CronJob")).toBe("kubernetes:batch/v1:CronJob");
  });
});

describe("plan summary", () => {
  const cfg = () => parseConfig(stackConfig("dev"), "dev");

  test("GPU pools come from the NodePools: max GPUs and every priced instance type of the families", () => {
    const pools = plan.summary.gpuPools;
    const c = cfg();
    expect(pools.map((p) => [p.name, p.maxGpus, p.source])).toEqual(
      c.gpuPools.map((p) => [p.name, p.maxGpus, "NodePool"]),
    );
    expect([...pools[0].instanceTypes].sort()).toEqual([...gpuTypesOf("g5"), ...gpuTypesOf("g6")].sort());
    expect(pools[0].capacityTypes).toEqual(["spot"]);
    expect(plan.summary.maxGpus).toBe(c.gpuPools.reduce((s, p) => s + p.maxGpus, 0));
  });

  test("idle $/h = EKS + system nodes + NAT + interface endpoints, from the price table", () => {
    const c = cfg();
    const interfaceEndpoints = e.resources.filter(
      (r) => r.type === "aws:ec2/vpcEndpoint:VpcEndpoint" && r.inputs.vpcEndpointType === "Interface",
    ).length;
    const expected =
      FIXED_HOURLY.eksControlPlane +
      c.systemNodes.desiredSize * INSTANCE_PRICES[c.systemNodes.instanceTypes[0]].onDemand +
      (c.natGateways === "single" ? 1 : c.azCount) * FIXED_HOURLY.natGateway +
      interfaceEndpoints * c.azCount * FIXED_HOURLY.interfaceEndpointPerAz;
    expect(interfaceEndpoints).toBeGreaterThan(0);
    expect(plan.summary.idlePerHour).toBeCloseTo(expected, 2);
  });

  test("full load = idle + max GPUs at the cheapest/dearest per-GPU price; kW from board power", () => {
    const types = [...gpuTypesOf("g5"), ...gpuTypesOf("g6")];
    const perGpu = types.map((t) => INSTANCE_PRICES[t].onDemand / INSTANCE_PRICES[t].gpus);
    const s = plan.summary;
    expect(s.fullLoadOnDemandPerHour!.low).toBeCloseTo(s.idlePerHour! + 8 * Math.min(...perGpu), 1);
    expect(s.fullLoadOnDemandPerHour!.high).toBeCloseTo(s.idlePerHour! + 8 * Math.max(...perGpu), 1);
    expect(s.fullLoadSpotPerHour!.high).toBeLessThan(s.fullLoadOnDemandPerHour!.high);
    expect(s.fullLoadKw!.low).toBeCloseTo((8 * FAMILY_FACTS.g6.gpuWatts) / 1000, 2);
    expect(s.fullLoadKw!.high).toBeCloseTo((8 * FAMILY_FACTS.g5.gpuWatts) / 1000, 2);
  });

  test("network layout and Kueue quotas are summarized", () => {
    const c = cfg();
    const n = plan.summary.network!;
    expect(n.vpcCidr).toBe(c.vpcCidr);
    expect(n.subnets.filter((s) => s.tier === "private").map((s) => s.cidr)).toEqual([...c.subnets.private]);
    expect(new Set(n.subnets.map((s) => s.az)).size).toBe(c.azCount);
    expect(plan.summary.queues.map((q) => q.clusterQueue)).toEqual(c.teams.map((t) => `kiln-${t.name}`));
    expect(plan.summary.queues[0].gpus.reduce((s, g) => s + (g.nominalQuota ?? 0), 0)).toBe(c.teams[0].gpuQuota);
  });

  test("plan.md shows the pools, quotas, cost, network and the policy verdict", () => {
    const md = renderPlan(plan);
    for (const heading of ["### GPU pools", "### Kueue quotas", "### Cost and power", "### Network", "### Policy"])
      expect(md).toContain(heading);
    expect(md).toContain(`| ${plan.summary.gpuPools[0].name} | 8 |`);
    expect(md).toMatch(/idle \*\*\$\d+\.\d\d\/h\*\*/);
  });
});

describe("--against: plan diff (the PR comment)", () => {
  test("a bigger pool, a new resource and a removed one show up with GPU, $/h and kW deltas", () => {
    const head = JSON.parse(JSON.stringify(e.resources)) as PlanResource[];
    const np = head.find((r) => r.type === "kubernetes:karpenter.sh/v1:NodePool")!;
    (np.inputs as any).spec.limits["nvidia.com/gpu"] = 16;
    const removed = head.splice(
      head.findIndex((r) => r.type === "aws:sqs/queue:Queue"),
      1,
    )[0];
    head.push({ ...removed, urn: removed.urn.replace(/::[^:]+$/, "::extra-queue"), name: "extra-queue" });
    const d = diffPlans(plan, toPlan(head, e.config));
    expect(d.removed.map((r) => r.urn)).toEqual([removed.urn]);
    expect(d.added.map((r) => r.name)).toEqual(["extra-queue"]);
    expect(d.changed).toEqual([expect.objectContaining({ urn: np.urn, keys: ["spec.limits.nvidia.com/gpu"] })]);
    expect(d.maxGpus).toEqual({ base: 8, head: 16, delta: 8 });
    expect(d.fullLoadKw.delta).toBeCloseTo((8 * FAMILY_FACTS.g5.gpuWatts) / 1000, 5);
    expect(d.fullLoadOnDemandPerHour.delta).toBeGreaterThan(0);
    expect(d.idlePerHour.delta).toBe(0);
    const md = renderPlan(toPlan(head, e.config), d);
    expect(md).toContain("**1 to add · 1 to change · 1 to remove**");
    expect(md).toContain("| max GPUs | 8 | 16 | +8 |");
  });

  test("identical plans diff to nothing", () => {
    const d = diffPlans(plan, plan);
    expect([d.added, d.removed, d.changed]).toEqual([[], [], []]);
    expect(d.maxGpus.delta).toBe(0);
  });
});
