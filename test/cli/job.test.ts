/** Job construction from the template the REAL chart renders (helm template), the no-cluster path. */
import type { V1CronJob, V1Job } from "@kubernetes/client-node";
import { parse } from "yaml";
import { generateRunName, gpusOf, jobFromTemplate, templateFromManifest, validateRunName } from "../../cli/src/job";
import { parseRunSpec } from "../../trainer-image/src/spec";
import { helmTemplateRaw, renderTrainer } from "../charts/helm";
import { RUN_SPEC_YAML } from "./support";

const template = (values: Record<string, unknown> = {}) =>
  renderTrainer(values).find("CronJob", "kiln-trainer") as unknown as V1CronJob;
const raw = parse(RUN_SPEC_YAML) as Record<string, unknown>;
const build = (values: Record<string, unknown>, opts: Partial<Parameters<typeof jobFromTemplate>[1]> = {}) =>
  jobFromTemplate(template(values), { name: "run-1", namespace: "kiln-ml", specText: JSON.stringify(raw), ...opts });
const container = (job: V1Job) => job.spec!.template.spec!.containers.find((c) => c.name === "trainer")!;
const env = (job: V1Job) => Object.fromEntries(container(job).env!.map((e) => [e.name, e]));

describe("jobFromTemplate", () => {
  test("the run spec is inlined as KILN_RUN_SPEC in place of the ConfigMap reference, other env kept in order", () => {
    const tpl = template();
    const job = build({});
    const names = container(job).env!.map((e) => e.name);
    expect(names).toEqual(tpl.spec!.jobTemplate.spec!.template.spec!.containers[0].env!.map((e) => e.name));
    expect(env(job).KILN_RUN_SPEC.valueFrom).toBeUndefined();
    expect(JSON.parse(env(job).KILN_RUN_SPEC.value!)).toEqual(raw);
    expect(parseRunSpec(env(job).KILN_RUN_SPEC.value!).training.epochs).toBe(5);
    expect(env(job).KILN_RUN_ID.valueFrom?.fieldRef?.fieldPath).toBe("metadata.labels['batch.kubernetes.io/job-name']");
  });

  test("the Job keeps the template's spec: security context, failure policy, deadlines, annotations", () => {
    const tpl = template({ job: { backoffLimit: 7 } });
    const job = jobFromTemplate(tpl, { name: "run-1", namespace: "kiln-ml", specText: "{}" });
    const t = tpl.spec!.jobTemplate.spec!;
    expect(job.spec!.backoffLimit).toBe(7);
    expect(job.spec!.podFailurePolicy).toEqual(t.podFailurePolicy);
    expect(job.spec!.template.spec!.securityContext).toEqual(t.template.spec!.securityContext);
    expect(container(job).securityContext).toEqual(t.template.spec!.containers[0].securityContext);
    expect(job.spec!.template.metadata!.annotations).toEqual({ "karpenter.sh/do-not-disrupt": "true" });
    expect(job).toMatchObject({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "run-1", namespace: "kiln-ml" },
    });
  });

  test("labels: the template's, plus kiln.dev/run on Job and pod, managed-by kubectl-kiln", () => {
    const job = build({});
    for (const labels of [job.metadata!.labels!, job.spec!.template.metadata!.labels!]) {
      expect(labels).toMatchObject({
        "kiln.dev/run": "run-1",
        "app.kubernetes.io/part-of": "kiln",
        "app.kubernetes.io/component": "training-run",
        "app.kubernetes.io/managed-by": "kubectl-kiln",
      });
    }
  });

  test("the template object is not modified", () => {
    const tpl = template({ gpus: 1 });
    const before = structuredClone(tpl);
    jobFromTemplate(tpl, {
      name: "x",
      namespace: "n",
      specText: "{}",
      gpus: 0,
      queue: "q",
      sweep: { grid: [{}], parallelism: 1 },
    });
    expect(tpl).toEqual(before);
  });

  test("without overrides, GPUs and queue are the template's", () => {
    const job = build({ gpus: 8, gpuPool: "a100", queue: "training" });
    expect(gpusOf(job)).toBe(8);
    expect(job.spec!.template.spec!.nodeSelector).toEqual({ "kiln.dev/gpu-pool": "a100" });
    expect(job.metadata!.labels!["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.spec!.suspend).toBe(true);
  });

  test("--gpus 0 on a GPU template makes a CPU run: no GPU resource, toleration or pool selector", () => {
    const job = build({ gpus: 8, gpuPool: "a100" }, { gpus: 0 });
    const c = container(job);
    expect(c.resources!.limits).not.toHaveProperty(["nvidia.com/gpu"]);
    expect(c.resources!.requests).not.toHaveProperty(["nvidia.com/gpu"]);
    expect(c.resources!.limits!.memory).toBe("4Gi");
    expect(job.spec!.template.spec!.tolerations).toBeUndefined();
    expect(job.spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(gpusOf(job)).toBe(0);
  });

  test("--gpus 4 on a CPU template adds requests = limits = 4 and exactly one GPU toleration", () => {
    const job = build({ gpus: 0 }, { gpus: 4 });
    expect(container(job).resources!.limits!["nvidia.com/gpu"]).toBe("4");
    expect(container(job).resources!.requests!["nvidia.com/gpu"]).toBe("4");
    expect(job.spec!.template.spec!.tolerations).toEqual([
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
    const again = jobFromTemplate(
      { spec: { schedule: "x", jobTemplate: { metadata: job.metadata, spec: job.spec } } },
      { name: "r", namespace: "n", specText: "{}", gpus: 2 },
    );
    expect(again.spec!.template.spec!.tolerations).toHaveLength(1);
  });

  test("--queue sets the Kueue label on Job and pod and creates the Job suspended", () => {
    const job = build({}, { queue: "training" });
    expect(job.metadata!.labels!["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.spec!.template.metadata!.labels!["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.spec!.suspend).toBe(true);
    expect(build({}).spec!.suspend).toBeUndefined();
  });

  test("sweep: Indexed, completions = grid size, parallelism capped by it, overrides inlined", () => {
    const grid = [{ "training.batchSize": 32 }, { "training.batchSize": 64 }, { "training.batchSize": 128 }];
    const job = build({}, { sweep: { grid, parallelism: 10 } });
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 3, parallelism: 3 });
    expect(JSON.parse(env(job).KILN_SWEEP_OVERRIDES.value!)).toEqual(grid);
    expect(job.metadata!.labels!["kiln.dev/sweep"]).toBe("true");
  });

  test("a template without the trainer container is refused", () => {
    const tpl = template();
    tpl.spec!.jobTemplate.spec!.template.spec!.containers[0].name = "other";
    expect(() => jobFromTemplate(tpl, { name: "r", namespace: "n", specText: "{}" })).toThrow(
      'the Job template has no container "trainer" (found other)',
    );
  });
});

describe("templateFromManifest (--template FILE)", () => {
  test("finds CronJob kiln-trainer in full helm template output", () => {
    const r = helmTemplateRaw({ run: { enabled: true } });
    const cron = templateFromManifest(r.stdout, "t.yaml");
    expect(cron.metadata!.name).toBe("kiln-trainer");
    expect(cron.spec!.suspend).toBe(true);
  });

  test("says what it found when the CronJob is missing, and rejects broken YAML", () => {
    expect(() => templateFromManifest("kind: ConfigMap\nmetadata: {name: a}\n", "t.yaml")).toThrow(
      "--template t.yaml: no CronJob kiln-trainer in it (found ConfigMap/a)",
    );
    expect(() => templateFromManifest("a: [1,\n", "t.yaml")).toThrow(/--template t.yaml: not valid YAML/);
  });
});

describe("run names", () => {
  test("generated from the UTC clock and 4 random base-36 characters", () => {
    const seq = [0, 0.5, 0.999, 0.1];
    let i = 0;
    expect(generateRunName(new Date("2026-11-28T07:05:09.500Z"), () => seq[i++])).toBe("run-20261128-070509-0iz3");
    expect(generateRunName(new Date("2026-01-02T03:04:05Z"), () => 0, "sweep")).toBe("sweep-20260102-030405-0000");
  });

  test("invalid names are usage errors naming the rule", () => {
    expect(() => validateRunName("Run_1")).toThrow(
      `run name "Run_1" is invalid: it holds the uppercase 'R' at position 1; use lowercase ASCII letters, digits and '-'`,
    );
    expect(() => validateRunName("a".repeat(64))).toThrow("at most 63 characters");
    expect(() => validateRunName("-a")).toThrow("is invalid");
    expect(() => validateRunName("ok-1")).not.toThrow();
  });
});

test("the chart's default run spec passes the trainer's schema", () => {
  const cm = renderTrainer().find("ConfigMap", "kiln-run-spec");
  expect(parseRunSpec(cm.data["spec.yaml"]).task).toBe("regression");
});
