/**
 * The cluster layer as the local stack builds it (Pulumi.local.yaml: pools a10g 16 / h100 8, teams
 * research 16 (all pools) and vision 8 (a10g)), evaluated through the real program under mocks.
 */
import type { ProgramRun } from "../../../scripts/plan/engine/program";
import { gpuNominalByFlavor, object, objects, releases, reveal, runStack } from "./support";

const TEAM_NAMESPACES = ["kiln-research", "kiln-vision"];
let local: ProgramRun;

beforeAll(async () => {
  local = await runStack("local");
}, 60_000);

describe("team namespaces", () => {
  test("every team namespace enforces, audits and warns at Pod Security 'restricted'", () => {
    for (const ns of TEAM_NAMESPACES) {
      const labels = object(local, "Namespace", ns).inputs.metadata.labels;
      for (const mode of ["enforce", "audit", "warn"]) {
        expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe("restricted");
        expect(labels[`pod-security.kubernetes.io/${mode}-version`]).toBe("latest");
      }
    }
  });

  test("every team namespace has a ResourceQuota capping GPUs at the team's gpuQuota, cpu, memory and Job count", () => {
    const hard = (ns: string) => objects(local, "ResourceQuota", ns)[0].inputs.spec.hard;
    expect(hard("kiln-research")).toEqual({
      "requests.nvidia.com/gpu": "16",
      "requests.cpu": "64",
      "requests.memory": "512Gi",
      "count/jobs.batch": "2000",
    });
    expect(hard("kiln-vision")["requests.nvidia.com/gpu"]).toBe("8");
  });

  test("every team namespace has LimitRange default requests for containers", () => {
    for (const ns of TEAM_NAMESPACES) {
      const [limit] = objects(local, "LimitRange", ns)[0].inputs.spec.limits;
      expect(limit).toEqual({ type: "Container", defaultRequest: { cpu: "500m", memory: "1Gi" } });
    }
  });

  test("every team namespace denies all ingress and egress by default", () => {
    for (const ns of TEAM_NAMESPACES) {
      const deny = object(local, "NetworkPolicy", "default-deny", ns).inputs.spec;
      expect(deny).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    }
  });

  test("the only egress allowed is DNS to kube-dns and the object store's port", () => {
    for (const ns of TEAM_NAMESPACES) {
      const policies = objects(local, "NetworkPolicy", ns);
      expect(policies.map((p) => p.inputs.metadata.name).sort()).toEqual([
        "allow-dns",
        "allow-object-store",
        "default-deny",
      ]);
      expect(policies.every((p) => p.inputs.spec.ingress === undefined)).toBe(true);
      const dns = object(local, "NetworkPolicy", "allow-dns", ns).inputs.spec.egress;
      expect(dns).toEqual([
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
      ]);
      const store = object(local, "NetworkPolicy", "allow-object-store", ns).inputs.spec.egress;
      expect(store).toEqual([
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kiln-system" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "minio", "app.kubernetes.io/instance": "kiln" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 9000 }],
        },
      ]);
    }
  });

  test("kiln-submitter may manage Jobs, read pods, logs, the run spec and the template, and nothing else", () => {
    const role = object(local, "Role", "kiln-submitter", "kiln-research").inputs;
    expect(role.rules).toEqual([
      { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete", "patch"] },
      { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] },
      { apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get", "list"] },
      { apiGroups: ["jobset.x-k8s.io"], resources: ["jobsets"], verbs: ["create", "get", "list", "watch", "delete"] },
      { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["create", "get", "list", "watch"] },
    ]);
    const verbs = role.rules.flatMap((r: { verbs: string[] }) => r.verbs);
    expect(verbs).not.toContain("*");
    expect(role.rules.flatMap((r: { resources: string[] }) => r.resources)).not.toContain("secrets");
  });

  test("kiln-submitter is bound to the group kiln:<team>:submitters", () => {
    for (const team of ["research", "vision"]) {
      const binding = object(local, "RoleBinding", "kiln-submitter", `kiln-${team}`).inputs;
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "kiln-submitter" });
      expect(binding.subjects).toEqual([
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: `kiln:${team}:submitters` },
      ]);
    }
  });

  test("the local platform's object-store credentials are a secret kiln-object-store in every team namespace", () => {
    for (const ns of TEAM_NAMESPACES) {
      const data = object(local, "Secret", "kiln-object-store", ns).inputs.stringData;
      expect(reveal(data)).toEqual({
        AWS_ACCESS_KEY_ID: "kiln-trainer",
        AWS_SECRET_ACCESS_KEY: "mock-password-kiln-local-minio-trainer-secret",
      });
    }
  });

  test("the trainer ServiceAccount is left to the chart (no duplicate)", () => {
    // The only ServiceAccount the program makes is the accountant's own.
    expect(
      objects(local, "ServiceAccount").map((sa) => `${sa.inputs.metadata.namespace}/${sa.inputs.metadata.name}`),
    ).toEqual(["kiln-accountant/kiln-accountant"]);
  });
});

