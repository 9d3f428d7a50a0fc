/**
 * The same cluster layer on the dev (aws) stack: Pulumi.dev.yaml has one pool a10g-l4-spot (8 GPUs)
 * and one team research (gpuQuota 8). Needs infra/aws (AwsPlatform).
 */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { gpuNominalByFlavor, object, objects, releases, runStack } from "./support";

let dev: ProgramRun;
beforeAll(async () => {
  dev = await runStack("dev");
}, 120_000);

test("the dev stack evaluates with the cluster layer on top of the aws platform", () => {
  expect(dev.outputs.platformName).toBe("aws");
  expect(dev.outputs.teamNamespaces).toEqual({ research: "kiln-research" });
  expect(dev.outputs.launchCommand).toBe("kubectl create job <name> --from=cronjob/kiln-trainer -n kiln-research");
});

test("every cluster-layer component waits for the platform's capacity (clusterReady)", () => {
  const services = dev.resources.find((r) => r.type === "kiln:cluster:Services")!;
  const layers = dev.resources.filter((r) => r.parent === services.urn);
  expect(layers.map((r) => r.type).sort()).toEqual([
    "kiln:cluster:Accountant",
    "kiln:cluster:GpuServices",
    "kiln:cluster:JobSet",
    "kiln:cluster:PriorityClasses",
    "kiln:cluster:Queues",
    "kiln:cluster:RunPeersPolicy",
    "kiln:cluster:TeamNamespace",
    "kiln:cluster:TrainerRelease",
  ]);
  const karpenter = releases(dev, "karpenter")[0];
  for (const layer of layers) expect(layer.dependencies).toContain(karpenter.urn);
});

test("ClusterQueue GPU quotas per flavor sum to the pool limit", () => {
  expect(gpuNominalByFlavor(dev)).toEqual({ "a10g-l4-spot": 8 });
});

test("the device plugin (default gpuServices) tolerates the GPU taint on the aws stack too", () => {
  const pod = object(dev, "DaemonSet", "nvidia-device-plugin", "kiln-gpu").inputs.spec.template.spec;
  expect(pod.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
});

test("on aws the trainer uses its cloud identity: no static credentials Secret, no endpoint", () => {
  expect(objects(dev, "Secret", "kiln-research")).toEqual([]);
  const values = releases(dev, "kiln-trainer", "kiln-research")[0].inputs.values;
  expect(values.objectStore).toEqual({ region: "us-west-2" });
  expect(values.image.repository).toMatch(/^\d{12}\.dkr\.ecr\.us-west-2\.amazonaws\.com\//);
  expect(values.runSpec.dataset.uri).toMatch(/^s3:\/\/kiln-dev-.*datasets.*\/auto-mpg\/auto-mpg\.csv$/);
});

test("on aws, team pods may reach the EKS Pod Identity agent (and nothing else new)", () => {
  const [rule] = object(dev, "NetworkPolicy", "allow-identity", "kiln-research").inputs.spec.egress;
  expect(rule).toEqual({ to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 80 }] });
});

test("every team namespace has the PSS labels, quota and default-deny policy", () => {
  expect(object(dev, "Namespace", "kiln-research").inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe(
    "restricted",
  );
  expect(objects(dev, "ResourceQuota", "kiln-research")[0].inputs.spec.hard["requests.nvidia.com/gpu"]).toBe("8");
  expect(object(dev, "NetworkPolicy", "default-deny", "kiln-research").inputs.spec.policyTypes).toEqual([
    "Ingress",
    "Egress",
  ]);
});

test("on aws the Kueue controller runs on the tainted system nodes (its webhook must answer every Job)", () => {
  const values = releases(dev, "kueue")[0].inputs.values;
  expect(values.controllerManager).toEqual({
    nodeSelector: { "kiln.dev/node-role": "system" },
    tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoSchedule" }],
  });
});

test("kiln:prometheusOperator true adds the DCGM exporter's ServiceMonitor to the stack", async () => {
  expect(objects(dev, "ServiceMonitor")).toEqual([]);
  const withOperator = await runStack("dev", { "kiln:prometheusOperator": true });
  expect(object(withOperator, "ServiceMonitor", "dcgm-exporter").inputs.spec.selector).toEqual({
    matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" },
  });
}, 120_000);

test("training egress on aws: the S3 prefix list's ranges on 443 and the Pod Identity agent, never the whole internet", () => {
  const store = object(dev, "NetworkPolicy", "allow-object-store", "kiln-research").inputs.spec.egress;
  expect(store).toEqual([
    {
      to: ["18.34.244.0/22", "18.34.48.0/20", "3.5.76.0/22", "3.5.80.0/21", "52.218.128.0/17", "52.92.128.0/17"].map(
        (cidr) => ({ ipBlock: { cidr } }),
      ),
      ports: [{ protocol: "TCP", port: 443 }],
    },
  ]);
  const identity = object(dev, "NetworkPolicy", "allow-identity", "kiln-research").inputs.spec.egress;
  expect(identity).toEqual([
    { to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
  ]);
  const everyBlock = objects(dev, "NetworkPolicy").flatMap((np) =>
    (np.inputs.spec.egress ?? []).flatMap((r: any) => (r.to ?? []).map((p: any) => p.ipBlock?.cidr)),
  );
  expect(everyBlock).not.toContain("0.0.0.0/0");
});
