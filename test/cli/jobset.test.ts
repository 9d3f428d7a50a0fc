/** `submit --image`: the JobSet built from the REAL chart's template (helm template), its env, rules, labels and NetworkPolicy. */
import type { V1Container, V1CronJob, V1EnvVar } from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import {
  AWS_TOPOLOGY_LEVELS,
  DEFAULT_MAX_RESTARTS,
  EXIT_DISRUPTED,
  EXIT_FAIL_NOW,
  LOCAL_TOPOLOGY_LEVELS,
} from "../../contract/workload";
import {
  conditionPattern,
  exitCodePattern,
  imageRunFromTemplate,
  type ImageRunOptions,
  type JobSet,
} from "../../cli/src/jobset";
import { helmTemplateRaw, renderTrainer } from "../charts/helm";
import { FakeKube, runCli, tempFile } from "./support";

const template = (values: Record<string, unknown> = {}) =>
  renderTrainer(values).find("CronJob", "kiln-trainer") as unknown as V1CronJob;
const OPTS: ImageRunOptions = {
  name: "llm-7",
  namespace: "kiln-ml",
  image: "registry.example.com/ml/train:1.4.2",
  command: ["torchrun", "train.py"],
  nodes: 4,
  artifactsBucket: "artifacts",
};
const build = (values: Record<string, unknown> = {}, opts: Partial<ImageRunOptions> = {}) =>
  imageRunFromTemplate(template(values), { ...OPTS, ...opts });
const jobOf = (js: JobSet) => js.spec.replicatedJobs[0].template;
const podOf = (js: JobSet) => jobOf(js).spec.template;
const containerOf = (js: JobSet): V1Container => podOf(js).spec!.containers[0];
const envOf = (js: JobSet): Record<string, V1EnvVar> =>
  Object.fromEntries(containerOf(js).env!.map((e) => [e.name, e]));

/** What Kubernetes does with $(VAR) in env values (dependent environment variables). */
function expand(env: V1EnvVar[], given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env)
    out[e.name] =
      e.value !== undefined
        ? e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, n: string) => out[n] ?? all)
        : (given[e.name] ?? "");
  return out;
}

