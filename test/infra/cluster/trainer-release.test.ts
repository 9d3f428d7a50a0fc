/** The trainer release: image split, the default run spec, and the values rendered by the real chart. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { defaultRunSpec, splitImage, TRAINER_CHART_PATH } from "../../../infra/cluster/trainer-release";
import { parseRunSpec } from "../../../trainer-image/src/spec";
import { renderTrainer } from "../../charts/helm";
import { object, releases, reveal, runStack } from "./support";

describe("splitImage", () => {
  test("splits at the tag colon, keeping a registry port in the repository", () => {
    expect(splitImage("localhost:5000/kiln/trainer:0.1.0")).toEqual({
      repository: "localhost:5000/kiln/trainer",
      tag: "0.1.0",
    });
    expect(splitImage("123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer:1.2.3")).toEqual({
      repository: "123456789012.dkr.ecr.us-west-2.amazonaws.com/kiln-dev/trainer",
      tag: "1.2.3",
    });
  });

  test("an image without a tag, or with a digest, is rejected naming the config keys", () => {
    expect(() => splitImage("localhost:5000/kiln/trainer")).toThrow("must be <repository>:<tag>");
    expect(() => splitImage("kiln/trainer@sha256:abc")).toThrow("set kiln:trainer.repository and kiln:trainer.tag");
  });
});

describe("default run spec", () => {
  test("is a valid run spec for the trainer (its own schema)", () => {
    const spec = parseRunSpec(defaultRunSpec("datasets", "artifacts"));
    expect(spec.dataset.uri).toBe("s3://datasets/auto-mpg/auto-mpg.csv");
    expect(spec.output.uri).toBe("s3://artifacts/runs");
    expect(spec.task).toBe("regression");
  });

  test("is the chart's runSpec (its one home, charts/trainer/values.yaml) with the stack's buckets", () => {
    const chart = YAML.parse(fs.readFileSync(path.join(TRAINER_CHART_PATH, "values.yaml"), "utf8")).runSpec;
    const spec = defaultRunSpec("ds-bucket", "art-bucket");
    expect(spec).toEqual({
      ...chart,
      dataset: { ...chart.dataset, uri: chart.dataset.uri.replace(/^s3:\/\/[^/]+/, "s3://ds-bucket") },
      output: { uri: chart.output.uri.replace(/^s3:\/\/[^/]+/, "s3://art-bucket") },
    });
    expect(spec.dataset).toMatchObject({ uri: "s3://ds-bucket/auto-mpg/auto-mpg.csv" });
  });

  test("a chart whose runSpec URIs are not s3:// is refused naming the key", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-chart-"));
    fs.writeFileSync(
      path.join(dir, "values.yaml"),
      "runSpec:\n  dataset: {uri: /data/x.csv}\n  output: {uri: s3://a/runs}\n",
    );
    expect(() => defaultRunSpec("d", "a", dir)).toThrow("runSpec.dataset.uri '/data/x.csv' is not an s3:// URI");
  });
});

describe("chart contract", () => {
  test("the values the local stack hands charts/trainer render a template Job wired to the platform", async () => {
    const run = await runStack("local");
    const [release] = releases(run, "kiln-trainer", "kiln-research");
    const values = reveal<Record<string, unknown>>(release.inputs.values);
    const rendered = renderTrainer(values, { release: release.inputs.name, namespace: release.inputs.namespace });

    const cron = rendered.find("CronJob", "kiln-trainer");
    expect(cron.spec.suspend).toBe(true);
    const jobTemplate = cron.spec.jobTemplate;
    const pod = jobTemplate.spec.template.spec;
    const [trainer] = pod.containers;
    expect(trainer.image).toBe("localhost:5000/kiln/trainer:0.1.0");
    expect(pod.priorityClassName).toBe("kiln-training");
    expect(pod.serviceAccountName).toBe("kiln-trainer");
    expect(trainer.resources.limits["nvidia.com/gpu"]).toBe("1");
    const queueLabel = jobTemplate.metadata?.labels?.["kueue.x-k8s.io/queue-name"];
    expect(queueLabel).toBe("training");
    const env = Object.fromEntries(
      trainer.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env.AWS_ENDPOINT_URL_S3).toBe("http://kiln-minio.kiln-system.svc:9000");
    expect(env.AWS_REGION).toBe("us-east-1");
    expect(env.AWS_SECRET_ACCESS_KEY).toEqual({
      secretKeyRef: { name: "kiln-object-store", key: "AWS_SECRET_ACCESS_KEY" },
    });

    // The pod is admissible where it lands: Pod Security 'restricted' in the team namespace ...
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    for (const c of pod.containers)
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect((pod.volumes ?? []).filter((v: Record<string, unknown>) => v.hostPath)).toEqual([]);
    // ... and Kueue can admit it: every resource it requests is covered by the team's ClusterQueue.
    const covered = object(run, "ClusterQueue", "kiln-research").inputs.spec.resourceGroups.flatMap(
      (g: { coveredResources: string[] }) => g.coveredResources,
    );
    const requested = pod.containers.flatMap((c: { resources: { requests?: object; limits?: object } }) => [
      ...Object.keys(c.resources.requests ?? {}),
      ...Object.keys(c.resources.limits ?? {}),
    ]);
    for (const resource of new Set<string>(requested)) expect(covered).toContain(resource);

    const spec = rendered.find("ConfigMap", "kiln-run-spec").data["spec.yaml"];
    expect(parseRunSpec(spec).dataset.uri).toBe("s3://datasets/auto-mpg/auto-mpg.csv");
    expect(rendered.find("ServiceAccount", "kiln-trainer")).toBeDefined();
  }, 60_000);
});
