/**
 * Network, control plane, system nodes and Karpenter GPU capacity, checked on the real program with
 * the dev stack's config and with overrides.
 */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { doc, inputsFrom, runStack } from "./harness";

let dev: ProgramRun;
let twoAzPerAz: ProgramRun;
let typesPool: ProgramRun;
beforeAll(async () => {
  dev = await runStack("dev");
  twoAzPerAz = await runStack("dev", {
    "kiln:azCount": 2,
    "kiln:natGateways": "perAz",
    "kiln:adminRoleArns": ["arn:aws:iam::123456789012:role/platform/Admin", "arn:aws:iam::210987654321:role/Ops"],
  });
  typesPool = await runStack("dev", {
    "kiln:gpuPools": [
      { name: "h100-od", instanceTypes: ["p5.48xlarge"], capacityTypes: ["on-demand"], maxGpus: 16 },
      { name: "a10g-l4-spot", instanceFamilies: ["g5", "g6"], capacityTypes: ["spot", "on-demand"], maxGpus: 8 },
    ],
  });
}, 120_000);

const subnets = (run: ProgramRun, kind: "public" | "private") =>
  run.ofType("aws:ec2/subnet:Subnet").filter((s) => s.name.includes(`-${kind}-`));

describe("network", () => {
  test("public and private subnets span kiln:azCount AZs (3 in dev)", () => {
    for (const kind of ["public", "private"] as const) {
      const s = subnets(dev, kind);
      expect(s.length).toBe(3);
      expect(new Set(s.map((x) => x.inputs.availabilityZone)).size).toBe(3);
    }
    expect(
      subnets(dev, "private")
        .map((s) => s.inputs.cidrBlock)
        .sort(),
    ).toEqual(["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]);
  });

  test("azCount 2 gives two AZs of subnets, each in a distinct AZ", () => {
    for (const kind of ["public", "private"] as const) {
      const s = subnets(twoAzPerAz, kind);
      expect(s.length).toBe(2);
      expect(new Set(s.map((x) => x.inputs.availabilityZone))).toEqual(new Set(["us-west-2a", "us-west-2b"]));
    }
  });

  test("subnets are named by their AZ, so their names do not depend on list position", () => {
    expect(
      subnets(dev, "private")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["us-west-2a", "us-west-2b", "us-west-2c"].map((az) => `kiln-dev-network-private-${az}`));
    for (const s of dev.ofType("aws:ec2/subnet:Subnet")) expect(s.name.endsWith(s.inputs.availabilityZone)).toBe(true);
  });

  test("natGateways single makes one NAT gateway; perAz makes one per AZ", () => {
    expect(dev.ofType("aws:ec2/natGateway:NatGateway").length).toBe(1);
    expect(twoAzPerAz.ofType("aws:ec2/natGateway:NatGateway").length).toBe(2);
    const natSubnets = twoAzPerAz
      .ofType("aws:ec2/natGateway:NatGateway")
      .map((n) => inputsFrom(twoAzPerAz, n, "aws:ec2/subnet:Subnet"));
    expect(natSubnets.sort()).toEqual([["kiln-dev-network-public-us-west-2a"], ["kiln-dev-network-public-us-west-2b"]]);
    // Each private route table sends 0.0.0.0/0 to its own AZ's NAT gateway.
    for (const az of ["us-west-2a", "us-west-2b"]) {
      const route = twoAzPerAz.named("aws:ec2/route:Route", `kiln-dev-network-private-${az}-default`);
      expect(inputsFrom(twoAzPerAz, route, "aws:ec2/natGateway:NatGateway")).toEqual([`kiln-dev-network-nat-${az}`]);
    }
    for (const az of ["us-west-2a", "us-west-2b", "us-west-2c"]) {
      const route = dev.named("aws:ec2/route:Route", `kiln-dev-network-private-${az}-default`);
      expect(inputsFrom(dev, route, "aws:ec2/natGateway:NatGateway")).toEqual(["kiln-dev-network-nat-us-west-2a"]);
    }
  });

  test("subnets carry load-balancer roles, and private subnets the Karpenter discovery tag", () => {
    for (const s of subnets(dev, "public")) expect(s.inputs.tags).toMatchObject({ "kubernetes.io/role/elb": "1" });
    for (const s of subnets(dev, "private"))
      expect(s.inputs.tags).toMatchObject({
        "kubernetes.io/role/internal-elb": "1",
        "karpenter.sh/discovery": "kiln-dev",
      });
    for (const s of subnets(dev, "public")) expect(s.inputs.tags["karpenter.sh/discovery"]).toBeUndefined();
  });

  test("S3 has a gateway endpoint; ECR api and dkr have private interface endpoints behind a VPC-only 443 group", () => {
    const eps = dev.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    const byService = Object.fromEntries(eps.map((e) => [e.inputs.serviceName, e.inputs]));
    expect(byService["com.amazonaws.us-west-2.s3"]).toMatchObject({ vpcEndpointType: "Gateway" });
    const s3 = eps.find((e) => e.inputs.serviceName === "com.amazonaws.us-west-2.s3")!;
    expect(inputsFrom(dev, s3, "aws:ec2/routeTable:RouteTable")).toEqual(
      ["us-west-2a", "us-west-2b", "us-west-2c"].map((az) => `kiln-dev-network-private-${az}`),
    );
    for (const svc of ["ecr.api", "ecr.dkr"]) {
      const ep = eps.find((e) => e.inputs.serviceName === `com.amazonaws.us-west-2.${svc}`)!;
      expect(ep.inputs).toMatchObject({ vpcEndpointType: "Interface", privateDnsEnabled: true });
      expect(inputsFrom(dev, ep, "aws:ec2/subnet:Subnet").every((n) => n.includes("-private-"))).toBe(true);
      expect(inputsFrom(dev, ep, "aws:ec2/subnet:Subnet").length).toBe(3);
      const sgs = inputsFrom(dev, ep, "aws:ec2/securityGroup:SecurityGroup");
      expect(sgs).toEqual(["kiln-dev-network-endpoints"]);
      expect(dev.named("aws:ec2/securityGroup:SecurityGroup", sgs[0]).inputs.ingress).toEqual([
        expect.objectContaining({ fromPort: 443, toPort: 443, protocol: "tcp", cidrBlocks: ["10.0.0.0/16"] }),
      ]);
    }
  });
});

describe("control plane", () => {
  test("EKS uses access entries only, logs every control-plane log type, and runs kiln:kubernetesVersion", () => {
    const eks = dev.ofType("aws:eks/cluster:Cluster")[0].inputs;
    expect(eks.name).toBe("kiln-dev");
    expect(eks.version).toBe("1.34");
    expect(eks.accessConfig.authenticationMode).toBe("API");
    expect([...eks.enabledClusterLogTypes].sort()).toEqual([
      "api",
      "audit",
      "authenticator",
      "controllerManager",
      "scheduler",
    ]);
    const subnetsUsed = inputsFrom(dev, dev.ofType("aws:eks/cluster:Cluster")[0], "aws:ec2/subnet:Subnet");
    expect(subnetsUsed).toEqual(
      ["us-west-2a", "us-west-2b", "us-west-2c"].map((az) => `kiln-dev-network-private-${az}`),
    );
  });

  test("every admin role gets a cluster-admin access entry named after the role, not its position", () => {
    const entries = twoAzPerAz.ofType("aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.type === "STANDARD");
    expect(entries.map((e) => e.name).sort()).toEqual([
      "kiln-dev-cluster-admin-123456789012-admin",
      "kiln-dev-cluster-admin-210987654321-ops",
    ]);
    const policies = twoAzPerAz.ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
    expect(policies.length).toBe(2);
    for (const p of policies)
      expect(p.inputs).toMatchObject({
        policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
        accessScope: { type: "cluster" },
      });
    expect(dev.ofType("aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.type === "STANDARD")).toEqual([]);
  });

  test("the OIDC provider trusts the cluster issuer for sts.amazonaws.com", () => {
    const oidc = dev.ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    expect(oidc.length).toBe(1);
    expect(oidc[0].inputs).toMatchObject({
      url: expect.stringMatching(/^https:\/\/oidc\.eks\./),
      clientIdLists: ["sts.amazonaws.com"],
    });
  });

  test("all five add-ons are installed; network add-ons before nodes, CoreDNS and EBS CSI after them", () => {
    const addons = Object.fromEntries(dev.ofType("aws:eks/addon:Addon").map((a) => [a.inputs.addonName, a]));
    expect(Object.keys(addons).sort()).toEqual([
      "aws-ebs-csi-driver",
      "coredns",
      "eks-pod-identity-agent",
      "kube-proxy",
      "vpc-cni",
    ]);
    const ng = dev.ofType("aws:eks/nodeGroup:NodeGroup")[0];
    for (const pre of ["vpc-cni", "kube-proxy", "eks-pod-identity-agent"])
      expect(ng.dependencies).toContain(addons[pre].urn);
    for (const post of ["coredns", "aws-ebs-csi-driver"]) expect(addons[post].dependencies).toContain(ng.urn);
    expect(JSON.parse(addons["vpc-cni"].inputs.configurationValues)).toEqual({ enableNetworkPolicy: "true" });
  });

  test("the EBS CSI controller gets its role through Pod Identity with the managed EBS CSI policy", () => {
    const ebs = dev.ofType("aws:eks/addon:Addon").find((a) => a.inputs.addonName === "aws-ebs-csi-driver")!;
    expect(ebs.inputs.podIdentityAssociations).toEqual([
      { roleArn: expect.stringMatching(/:role\//), serviceAccount: "ebs-csi-controller-sa" },
    ]);
    const role = dev.named("aws:iam/role:Role", "kiln-dev-addons-ebs-csi");
    expect(ebs.inputs.podIdentityAssociations[0].roleArn).toMatch(new RegExp(`:role/${role.name}-[0-9a-f]+$`));
    expect(doc(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "pods.eks.amazonaws.com" });
    const attached = dev
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => a.name === role.name)
      .map((a) => a.inputs.policyArn);
    expect(attached).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]);
  });
});

describe("system nodes", () => {
  test("the system node group is on-demand, tainted and labelled for system pods, from kiln:systemNodes", () => {
    const ng = dev.ofType("aws:eks/nodeGroup:NodeGroup");
    expect(ng.length).toBe(1);
    expect(ng[0].inputs).toMatchObject({
      capacityType: "ON_DEMAND",
      instanceTypes: ["m7i.large"],
      scalingConfig: { minSize: 2, desiredSize: 2, maxSize: 4 },
      labels: { "kiln.dev/node-role": "system" },
      taints: [{ key: "CriticalAddonsOnly", value: "true", effect: "NO_SCHEDULE" }],
    });
    const lt = dev.ofType("aws:ec2/launchTemplate:LaunchTemplate")[0];
    expect(inputsFrom(dev, ng[0], "aws:ec2/launchTemplate:LaunchTemplate")).toEqual([lt.name]);
    expect(inputsFrom(dev, ng[0], "aws:ec2/subnet:Subnet").every((n) => n.includes("-private-"))).toBe(true);
    expect(lt.inputs.blockDeviceMappings[0].ebs.volumeSize).toBe(50);
  });

  test("node roles may join the cluster and pull images, and nothing else", () => {
    const nodeRoles = dev
      .ofType("aws:iam/role:Role")
      .filter((r) => doc(r.inputs.assumeRolePolicy).Statement[0].Principal.Service === "ec2.amazonaws.com");
    expect(nodeRoles.length).toBe(2);
    for (const role of nodeRoles) {
      const attached = dev
        .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        .filter((a) => a.name.startsWith(`${role.name}-`))
        .map((a) => a.inputs.policyArn.split("/").pop());
      expect(attached.sort()).toEqual([
        "AmazonEC2ContainerRegistryPullOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
      ]);
    }
  });
});

describe("Karpenter", () => {
  test("the controller is installed from a pinned chart, CRDs first, on system nodes, fed by the interruption queue", () => {
    const releases = dev.ofType("kubernetes:helm.sh/v3:Release");
    const chart = releases.find((r) => r.inputs.name === "karpenter")!;
    const crd = releases.find((r) => r.inputs.name === "karpenter-crd")!;
    expect(chart.inputs.chart).toBe("oci://public.ecr.aws/karpenter/karpenter");
    expect(crd.inputs.chart).toBe("oci://public.ecr.aws/karpenter/karpenter-crd");
    expect(chart.inputs.version).toMatch(/^1\.\d+\.\d+$/);
    expect(crd.inputs.version).toBe(chart.inputs.version);
    expect(chart.dependencies).toContain(crd.urn);
    expect(chart.inputs.skipCrds).toBe(true);
    const queue = dev.ofType("aws:sqs/queue:Queue")[0];
    expect(chart.inputs.values.settings).toMatchObject({
      clusterName: "kiln-dev",
      interruptionQueue: queue.inputs.name,
    });
    expect(chart.inputs.values.nodeSelector).toEqual({ "kiln.dev/node-role": "system" });
    // IMDS hop limit 1 hides the region from pods: the controller gets it from its environment.
    expect(chart.inputs.values.controller.env).toEqual([{ name: "AWS_REGION", value: "us-west-2" }]);
    expect(chart.provider).toMatch(/pulumi:providers:kubernetes::kiln-dev-k8s::/);
  });

  test("spot interruption, rebalance, instance state change and scheduled change events reach the SSE queue", () => {
    const queue = dev.ofType("aws:sqs/queue:Queue");
    expect(queue.length).toBe(1);
    expect(queue[0].inputs.sqsManagedSseEnabled).toBe(true);
    const rules = dev
      .ofType("aws:cloudwatch/eventRule:EventRule")
      .map((r) => JSON.parse(r.inputs.eventPattern)["detail-type"][0]);
    expect(rules.sort()).toEqual([
      "AWS Health Event",
      "EC2 Instance Rebalance Recommendation",
      "EC2 Instance State-change Notification",
      "EC2 Spot Instance Interruption Warning",
    ]);
    const queueArn = "arn:aws:sqs:us-west-2:123456789012:kiln-dev";
    for (const t of dev.ofType("aws:cloudwatch/eventTarget:EventTarget")) expect(t.inputs.arn).toBe(queueArn);
    const qp = doc(dev.ofType("aws:sqs/queuePolicy:QueuePolicy")[0].inputs.policy).Statement;
    expect(qp.find((s) => s.Effect === "Deny")?.Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
  });

  test("the controller assumes its role through Pod Identity, and may pass only the GPU node role", () => {
    const assoc = dev
      .ofType("aws:eks/podIdentityAssociation:PodIdentityAssociation")
      .find((a) => a.inputs.serviceAccount === "karpenter")!;
    expect(assoc.inputs.namespace).toBe("kube-system");
    const policy = doc(
      dev.ofType("aws:iam/policy:Policy").find((p) => p.name.endsWith("karpenter-controller"))!.inputs.policy,
    ).Statement;
    const pass = policy.find((s) => s.Action === "iam:PassRole")!;
    const nodeRole = dev.named("aws:iam/role:Role", "kiln-dev-karpenter-node");
    expect(pass.Resource).toMatch(new RegExp(`:role/${nodeRole.name}-[0-9a-f]+$`));
    const entry = dev.ofType("aws:eks/accessEntry:AccessEntry").find((e) => e.inputs.type === "EC2_LINUX")!;
    expect(entry.inputs.principalArn).toBe(pass.Resource);
  });

  test("the EC2NodeClass uses AL2023 (Karpenter picks the NVIDIA-accelerated variant), discovery subnets and the cluster SG", () => {
    const spec = dev.ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")[0].inputs.spec;
    expect(spec.amiFamily).toBe("AL2023");
    expect(spec.amiSelectorTerms).toEqual([{ alias: expect.stringMatching(/^al2023@/) }]);
    expect(spec.subnetSelectorTerms).toEqual([{ tags: { "karpenter.sh/discovery": "kiln-dev" } }]);
    // The cluster security group id is only known after the cluster exists; the term takes it from the cluster.
    expect(spec.securityGroupSelectorTerms).toEqual([{ id: expect.anything() }]);
    const nodeClass = dev.ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")[0];
    expect(inputsFrom(dev, nodeClass, "aws:eks/cluster:Cluster")).toEqual(["kiln-dev-cluster-eks"]);
    expect(spec.role).toMatch(/^kiln-dev-karpenter-node-/);
  });

  for (const [label, pick] of [
    ["dev", () => dev],
    ["instance types + families", () => typesPool],
  ] as const) {
    test(`every GPU NodePool is tainted nvidia.com/gpu=true:NoSchedule, labelled with its pool and limited to maxGpus (${label})`, () => {
      const run = pick();
      const pools = run.ofType("kubernetes:karpenter.sh/v1:NodePool");
      const config = label === "dev" ? { "a10g-l4-spot": 8 } : { "h100-od": 16, "a10g-l4-spot": 8 };
      expect(pools.map((p) => p.inputs.metadata.name).sort()).toEqual(Object.keys(config).sort());
      for (const p of pools) {
        const name = p.inputs.metadata.name as keyof typeof config;
        expect(p.inputs.spec.template.spec.taints).toEqual([
          { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" },
        ]);
        expect(p.inputs.spec.template.metadata.labels["kiln.dev/gpu-pool"]).toBe(name);
        expect(p.inputs.spec.limits).toEqual({ "nvidia.com/gpu": config[name] });
        expect(p.inputs.spec.disruption).toMatchObject({
          consolidationPolicy: "WhenEmpty",
          consolidateAfter: expect.stringMatching(/^\d+[smh]$/),
        });
        expect(p.inputs.spec.disruption.budgets.length).toBeGreaterThan(0);
        // p5 (EFA) pools use the EFA node class (the EFA security group too); the others the plain one.
        const efa = name === "h100-od";
        expect(p.inputs.spec.template.spec.nodeClassRef).toEqual({
          group: "karpenter.k8s.aws",
          kind: "EC2NodeClass",
          name: efa ? "kiln-gpu-efa" : "kiln-gpu",
        });
        expect(p.inputs.spec.template.metadata.labels["kiln.dev/efa"]).toBe(efa ? "true" : undefined);
      }
    });
  }

  test("NodePool requirements pin the pool's families or types, capacity types and GPU names", () => {
    const reqs = (run: ProgramRun, pool: string) =>
      Object.fromEntries(
        run
          .ofType("kubernetes:karpenter.sh/v1:NodePool")
          .find((p) => p.inputs.metadata.name === pool)!
          .inputs.spec.template.spec.requirements.map((r: any) => [r.key, r.values]),
      );
    expect(reqs(dev, "a10g-l4-spot")).toMatchObject({
      "karpenter.k8s.aws/instance-family": ["g5", "g6"],
      "karpenter.sh/capacity-type": ["spot"],
      "karpenter.k8s.aws/instance-gpu-name": ["a10g", "l4"],
    });
    const h100 = reqs(typesPool, "h100-od");
    expect(h100).toMatchObject({
      "node.kubernetes.io/instance-type": ["p5.48xlarge"],
      "karpenter.sh/capacity-type": ["on-demand"],
      "karpenter.k8s.aws/instance-gpu-name": ["h100"],
    });
    expect(h100["karpenter.k8s.aws/instance-family"]).toBeUndefined();
  });

  test("adding a GPU pool in front of an existing one keeps the existing pool's resource name", () => {
    const names = (run: ProgramRun) => run.ofType("kubernetes:karpenter.sh/v1:NodePool").map((p) => p.name);
    expect(names(dev)).toEqual(["kiln-dev-gpu-a10g-l4-spot"]);
    expect(names(typesPool)).toContain("kiln-dev-gpu-a10g-l4-spot");
  });
});