describe("the JobSet of a run with your own image", () => {
  test("one replicated Job `node`, Indexed, completions = parallelism = nodes, backoffLimit 0, every webhook default set", () => {
    const { jobSet } = build();
    expect(jobSet).toMatchObject({
      apiVersion: "jobset.x-k8s.io/v1alpha2",
      kind: "JobSet",
      metadata: { name: "llm-7", namespace: "kiln-ml" },
    });
    expect(jobSet.spec.replicatedJobs).toHaveLength(1);
    expect(jobSet.spec.replicatedJobs[0]).toMatchObject({ name: "node", replicas: 1 });
    expect(jobOf(jobSet).spec).toMatchObject({
      completionMode: "Indexed",
      completions: 4,
      parallelism: 4,
      backoffLimit: 0,
    });
    expect(jobSet.spec.network).toEqual({
      enableDNSHostnames: true,
      subdomain: "llm-7",
      publishNotReadyAddresses: true,
    });
    expect(jobSet.spec.successPolicy).toEqual({ operator: "All", targetReplicatedJobs: ["node"] });
    expect(jobSet.spec.startupPolicy).toEqual({ startupPolicyOrder: "AnyOrder" });
    expect(jobSet.spec.failurePolicy).toMatchObject({ maxRestarts: DEFAULT_MAX_RESTARTS, restartStrategy: "Recreate" });
    for (const r of jobSet.spec.failurePolicy!.rules!)
      expect(r.name).toMatch(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/);
    expect(podOf(jobSet).spec!.restartPolicy).toBe("Never");
    // The JobSet suspends its Jobs and removes them with its own TTL.
    expect(jobOf(jobSet).spec.suspend).toBeUndefined();
    expect(jobOf(jobSet).spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(jobSet.spec.ttlSecondsAfterFinished).toBe(template().spec!.jobTemplate.spec!.ttlSecondsAfterFinished);
  });

  test("the pod template is the template's: security context, service account, volumes, annotations; only image, command, env and GPUs change", () => {
    const tpl = template({
      objectStore: {
        endpoint: "http://minio.kiln-system:9000",
        region: "us-east-1",
        credentialsSecret: "kiln-object-store",
      },
    });
    const { jobSet } = imageRunFromTemplate(tpl, OPTS);
    const want = tpl.spec!.jobTemplate.spec!.template;
    const got = podOf(jobSet);
    expect(got.spec!.securityContext).toEqual(want.spec!.securityContext);
    expect(got.spec!.serviceAccountName).toBe(want.spec!.serviceAccountName);
    expect(got.spec!.volumes).toEqual(want.spec!.volumes);
    expect(got.metadata!.annotations).toEqual(want.metadata!.annotations);
    const c = containerOf(jobSet);
    const tc = want.spec!.containers[0];
    expect(c).toMatchObject({ name: "trainer", image: OPTS.image, command: ["torchrun", "train.py"] });
    expect(c.args).toBeUndefined();
    expect(c.securityContext).toEqual(tc.securityContext);
    expect(c.volumeMounts).toEqual(tc.volumeMounts);
    const env = envOf(jobSet);
    // Trainer-only env goes; HOME and the object store's stay (credentials by reference).
    for (const gone of ["KILN_RUN_SPEC", "KILN_SWEEP_OVERRIDES", "KILN_CACHE_DIR", "KILN_GPUS"])
      expect(env[gone]).toBeUndefined();
    expect(env.HOME.value).toBe("/tmp");
    expect(env.AWS_REGION.value).toBe("us-east-1");
    expect(env.AWS_ENDPOINT_URL_S3.value).toBe("http://minio.kiln-system:9000");
    expect(env.AWS_ACCESS_KEY_ID.valueFrom?.secretKeyRef).toEqual({
      name: "kiln-object-store",
      key: "AWS_ACCESS_KEY_ID",
    });
    expect(env.AWS_SECRET_ACCESS_KEY.valueFrom?.secretKeyRef).toEqual({
      name: "kiln-object-store",
      key: "AWS_SECRET_ACCESS_KEY",
    });
  });

  test("every pod gets the workload contract's env; rank-dependent values expand per pod", () => {
    const { jobSet } = build({}, { gpus: 2 });
    const env = envOf(jobSet);
    expect(env.KILN_NODE_RANK.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.annotations['batch.kubernetes.io/job-completion-index']",
    );
    expect(env.KILN_RESTART_ATTEMPT.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.labels['jobset.sigs.k8s.io/restart-attempt']",
    );
    const host0 = "llm-7-node-0-0.llm-7";
    for (const rank of [0, 3]) {
      const v = expand(containerOf(jobSet).env!, { KILN_NODE_RANK: String(rank), KILN_RESTART_ATTEMPT: "2" });
      expect(v).toMatchObject({
        KILN_NODE_RANK: String(rank),
        KILN_NUM_NODES: "4",
        KILN_COORDINATOR: `${host0}:29500`,
        KILN_GPUS_PER_NODE: "2",
        KILN_RUN_ID: "llm-7",
        KILN_RESTART_ATTEMPT: "2",
        KILN_OUTPUT_URI: "s3://artifacts/runs/llm-7",
        KILN_CHECKPOINT_URI: "s3://artifacts/runs/llm-7/checkpoints",
        MASTER_ADDR: host0,
        MASTER_PORT: "29500",
        NNODES: "4",
        WORLD_SIZE: "4",
        NODE_RANK: String(rank),
        JAX_COORDINATOR_ADDRESS: `${host0}:29500`,
        JAX_NUM_PROCESSES: "4",
        JAX_PROCESS_ID: String(rank),
      });
      expect(JSON.parse(v.TF_CONFIG)).toEqual({
        cluster: { worker: [0, 1, 2, 3].map((i) => `llm-7-node-0-${i}.llm-7:29500`) },
        task: { type: "worker", index: rank },
      });
    }
  });

  test("--env is added after the contract and replaces a template variable of the same name", () => {
    const { jobSet } = build(
      {},
      {
        env: [
          { name: "NCCL_DEBUG", value: "INFO" },
          { name: "HOME", value: "/work" },
        ],
      },
    );
    const names = containerOf(jobSet).env!.map((e) => e.name);
    expect(names.filter((n) => n === "HOME")).toHaveLength(1);
    expect(names.slice(-2)).toEqual(["NCCL_DEBUG", "HOME"]);
    expect(envOf(jobSet).HOME.value).toBe("/work");
  });

  test("GPUs per node go through the GPU contract (requests = limits, one toleration, the pool kept); 0 makes CPU pods", () => {
    const gpu = build({ gpus: 1, gpuPool: "a100" }, { gpus: 8 }).jobSet;
    expect(containerOf(gpu).resources!.limits!["nvidia.com/gpu"]).toBe("8");
    expect(containerOf(gpu).resources!.requests!["nvidia.com/gpu"]).toBe("8");
    expect(podOf(gpu).spec!.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    expect(podOf(gpu).spec!.nodeSelector).toEqual({ "kiln.dev/gpu-pool": "a100" });
    const cpu = build({ gpus: 1 }, { gpus: 0 }).jobSet;
    expect(containerOf(cpu).resources!.limits).not.toHaveProperty(["nvidia.com/gpu"]);
    expect(podOf(cpu).spec!.tolerations).toBeUndefined();
    expect(envOf(cpu).KILN_GPUS_PER_NODE.value).toBe("0");
    expect(envOf(build({ gpus: 4 }).jobSet).KILN_GPUS_PER_NODE.value).toBe("4");
  });

  test("the ranks of a multi-node run prefer nodes of their own (anti-affinity on the host name); one node has none", () => {
    const multi = podOf(build({}, { nodes: 4 }).jobSet).spec!.affinity!.podAntiAffinity!
      .preferredDuringSchedulingIgnoredDuringExecution!;
    expect(multi).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: "kubernetes.io/hostname",
          labelSelector: { matchLabels: { "kiln.dev/run": OPTS.name, "jobset.sigs.k8s.io/jobset-name": OPTS.name } },
        },
      },
    ]);
    expect(podOf(build({}, { nodes: 1 }).jobSet).spec!.affinity).toBeUndefined();
  });

  test("--cpus sets the CPU request, --memory the memory request and limit; the template's stay otherwise", () => {
    const template = containerOf(build().jobSet).resources!;
    const sized = containerOf(build({}, { cpus: "500m", memory: "768Mi", gpus: 1 }).jobSet).resources!;
    expect(sized.requests).toMatchObject({ cpu: "500m", memory: "768Mi", "nvidia.com/gpu": "1" });
    expect(sized.limits).toMatchObject({ memory: "768Mi", "nvidia.com/gpu": "1" });
    expect(sized.limits!.cpu).toBe(template.limits?.cpu === undefined ? undefined : "500m");
    const memoryOnly = containerOf(build({}, { memory: "1Gi" }).jobSet).resources!;
    expect(memoryOnly.requests!.cpu).toBe(template.requests!.cpu);
    expect(memoryOnly.limits!.memory).toBe("1Gi");
  });

  test("pod failure policy: exit 2/3, exit 143 and DisruptionTarget each fail the Job at once", () => {
    expect(jobOf(build().jobSet).spec.podFailurePolicy).toEqual({
      rules: [
        { action: "FailJob", onExitCodes: { containerName: "trainer", operator: "In", values: [2, 3] } },
        { action: "FailJob", onExitCodes: { containerName: "trainer", operator: "In", values: [143] } },
        { action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      ],
    });
  });

  // The messages Kubernetes 1.34's Job controller writes (pkg/controller/job/pod_failure_policy.go).
  const message = (rule: number, exit?: number) =>
    exit === undefined
      ? `Pod kiln-ml/llm-7-node-0-1-x7k2p has condition DisruptionTarget matching FailJob rule at index ${rule}`
      : `Container trainer for pod kiln-ml/llm-7-node-0-1-x7k2p failed with exit code ${exit} matching FailJob rule at index ${rule}`;
  /** The first rule that applies, as JobSet evaluates them (reason in the list, any pattern matches; none -> RestartJobSet). */
  const action = (js: JobSet, reason: string, msg: string) =>
    js.spec.failurePolicy!.rules!.find(
      (r) =>
        (r.onJobFailureReasons ?? [reason]).includes(reason) &&
        (r.onJobFailureMessagePatterns ?? [""]).some((p) => new RegExp(p).test(msg)),
    )?.action ?? "RestartJobSet";

  test.each<[string, string, string, string]>([
    ["exit 2 (bad input)", "PodFailurePolicy", message(0, 2), "FailJobSet"],
    ["exit 3 (diverged)", "PodFailurePolicy", message(0, 3), "FailJobSet"],
    ["exit 143 (SIGTERM, checkpointed)", "PodFailurePolicy", message(1, 143), "RestartJobSetAndIgnoreMaxRestarts"],
    [
      "a DisruptionTarget pod (drain, preemption, spot)",
      "PodFailurePolicy",
      message(2),
      "RestartJobSetAndIgnoreMaxRestarts",
    ],
    [
      "any other exit (backoffLimit 0)",
      "BackoffLimitExceeded",
      "Job has reached the specified backoff limit",
      "RestartJobSet",
    ],
    ["exit 23 is not exit 2 or 3", "PodFailurePolicy", message(0, 23), "RestartJobSet"],
    ["exit 1430 is not 143", "PodFailurePolicy", message(1, 1430), "RestartJobSet"],
  ])("%s (Job failure reason %s) picks the rule for it", (_what, reason, msg, want) => {
    expect(action(build().jobSet, reason, msg)).toBe(want);
  });

  test("the rule patterns are built from the contract's exit codes", () => {
    const rules = build().jobSet.spec.failurePolicy!.rules!;
    expect(rules[0]).toEqual({
      name: "failNow",
      action: "FailJobSet",
      onJobFailureReasons: ["PodFailurePolicy"],
      onJobFailureMessagePatterns: [exitCodePattern(EXIT_FAIL_NOW)],
      targetReplicatedJobs: ["node"],
    });
    expect(rules[1].onJobFailureMessagePatterns).toEqual([
      exitCodePattern([EXIT_DISRUPTED]),
      conditionPattern("DisruptionTarget"),
    ]);
    expect(build({}, { maxRestarts: 0 }).jobSet.spec.failurePolicy!.maxRestarts).toBe(0);
  });

  test("labels: the template's run labels, kiln.dev/run, kiln.dev/workload=image, managed-by kubectl-kiln on JobSet, Job and pod", () => {
    const { jobSet } = build();
    for (const labels of [jobSet.metadata.labels!, jobOf(jobSet).metadata!.labels!, podOf(jobSet).metadata!.labels!]) {
      expect(labels).toMatchObject({
        "app.kubernetes.io/part-of": "kiln",
        "app.kubernetes.io/component": "training-run",
        "app.kubernetes.io/managed-by": "kubectl-kiln",
        "kiln.dev/run": "llm-7",
        "kiln.dev/workload": "image",
      });
    }
  });

  test("queued: suspended with the queue label on the JobSet only (one Workload for the group); unqueued: not suspended", () => {
    const q = build({ queue: "training" }).jobSet;
    expect(q.spec.suspend).toBe(true);
    expect(q.metadata.labels!["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(jobOf(q).metadata!.labels).not.toHaveProperty(["kueue.x-k8s.io/queue-name"]);
    expect(podOf(q).metadata!.labels).not.toHaveProperty(["kueue.x-k8s.io/queue-name"]);
    expect(build({ queue: "training" }, { queue: "urgent" }).jobSet.metadata.labels!["kueue.x-k8s.io/queue-name"]).toBe(
      "urgent",
    );
    const free = build().jobSet;
    expect(free.spec.suspend).toBe(false);
    expect(free.metadata.labels).not.toHaveProperty(["kueue.x-k8s.io/queue-name"]);
  });

  test("--topology sets Kueue's podset annotation on the pod template, keeping the template's annotations", () => {
    const req = podOf(build({}, { topology: { mode: "required", level: "kiln.dev/topology-rack" } }).jobSet).metadata!
      .annotations!;
    expect(req).toEqual({
      "karpenter.sh/do-not-disrupt": "true",
      "kueue.x-k8s.io/podset-required-topology": "kiln.dev/topology-rack",
    });
    const pref = podOf(build({}, { topology: { mode: "preferred", level: "kubernetes.io/hostname" } }).jobSet).metadata!
      .annotations!;
    expect(pref["kueue.x-k8s.io/podset-preferred-topology"]).toBe("kubernetes.io/hostname");
  });

  test("the NetworkPolicy lets the run's pods reach each other on every port, both ways, and nothing else; none for one node", () => {
    const { networkPolicy } = build();
    const peers = { matchLabels: { "kiln.dev/run": "llm-7", "jobset.sigs.k8s.io/jobset-name": "llm-7" } };
    expect(networkPolicy).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        name: "llm-7-peers",
        namespace: "kiln-ml",
        labels: {
          "app.kubernetes.io/part-of": "kiln",
          "app.kubernetes.io/managed-by": "kubectl-kiln",
          "kiln.dev/run": "llm-7",
        },
      },
      spec: {
        podSelector: peers,
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: peers }] }],
        egress: [{ to: [{ podSelector: peers }] }],
      },
    });
    // The pods carry the labels the policy selects (JobSet adds jobset-name to every pod).
    expect(podOf(build().jobSet).metadata!.labels!["kiln.dev/run"]).toBe("llm-7");
    expect(build({}, { nodes: 1 }).networkPolicy).toBeUndefined();
  });

  test("the template object is not modified", () => {
    const tpl = template({ gpus: 1, queue: "training" });
    const before = structuredClone(tpl);
    imageRunFromTemplate(tpl, {
      ...OPTS,
      gpus: 0,
      env: [{ name: "A", value: "1" }],
      topology: { mode: "required", level: "x" },
    });
    expect(tpl).toEqual(before);
  });
});

