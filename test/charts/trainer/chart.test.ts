/**
 * charts/trainer rendered by the real helm binary over a matrix of values; the YAML is parsed and the
 * training Job's properties asserted. Invalid values: see validation.test.ts.
 */
import { parse } from "yaml";
import { helm, helmTemplateRaw, type K8sObject, renderTrainer, TRAINER_CHART } from "../helm";
import { DEFAULT_STOP_GRACE_SECONDS } from "../../../trainer-image/src/main";

type Pod = K8sObject["spec"];

/** The CronJob template's Job spec. */
function templateJob(values: Record<string, unknown> = {}) {
  const r = renderTrainer(values);
  const cron = r.find("CronJob", "kiln-trainer");
  return {
    r,
    cron,
    job: cron.spec.jobTemplate.spec,
    jobMeta: cron.spec.jobTemplate.metadata,
    pod: cron.spec.jobTemplate.spec.template.spec as Pod,
  };
}

const trainer = (pod: Pod) => pod.containers.find((c: { name: string }) => c.name === "trainer");
const envOf = (pod: Pod) => Object.fromEntries(trainer(pod).env.map((e: { name: string }) => [e.name, e]));

describe("helm lint", () => {
  test.each([
    ["defaults", []],
    [
      "8 GPUs in a pool with a queue, run and sweep",
      [
        "--set",
        "gpus=8,gpuPool=a100,queue=training,run.enabled=true,sweep.enabled=true",
        "--set-json",
        'sweep.values={"training.batchSize":[32,64]}',
      ],
    ],
  ])("helm lint --strict passes with %s", (_name, args) => {
    const r = helm(["lint", "--strict", TRAINER_CHART, ...(args as string[])]);
    expect(r.stderr + r.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.status).toBe(0);
  });
});

describe("objects", () => {
  test("defaults render exactly a ServiceAccount, ConfigMap kiln-run-spec and the CronJob kiln-trainer", () => {
    const r = renderTrainer();
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "ConfigMap/kiln-run-spec",
      "CronJob/kiln-trainer",
      "ServiceAccount/kiln-trainer",
    ]);
  });

  test("the CronJob is suspended, never due, and forbids concurrency", () => {
    const { cron } = templateJob();
    expect(cron.spec.suspend).toBe(true);
    expect(cron.spec.schedule).toBe("0 0 31 2 *");
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
  });

  test("ConfigMap kiln-run-spec holds runSpec as YAML under spec.yaml (Helm deep-merges it with the default; null drops a key)", () => {
    const runSpec = {
      dataset: { uri: "s3://d/x.csv", target: "y", drop: null, categorical: null },
      task: "classification",
      training: { epochs: 3 },
    };
    const cm = renderTrainer({ runSpec }).find("ConfigMap", "kiln-run-spec");
    const spec = parse(cm.data["spec.yaml"]);
    expect(spec.dataset).toEqual({ uri: "s3://d/x.csv", target: "y" });
    expect(spec.task).toBe("classification");
    expect(spec.training.epochs).toBe(3);
    expect(spec.training.batchSize).toBe(32);
  });

  test("ServiceAccount carries the annotations and mounts no token; create=false omits it", () => {
    const sa = renderTrainer({
      serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/t" } },
    }).find("ServiceAccount");
    expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/t" });
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(renderTrainer({ serviceAccount: { create: false, name: "team-sa" } }).all("ServiceAccount")).toEqual([]);
    expect(templateJob({ serviceAccount: { create: false, name: "team-sa" } }).pod.serviceAccountName).toBe("team-sa");
  });

  test("every object has app.kubernetes.io/* labels; selector labels are a subset of them", () => {
    for (const o of renderTrainer({
      run: { enabled: true },
      sweep: { enabled: true, values: { "training.batchSize": [1] } },
    }).objects) {
      expect(o.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": "trainer",
        "app.kubernetes.io/instance": "kiln-trainer",
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "kiln",
        "app.kubernetes.io/version": "0.1.0",
      });
      expect(o.metadata.labels["helm.sh/chart"]).toBe("trainer-0.1.0");
    }
  });
});