describe("priority classes", () => {
  test("kiln-training (1000, preempts lower) and kiln-system (100000); neither is the default", () => {
    const training = object(local, "PriorityClass", "kiln-training").inputs;
    const system = object(local, "PriorityClass", "kiln-system").inputs;
    expect([training.value, training.globalDefault, training.preemptionPolicy]).toEqual([
      1000,
      false,
      "PreemptLowerPriority",
    ]);
    expect([system.value, system.globalDefault]).toEqual([100000, false]);
  });
});

describe("queues", () => {
  test("Kueue is installed from its pinned OCI chart", () => {
    const [kueue] = releases(local, "kueue");
    expect(kueue.inputs).toMatchObject({
      chart: "oci://registry.k8s.io/kueue/charts/kueue",
      version: "0.14.8",
      namespace: "kueue-system",
    });
  });

  test("every queue object depends on the Kueue release (its CRDs)", () => {
    const [kueue] = releases(local, "kueue");
    const queueObjects = [
      ...objects(local, "ResourceFlavor"),
      ...objects(local, "ClusterQueue"),
      ...objects(local, "LocalQueue"),
    ];
    expect(queueObjects).toHaveLength(3 + 2 + 2);
    for (const q of queueObjects) expect(q.dependencies).toContain(kueue.urn);
  });

  test("one ResourceFlavor per GPU pool selects the pool's nodes and tolerates the GPU taint, plus a cpu flavor", () => {
    expect(
      objects(local, "ResourceFlavor")
        .map((f) => f.inputs.metadata.name)
        .sort(),
    ).toEqual(["a10g", "cpu", "h100"]);
    const a10g = object(local, "ResourceFlavor", "a10g").inputs.spec;
    expect(a10g.nodeLabels).toEqual({ "kiln.dev/gpu-pool": "a10g" });
    // The contract's toleration: Kueue adds it to the pods it admits on the flavor, as the plugin does.
    expect(a10g.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
  });

  test("ClusterQueue GPU quotas per flavor sum to the pool limit", () => {
    expect(gpuNominalByFlavor(local)).toEqual({ a10g: 16, h100: 8 });
  });

  test("each team has a ClusterQueue kiln-<team> in cohort kiln, admitting only its namespace", () => {
    for (const team of ["research", "vision"]) {
      const spec = object(local, "ClusterQueue", `kiln-${team}`).inputs.spec;
      expect(spec.cohort).toBe("kiln");
      expect(spec.namespaceSelector).toEqual({ matchLabels: { "kubernetes.io/metadata.name": `kiln-${team}` } });
    }
  });

  test("a team may borrow idle GPUs only up to its own gpuQuota", () => {
    const gpu = (team: string) =>
      object(local, "ClusterQueue", `kiln-${team}`).inputs.spec.resourceGroups.find(
        (g: { coveredResources: string[] }) => g.coveredResources.includes("nvidia.com/gpu"),
      );
    const gpuOf = (f: { resources: { name: string }[] }) => f.resources.find((r) => r.name === "nvidia.com/gpu");
    // vision's one pool (a10g) is plain in the committed local stack: GPUs are a group of their own.
    expect(gpu("vision").flavors.map((f: any) => [f.name, gpuOf(f)])).toEqual([
      ["a10g", { name: "nvidia.com/gpu", nominalQuota: 5, borrowingLimit: 3 }],
    ]);
    expect(gpu("research").flavors.map((f: { name: string }) => f.name)).toEqual(["cpu", "a10g", "h100"]);
  });

  test("cpu and memory quota come from the team config, without borrowing, in every flavor of the one topology-aware group", () => {
    const groups = object(local, "ClusterQueue", "kiln-research").inputs.spec.resourceGroups;
    expect(groups).toHaveLength(1);
    expect(groups[0].coveredResources).toEqual(["cpu", "memory", "nvidia.com/gpu"]);
    for (const f of groups[0].flavors)
      expect(f.resources.slice(0, 2)).toEqual([
        { name: "cpu", nominalQuota: "64", borrowingLimit: "0" },
        { name: "memory", nominalQuota: "512Gi", borrowingLimit: "0" },
      ]);
  });

  test("topology off: cpu and memory in the cpu flavor, GPUs in one flavor per pool (two groups)", async () => {
    const run = await runStack("local", { "kiln:topology": { enabled: false } });
    const [cpuGroup, gpuGroup] = object(run, "ClusterQueue", "kiln-research").inputs.spec.resourceGroups;
    expect(cpuGroup).toEqual({
      coveredResources: ["cpu", "memory"],
      flavors: [
        {
          name: "cpu",
          resources: [
            { name: "cpu", nominalQuota: "64", borrowingLimit: "0" },
            { name: "memory", nominalQuota: "512Gi", borrowingLimit: "0" },
          ],
        },
      ],
    });
    expect(gpuGroup.flavors.map((f: { name: string }) => f.name)).toEqual(["a10g", "h100"]);
    expect(objects(run, "ResourceFlavor").every((f) => f.inputs.spec.topologyName === undefined)).toBe(true);
    expect(objects(run, "Topology")).toEqual([]);
  });

  test("each team namespace has a LocalQueue 'training' feeding its ClusterQueue", () => {
    for (const team of ["research", "vision"])
      expect(object(local, "LocalQueue", "training", `kiln-${team}`).inputs.spec).toEqual({
        clusterQueue: `kiln-${team}`,
      });
    expect(local.outputs.queues).toEqual({ research: "training", vision: "training" });
  });

  test("install external creates the queue objects but no Kueue release", async () => {
    const run = await runStack("local", {
      "kiln:kueue": { install: "external" },
      "kiln:jobset": { install: "external" },
    });
    expect(releases(run, "kueue")).toEqual([]);
    expect(releases(run, "jobset")).toEqual([]);
    expect(objects(run, "ClusterQueue")).toHaveLength(2);
    expect(gpuNominalByFlavor(run)).toEqual({ a10g: 16, h100: 8 });
  });

  test("Kueue disabled: no queue objects, and the chart gets no queue", async () => {
    const run = await runStack("local", {
      "kiln:kueue": { enabled: false },
      "kiln:topology": {},
      "kiln:teams": [{ name: "research", gpuQuota: 16 }],
    });
    expect(run.resources.filter((r) => r.type.includes("kueue.x-k8s.io"))).toEqual([]);
    expect(releases(run, "kueue")).toEqual([]);
    expect(releases(run, "kiln-trainer", "kiln-research")[0].inputs.values.queue).toBeUndefined();
    expect(run.outputs.queues).toEqual({});
  });
});

describe("trainer chart", () => {
  test("charts/trainer is installed as release kiln-trainer in every team namespace", () => {
    for (const ns of TEAM_NAMESPACES) {
      const [release] = releases(local, "kiln-trainer", ns);
      expect(release.inputs.chart).toMatch(/\/charts\/trainer$/);
    }
  });

  test("the chart release gets the platform's values: image, object store, credentials, queue, priority", () => {
    const values = releases(local, "kiln-trainer", "kiln-vision")[0].inputs.values;
    expect(values.image).toEqual({
      repository: "localhost:5000/kiln/trainer",
      tag: "0.1.0",
      pullPolicy: "IfNotPresent",
    });
    expect(values.serviceAccount).toEqual({ create: true, name: "kiln-trainer", annotations: {} });
    expect(values.gpus).toBe(1);
    expect(values.queue).toBe("training");
    expect(values.priorityClassName).toBe("kiln-training");
    expect(values.objectStore).toEqual({
      endpoint: "http://kiln-minio.kiln-system.svc:9000",
      region: "us-east-1",
      credentialsSecret: "kiln-object-store",
    });
  });

  test("the default run spec is the Auto MPG regression reading the datasets bucket and writing runs to artifacts", () => {
    const spec = releases(local, "kiln-trainer", "kiln-research")[0].inputs.values.runSpec;
    expect(spec.dataset).toEqual({
      uri: "s3://datasets/auto-mpg/auto-mpg.csv",
      target: "Miles_per_Gallon",
      drop: ["Name"],
      categorical: ["Origin"],
    });
    expect(spec.output).toEqual({ uri: "s3://artifacts/runs" });
    expect(spec.model.layers).toEqual([
      { units: 64, activation: "relu" },
      { units: 64, activation: "relu" },
    ]);
    expect(spec.training).toMatchObject({
      optimizer: { name: "adam", learningRate: 0.001 },
      epochs: 100,
      batchSize: 32,
      earlyStopping: { patience: 10 },
    });
  });

  test("the release waits for its namespace, credentials, LocalQueue and priority class", () => {
    const [release] = releases(local, "kiln-trainer", "kiln-research");
    const urnOf = (r: { urn: string }) => r.urn;
    const needed = [
      object(local, "Namespace", "kiln-research"),
      object(local, "Secret", "kiln-object-store", "kiln-research"),
      object(local, "LocalQueue", "training", "kiln-research"),
      object(local, "PriorityClass", "kiln-training"),
    ].map(urnOf);
    const parent = local.resources.find((r) => r.urn === release.parent)!;
    const deps = new Set([...release.dependencies, ...parent.dependencies]);
    for (const urn of needed) expect(deps).toContain(urn);
  });

  test("defaultGpus reaches the chart", async () => {
    const run = await runStack("local", {
      "kiln:trainer": { repository: "registry.lab:5000/kiln/trainer", tag: "1.2.3", defaultGpus: 0 },
    });
    const values = releases(run, "kiln-trainer", "kiln-research")[0].inputs.values;
    expect(values.gpus).toBe(0);
    expect(values.image).toMatchObject({ repository: "registry.lab:5000/kiln/trainer", tag: "1.2.3" });
  });
});

describe("outputs", () => {
  test("teamNamespaces and the launch command for the first team", () => {
    expect(local.outputs.teamNamespaces).toEqual({ research: "kiln-research", vision: "kiln-vision" });
    expect(local.outputs.launchCommand).toBe("kubectl create job <name> --from=cronjob/kiln-trainer -n kiln-research");
  });

  test("renaming nothing but reordering teams keeps every resource name", async () => {
    const run = await runStack("local", {
      "kiln:teams": [
        { name: "vision", gpuQuota: 8, pools: ["a10g"] },
        { name: "research", gpuQuota: 16 },
      ],
    });
    const names = (r: ProgramRun) => r.resources.map((x) => `${x.type}::${x.name}`).sort();
    expect(names(run)).toEqual(names(local));
    expect(gpuNominalByFlavor(run)).toEqual(gpuNominalByFlavor(local));
  });
});