describe("kubectl kiln submit --image", () => {
  const manifest = () => tempFile("template.yaml", helmTemplateRaw({ queue: "training" }).stdout);
  const topology = (levels: readonly string[]) => ({
    metadata: { name: "kiln-topology" },
    spec: { levels: levels.map((nodeLabel) => ({ nodeLabel })) },
  });
  const gpuNode = (name: string, gpus: number, labels: Record<string, string> = {}) => ({
    metadata: { name, labels },
    status: { allocatable: { "nvidia.com/gpu": String(gpus) } },
  });
  const cluster = () => {
    const api = new FakeKube();
    api.installChart("kiln-ml", { queue: "training", runSpec: { output: { uri: "s3://team-artifacts/runs" } } });
    api.topologies.set("kiln-topology", topology(LOCAL_TOPOLOGY_LEVELS));
    api.nodes.push(gpuNode("gpu-1", 8));
    return api;
  };
  const IMAGE = "registry.example.com/ml/train:1.4.2";

  test("creates the JobSet, then its NetworkPolicy owned by it; the bucket comes from the default run spec", async () => {
    const api = cluster();
    const r = await runCli(
      [
        "submit",
        "--image",
        IMAGE,
        "--nodes",
        "2",
        "--gpus",
        "4",
        "--topology",
        "required:rack",
        "--name",
        "llm-7",
        "-n",
        "kiln-ml",
        "--",
        "python",
        "-m",
        "train",
        "--lr",
        "0.1",
      ],
      { api },
    );
    expect(r.stderr).toMatch(/Follow it: kubectl kiln logs llm-7 -f -n kiln-ml/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "jobset.jobset.x-k8s.io/llm-7 created\nnetworkpolicy.networking.k8s.io/llm-7-peers created\n",
    );
    const js = api.jobSets.get("kiln-ml/llm-7")!;
    expect(containerOf(js).command).toEqual(["python", "-m", "train", "--lr", "0.1"]);
    expect(envOf(js).KILN_OUTPUT_URI.value).toBe("s3://team-artifacts/runs/llm-7");
    expect(podOf(js).metadata!.annotations!["kueue.x-k8s.io/podset-required-topology"]).toBe("kiln.dev/topology-rack");
    expect(js.metadata.labels!["kueue.x-k8s.io/queue-name"]).toBe("training");
    const np = api.networkPolicies.get("kiln-ml/llm-7-peers")!;
    expect(np.metadata.ownerReferences).toEqual([
      { apiVersion: "jobset.x-k8s.io/v1alpha2", kind: "JobSet", name: "llm-7", uid: "js-uid-1" },
    ]);
    expect(api.calls.indexOf("createJobSet kiln-ml/llm-7")).toBeLessThan(
      api.calls.indexOf("createNetworkPolicy kiln-ml/llm-7-peers"),
    );
  });

  test("a client dry run from --template needs no cluster and prints both objects as a List", async () => {
    const r = await runCli([
      "submit",
      "--image",
      IMAGE,
      "--nodes",
      "3",
      "--template",
      manifest(),
      "--dry-run",
      "-o",
      "yaml",
      "--name",
      "x1",
      "--",
      "train",
    ]);
    expect(r.code).toBe(0);
    const list = parse(r.stdout) as { kind: string; items: JobSet[] };
    expect(list.kind).toBe("List");
    expect(list.items.map((o) => o.kind)).toEqual(["JobSet", "NetworkPolicy"]);
    expect(envOf(list.items[0]).KILN_CHECKPOINT_URI.value).toBe("s3://artifacts/runs/x1/checkpoints");
    expect(r.stderr).toMatch(/jobset.jobset.x-k8s.io\/x1 \(client dry run\)/);
    // One document only: `kubectl apply -f -` takes it.
    expect(parseAllDocuments(r.stdout)).toHaveLength(1);
  });

  test("one node: no NetworkPolicy", async () => {
    const api = cluster();
    const r = await runCli(["submit", "--image", IMAGE, "--name", "solo", "-n", "kiln-ml", "--", "train"], { api });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("jobset.jobset.x-k8s.io/solo created\n");
    expect(api.networkPolicies.size).toBe(0);
  });

  test("a NetworkPolicy that cannot be created deletes the JobSet again", async () => {
    const api = cluster();
    api.createNetworkPolicy = async () => {
      throw Object.assign(new Error("forbidden"), {
        code: 403,
        body: JSON.stringify({
          message: 'networkpolicies.networking.k8s.io is forbidden: User "ana" cannot create resource',
        }),
      });
    };
    const r = await runCli(
      ["submit", "--image", IMAGE, "--nodes", "2", "--name", "llm-8", "-n", "kiln-ml", "--", "train"],
      { api },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/creating NetworkPolicy llm-8-peers .*forbidden.*JobSet llm-8 was deleted again/);
    expect(api.jobSets.has("kiln-ml/llm-8")).toBe(false);
  });

  const specFile = () =>
    tempFile("run.yaml", "dataset: {uri: s3://d/x.csv, target: y}\ntask: regression\noutput: {uri: s3://a/runs}\n");
  test.each<[string, string[], RegExp]>([
    ["--nodes 0", ["--nodes", "0"], /--nodes "0" must be a whole number from 1 to 512/],
    ["--nodes too many", ["--nodes", "513"], /--nodes "513" must be a whole number from 1 to 512/],
    ["--gpus above any node", ["--gpus", "16"], /--gpus 16 is more than the largest node has: 8 nvidia.com\/gpu/],
    [
      "--image without a tag",
      ["--image", "registry.example.com/ml/train"],
      /--image .* has no tag, which means 'latest'/,
    ],
    ["--image with a moving tag", ["--image", "ml/train:latest"], /--image 'latest' moves with every push/],
    ["--image outside the grammar", ["--image", "ML/Train:1.0"], /--image 'ML\/Train' is not an image repository/],
    ["--env not a C identifier", ["--env", "1X=2"], /--env "1X" is not an environment variable name/],
    ["--env reserved KILN_", ["--env", "KILN_NODE_RANK=3"], /--env KILN_NODE_RANK is reserved/],
    ["--env reserved framework name", ["--env", "WORLD_SIZE=8"], /--env WORLD_SIZE is reserved/],
    ["--env without =", ["--env", "NCCL_DEBUG"], /--env "NCCL_DEBUG" must be NAME=VALUE/],
    [
      "--topology level the cluster lacks",
      ["--topology", "required:layer-1"],
      /--topology: Topology kiln-topology has no level "layer-1"; it has: block \(kiln.dev\/topology-block\), rack \(kiln.dev\/topology-rack\), host \(kubernetes.io\/hostname\)/,
    ],
    ["--topology malformed", ["--topology", "rack"], /--topology "rack" must be required:LEVEL or preferred:LEVEL/],
    ["--max-restarts negative", ["--max-restarts", "-1"], /--max-restarts "-1" must be a whole number from 0 to 100/],
    ["--cpus not a quantity", ["--cpus", "two"], /--cpus "two" is not a Kubernetes quantity \(e.g. 2, 1.5 or 500m\)/],
    [
      "--cpus zero",
      ["--cpus", "0"],
      /--cpus "0" is 0 cores per node: give 2, 1.5 or 500m \(from 0.001 to 1024 cores\)/,
    ],
    ["--memory too small", ["--memory", "512"], /--memory "512" is 512 bytes per node: give 512Mi, 8Gi or 1Ti/],
    ["--memory not a quantity", ["--memory", "8GB"], /--memory "8GB" is not a Kubernetes quantity/],
    [
      "--name too long for rank host names",
      ["--name", "a".repeat(53)],
      /--name "a{53}" is invalid: .* at most 52 characters/,
    ],
  ])("%s: exit 2 naming the flag, nothing created", async (_what, extra, message) => {
    const api = cluster();
    const args = ["submit", "--image", IMAGE, "-n", "kiln-ml", ...extra, "--", "train"];
    // A later --image wins in commander: the bad one replaces the good.
    const r = await runCli(args, { api });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(api.jobSets.size).toBe(0);
  });

  test("an empty command, --spec with --image, and image-only flags without --image are refused naming the flag", async () => {
    const api = cluster();
    let r = await runCli(["submit", "--image", IMAGE, "-n", "kiln-ml"], { api });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--image needs a command/)]);
    r = await runCli(["submit", "--image", IMAGE, "--spec", specFile(), "-n", "kiln-ml", "--", "train"], { api });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--spec and --image are mutually exclusive/)]);
    r = await runCli(["submit", "--spec", specFile(), "--nodes", "2", "-n", "kiln-ml"], { api });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--nodes needs --image/)]);
    r = await runCli(["submit", "--spec", specFile(), "--cpus", "2", "-n", "kiln-ml"], { api });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--cpus needs --image/)]);
    r = await runCli(["submit", "--spec", specFile(), "-n", "kiln-ml", "--", "python"], { api });
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/a command \("python"\) needs --image/)]);
    expect(api.jobSets.size + api.jobs.size).toBe(0);
  });

  test("--gpus on an autoscaled cluster, or unreadable nodes, is noted, not refused", async () => {
    const api = cluster();
    api.nodes.splice(0, 1, gpuNode("g5", 1, { "karpenter.sh/nodepool": "a10g" }) as never);
    let r = await runCli(["submit", "--image", IMAGE, "--gpus", "8", "--name", "a1", "-n", "kiln-ml", "--", "train"], {
      api,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--gpus 8 is more than any node up now has \(1\); GPU nodes are provisioned on demand/);
    const api2 = cluster();
    api2.listNodes = async () => {
      throw Object.assign(new Error("forbidden"), {
        code: 403,
        body: JSON.stringify({ message: "nodes is forbidden" }),
      });
    };
    r = await runCli(["submit", "--image", IMAGE, "--gpus", "8", "--name", "a2", "-n", "kiln-ml", "--", "train"], {
      api: api2,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--gpus 8 not checked against node sizes: cannot list nodes/);
  });

  test("--topology takes a level label or its alias, on aws and local levels; a cluster without a Topology refuses it", async () => {
    const api = cluster();
    api.topologies.set("kiln-topology", topology(AWS_TOPOLOGY_LEVELS));
    let r = await runCli(
      [
        "submit",
        "--image",
        IMAGE,
        "--nodes",
        "2",
        "--topology",
        "preferred:layer-3",
        "--name",
        "t1",
        "-n",
        "kiln-ml",
        "--",
        "train",
      ],
      { api },
    );
    expect(r.code).toBe(0);
    expect(
      podOf(api.jobSets.get("kiln-ml/t1")!).metadata!.annotations!["kueue.x-k8s.io/podset-preferred-topology"],
    ).toBe("topology.k8s.aws/network-node-layer-3");
    r = await runCli(
      [
        "submit",
        "--image",
        IMAGE,
        "--topology",
        "required:kubernetes.io/hostname",
        "--name",
        "t2",
        "-n",
        "kiln-ml",
        "--",
        "train",
      ],
      { api },
    );
    expect(r.code).toBe(0);
    api.topologies.clear();
    r = await runCli(
      ["submit", "--image", IMAGE, "--topology", "required:rack", "--name", "t3", "-n", "kiln-ml", "--", "train"],
      { api },
    );
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/--topology: this cluster has no Kueue Topology kiln-topology/),
    ]);
  });

  test("a cluster without JobSet says so", async () => {
    const api = cluster();
    api.createJobSet = async () => {
      throw Object.assign(new Error("nf"), {
        code: 404,
        body: JSON.stringify({ message: "the server could not find the requested resource" }),
      });
    };
    const r = await runCli(["submit", "--image", IMAGE, "--name", "n1", "-n", "kiln-ml", "--", "train"], { api });
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/no JobSet API \(jobset.x-k8s.io\) in this cluster/)]);
  });
});