describe("the training Job", () => {
  test("CPU run (gpus 0): no GPU resource, toleration or node selector", () => {
    const { pod } = templateJob({ gpus: 0 });
    const c = trainer(pod);
    expect(c.resources.limits).not.toHaveProperty(["nvidia.com/gpu"]);
    expect(c.resources.requests).not.toHaveProperty(["nvidia.com/gpu"]);
    expect(pod.tolerations).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
  });

  test.each([1, 8])(
    "%i GPU(s): nvidia.com/gpu requests = limits = gpus, with toleration, no pool selector unless gpuPool",
    (gpus) => {
      const { pod } = templateJob({ gpus });
      const c = trainer(pod);
      expect(c.resources.limits["nvidia.com/gpu"]).toBe(String(gpus));
      expect(c.resources.requests["nvidia.com/gpu"]).toBe(String(gpus));
      expect(c.resources.limits.memory).toBe("4Gi");
      expect(pod.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
      expect(pod.nodeSelector).toBeUndefined();
    },
  );

  test("gpuPool sets the node selector kiln.dev/gpu-pool", () => {
    expect(templateJob({ gpus: 8, gpuPool: "a100" }).pod.nodeSelector).toEqual({ "kiln.dev/gpu-pool": "a100" });
  });

  test("the pod is not disruptable by Karpenter and never restarts in place", () => {
    const { job, pod } = templateJob();
    expect(job.template.metadata.annotations).toEqual({ "karpenter.sh/do-not-disrupt": "true" });
    expect(pod.restartPolicy).toBe("Never");
  });

  test("backoffLimit, deadline, TTL and grace period come from job values; deadline 0 omits it", () => {
    const { job, pod } = templateJob({
      job: {
        backoffLimit: 5,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 60,
        terminationGracePeriodSeconds: 300,
      },
    });
    expect(job).toMatchObject({ backoffLimit: 5, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 60 });
    expect(pod.terminationGracePeriodSeconds).toBe(300);
    expect(templateJob({ job: { activeDeadlineSeconds: 0 } }).job).not.toHaveProperty("activeDeadlineSeconds");
    const defaults = templateJob();
    expect(defaults.pod.terminationGracePeriodSeconds).toBe(120);
    expect(defaults.job.backoffLimit).toBe(3);
  });

  test("large second counts render as integers, not floats", () => {
    const { job } = templateJob({ job: { activeDeadlineSeconds: 12_000_000 } });
    expect(job.activeDeadlineSeconds).toBe(12_000_000);
  });

  test("podFailurePolicy ignores DisruptionTarget and the trainer's SIGTERM exit 143, and fails the Job on exit code 2", () => {
    expect(templateJob().job.podFailurePolicy.rules).toEqual([
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      { action: "Ignore", onExitCodes: { containerName: "trainer", operator: "In", values: [143] } },
      { action: "FailJob", onExitCodes: { containerName: "trainer", operator: "In", values: [2, 3] } },
    ]);
  });

  test("restricted security context: non-root 10001, read-only root with emptyDir /tmp, no escalation, drop ALL, RuntimeDefault", () => {
    const { pod } = templateJob();
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = trainer(pod);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: {} });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test("scratch: /tmp is an emptyDir without a limit by default; sizeLimit bounds it and is passed to the trainer's disk cache", () => {
    const env = (pod: { containers: { env: { name: string; value?: string }[] }[] }) =>
      Object.fromEntries(trainer(pod).env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    const plain = templateJob().pod;
    expect(env(plain)).toMatchObject({ KILN_CACHE_DIR: "/tmp/kiln-cache" });
    expect(env(plain)).not.toHaveProperty("KILN_CACHE_LIMIT");
    const { pod } = templateJob({ scratch: { sizeLimit: "64Gi" } });
    expect(pod.volumes).toContainEqual({ name: "tmp", emptyDir: { sizeLimit: "64Gi" } });
    expect(env(pod)).toMatchObject({ KILN_CACHE_DIR: "/tmp/kiln-cache", KILN_CACHE_LIMIT: "64Gi" });
  });

  test("a stuck trainer stops by itself at 3/4 of the pod's grace period, before the kubelet's SIGKILL", () => {
    const env = (pod: { containers: { env: { name: string; value?: string }[] }[] }) =>
      Object.fromEntries(trainer(pod).env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    const plain = templateJob().pod;
    expect(plain.terminationGracePeriodSeconds).toBe(120);
    // The chart's default grace gives the trainer's own default, so a run outside the chart behaves the same.
    expect(env(plain).KILN_STOP_GRACE_SECONDS).toBe(String(DEFAULT_STOP_GRACE_SECONDS));
    const { pod } = templateJob({ job: { terminationGracePeriodSeconds: 600 } });
    expect(env(pod).KILN_STOP_GRACE_SECONDS).toBe("450");
  });

  test("datasetCache: no cache by default; a claim is mounted read-only at mountPath (with subPath when set)", () => {
    const plain = templateJob().pod;
    expect(plain.volumes.map((v: { name: string }) => v.name)).toEqual(["tmp"]);
    const { pod } = templateJob({
      datasetCache: { claimName: "kiln-datasets", subPath: "datasets", mountPath: "/datasets" },
    });
    expect(pod.volumes).toContainEqual({
      name: "datasets",
      persistentVolumeClaim: { claimName: "kiln-datasets", readOnly: true },
    });
    expect(trainer(pod).volumeMounts).toContainEqual({
      name: "datasets",
      mountPath: "/datasets",
      readOnly: true,
      subPath: "datasets",
    });
    const root = templateJob({ datasetCache: { claimName: "kiln-datasets", subPath: "", mountPath: "/data" } }).pod;
    expect(trainer(root).volumeMounts).toContainEqual({ name: "datasets", mountPath: "/data", readOnly: true });
  });

  test("datasetCache paths that would escape the volume or shadow the image are refused by the schema", () => {
    for (const [cache, field] of [
      [{ claimName: "c", subPath: "../etc", mountPath: "/datasets" }, "subPath"],
      [{ claimName: "c", subPath: "", mountPath: "/tmp" }, "mountPath"],
      [{ claimName: "c", subPath: "", mountPath: "relative" }, "mountPath"],
    ] as const) {
      const r = helmTemplateRaw({ datasetCache: cache });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`/datasetCache/${field}`);
    }
  });

  test("the container runs the trainer entrypoint with the pinned image", () => {
    const c = trainer(
      templateJob({ image: { repository: "registry:5000/kiln/trainer", tag: "1.2.3", pullPolicy: "Always" } }).pod,
    );
    expect(c.image).toBe("registry:5000/kiln/trainer:1.2.3");
    expect(c.imagePullPolicy).toBe("Always");
    expect(c.command).toEqual(["node", "/app/dist/main.js", "train"]);
  });

  test("the termination message is the trainer's best epoch line, else (a crash that wrote none) the log's tail", () => {
    const c = trainer(templateJob().pod);
    expect(c.terminationMessagePolicy).toBe("FallbackToLogsOnError");
    // The trainer writes the kubelet's default path (trainer-image/src/termination.ts).
    expect(c.terminationMessagePath).toBeUndefined();
    const oneOff = renderTrainer({ run: { enabled: true } }).find("Job");
    const sweep = renderTrainer({ sweep: { enabled: true, values: { "training.batchSize": [32, 64] } } }).find("Job");
    for (const job of [oneOff, sweep])
      expect(trainer(job.spec.template.spec).terminationMessagePolicy).toBe("FallbackToLogsOnError");
  });

  test("env: run spec from the ConfigMap, run id from the job-name label, region; no endpoint or keys by default", () => {
    const env = envOf(templateJob().pod);
    expect(env.KILN_RUN_SPEC.valueFrom).toEqual({ configMapKeyRef: { name: "kiln-run-spec", key: "spec.yaml" } });
    expect(env.KILN_RUN_ID.valueFrom).toEqual({
      fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" },
    });
    expect(env.AWS_REGION.value).toBe("us-east-1");
    expect(env).not.toHaveProperty("AWS_ENDPOINT_URL_S3");
    expect(env).not.toHaveProperty("AWS_ACCESS_KEY_ID");
    expect(env).not.toHaveProperty("KILN_SWEEP_OVERRIDES");
  });

  test("env: endpoint and credentials Secret when objectStore sets them", () => {
    const env = envOf(
      templateJob({
        objectStore: { endpoint: "http://10.0.0.1:9000", region: "eu-west-1", credentialsSecret: "kiln-object-store" },
      }).pod,
    );
    expect(env.AWS_ENDPOINT_URL_S3.value).toBe("http://10.0.0.1:9000");
    expect(env.AWS_REGION.value).toBe("eu-west-1");
    expect(env.AWS_ACCESS_KEY_ID.valueFrom).toEqual({
      secretKeyRef: { name: "kiln-object-store", key: "AWS_ACCESS_KEY_ID" },
    });
    expect(env.AWS_SECRET_ACCESS_KEY.valueFrom).toEqual({
      secretKeyRef: { name: "kiln-object-store", key: "AWS_SECRET_ACCESS_KEY" },
    });
  });

  test("priorityClassName is set only when given", () => {
    expect(templateJob({ priorityClassName: "kiln-training" }).pod.priorityClassName).toBe("kiln-training");
    expect(templateJob().pod).not.toHaveProperty("priorityClassName");
  });

  test("queue on: Kueue label on Job and pod, and the Job is created suspended for Kueue to admit", () => {
    const { job, jobMeta } = templateJob({ queue: "training" });
    expect(jobMeta.labels["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.template.metadata.labels["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.suspend).toBe(true);
  });

  test("queue off: no Kueue label and the Job is not suspended", () => {
    const { job, jobMeta } = templateJob({ queue: "" });
    expect(jobMeta.labels).not.toHaveProperty(["kueue.x-k8s.io/queue-name"]);
    expect(job).not.toHaveProperty("suspend");
  });

  test("run labels: component training-run on template Jobs; kiln.dev/run only where the name is known", () => {
    const { jobMeta, job } = templateJob();
    expect(jobMeta.labels["app.kubernetes.io/component"]).toBe("training-run");
    expect(job.template.metadata.labels["app.kubernetes.io/component"]).toBe("training-run");
    expect(jobMeta.labels).not.toHaveProperty(["kiln.dev/run"]);
  });
});

describe("run.enabled", () => {
  test("renders a one-off Job with the same spec as the template, named run.name", () => {
    const values = { gpus: 1, queue: "training", run: { enabled: true, name: "first-run" } };
    const r = renderTrainer(values);
    const job = r.find("Job", "first-run");
    const template = r.find("CronJob", "kiln-trainer").spec.jobTemplate.spec;
    expect(job.metadata.labels["kiln.dev/run"]).toBe("first-run");
    expect(job.spec.template.metadata.labels["kiln.dev/run"]).toBe("first-run");
    // Same Job spec apart from the run label.
    const strip = (s: K8sObject["spec"]) => ({
      ...s,
      template: {
        ...s.template,
        metadata: { ...s.template.metadata, labels: { ...s.template.metadata.labels, "kiln.dev/run": undefined } },
      },
    });
    expect(strip(job.spec)).toEqual(strip(template));
  });

  test("default name is <fullname>-run", () => {
    expect(renderTrainer({ run: { enabled: true } }).find("Job").metadata.name).toBe("kiln-trainer-run");
    expect(renderTrainer({ run: { enabled: true } }, { release: "team-a" }).find("Job").metadata.name).toBe(
      "team-a-trainer-run",
    );
  });
});

describe("sweep.enabled", () => {
  const sweep = {
    enabled: true,
    name: "lr-sweep",
    parallelism: 3,
    values: { "training.optimizer.learningRate": [0.001, 0.01, 0.1], "training.batchSize": [32, 64] },
  };

  test("renders an Indexed Job with completions = grid size and parallelism from values", () => {
    const job = renderTrainer({ sweep }).find("Job", "lr-sweep");
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 6, parallelism: 3 });
    expect(job.metadata.labels).toMatchObject({ "kiln.dev/run": "lr-sweep", "kiln.dev/sweep": "true" });
  });

  test("the overrides ConfigMap holds the cartesian product, keys alphabetical, last key fastest", () => {
    const cm = renderTrainer({ sweep }).find("ConfigMap", "lr-sweep-overrides");
    expect(JSON.parse(cm.data["overrides.json"])).toEqual([
      { "training.batchSize": 32, "training.optimizer.learningRate": 0.001 },
      { "training.batchSize": 32, "training.optimizer.learningRate": 0.01 },
      { "training.batchSize": 32, "training.optimizer.learningRate": 0.1 },
      { "training.batchSize": 64, "training.optimizer.learningRate": 0.001 },
      { "training.batchSize": 64, "training.optimizer.learningRate": 0.01 },
      { "training.batchSize": 64, "training.optimizer.learningRate": 0.1 },
    ]);
  });

  test("sweep pods read KILN_SWEEP_OVERRIDES from that ConfigMap", () => {
    const env = envOf(renderTrainer({ sweep }).find("Job", "lr-sweep").spec.template.spec);
    expect(env.KILN_SWEEP_OVERRIDES.valueFrom).toEqual({
      configMapKeyRef: { name: "lr-sweep-overrides", key: "overrides.json" },
    });
    expect(env.KILN_RUN_ID.valueFrom.fieldRef.fieldPath).toBe("metadata.labels['batch.kubernetes.io/job-name']");
  });

  test("a single-key sweep of strings and booleans keeps the value types", () => {
    const grid = renderTrainer({
      sweep: { enabled: true, values: { "model.init": ["glorotUniform", "heNormal"], "training.shuffle": [true] } },
    }).find("ConfigMap", "kiln-trainer-sweep-overrides");
    expect(JSON.parse(grid.data["overrides.json"])).toEqual([
      { "model.init": "glorotUniform", "training.shuffle": true },
      { "model.init": "heNormal", "training.shuffle": true },
    ]);
  });
});
