/**
 * The verbs end to end through the real program (argument parsing, validation, exit codes, messages)
 * against an in-memory API whose errors are real client-node ApiExceptions.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { helmTemplateRaw } from "../charts/helm";
import { apiError, connRefused, FakeKube, RUN_SPEC_YAML, runCli, tempFile } from "./support";

const specFile = tempFile("run.yaml", RUN_SPEC_YAML);
const templateFile = tempFile("template.yaml", helmTemplateRaw({ gpus: 1, gpuPool: "a100" }).stdout);

function cluster(values: Record<string, unknown> = {}): FakeKube {
  const k = new FakeKube();
  k.installChart("kiln-ml", values);
  return k;
}

describe("usage errors exit 2 with a message and no usage dump", () => {
  test.each<[string[], string]>([
    [["submit", "--spec", specFile, "--gpus", "two"], `--gpus "two" must be a whole number from 0 to 64`],
    [["submit", "--spec", specFile, "--gpus", "65"], `--gpus "65" must be a whole number from 0 to 64`],
    [
      ["submit", "--spec", specFile, "--dry-run=maybe"],
      "argument 'maybe' is invalid. Allowed choices are none, client, server",
    ],
    [["submit", "--spec", specFile, "-o", "xml"], "argument 'xml' is invalid. Allowed choices are table, json, yaml"],
    [["submit"], "--spec <file> is required"],
    [["submit", "--spec", "/nonexistent/run.yaml"], "--spec /nonexistent/run.yaml: does not exist"],
    [
      ["submit", "--spec", specFile, "--name", "Bad_Name"],
      `--name "Bad_Name" is invalid: it holds the uppercase 'B' at position 1`,
    ],
    [["submit", "--spec", specFile, "--queue", "Q!"], `--queue "Q!" is invalid`],
    [["submit", "--spec", specFile, "--bogus"], "error: unknown option '--bogus'"],
    [["launch"], "error: unknown command 'launch'"],
    [["sweep", "--spec", specFile], "sweep needs at least one --set path=v1,v2"],
    [["sweep", "--spec", specFile, "--set", "training.batchSize"], "expected path=v1,v2"],
    [
      ["sweep", "--spec", specFile, "--set", "training.batchSize=1,2", "--parallelism", "0"],
      `--parallelism "0" must be a whole number from 1 to 1000`,
    ],
    [["status"], "error: missing required argument 'run'"],
    [["logs", "run-1", "--index", "-1"], `--index "-1" must be a whole number from 0 to 100000`],
    [["submit", "--spec", specFile, "--template", "/nonexistent.yaml"], "--template /nonexistent.yaml: does not exist"],
  ])("%j", async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain("Usage:");
  });

  test("an invalid run spec exits 2 listing every problem from the trainer's schema", async () => {
    const bad = tempFile(
      "bad.yaml",
      "dataset: {uri: s3://d/x.csv, target: y}\ntask: regresion\ntraining: {epochs: 0}\n",
    );
    const r = await runCli(["submit", "--spec", bad, "--template", templateFile, "--dry-run=client"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid run spec:");
    expect(r.stderr).toMatch(/- task: .*\(got "regresion"\)/);
    expect(r.stderr).toMatch(/- training\.epochs: /);
    expect(r.stderr).toMatch(/- output: /);
  });

  test("spec and template files are bounded: a directory, a FIFO or an oversized file is refused before it is read", async () => {
    const dir = path.dirname(specFile);
    let r = await runCli(["submit", "--spec", dir, "--template", templateFile, "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--spec ${dir}: is a directory; a file is meant`);
    // A FIFO would block a reader forever: it is refused from its stat alone.
    const fifo = path.join(dir, "spec.fifo");
    execFileSync("mkfifo", [fifo]);
    r = await runCli(["submit", "--spec", fifo, "--template", templateFile, "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `--spec ${fifo}: is a FIFO (reading it would wait for a writer forever); a file is meant`,
    );
    // A kernel file (it may block, or look empty) is no spec, and neither is a device.
    r = await runCli(["submit", "--spec", "/proc/self/status", "--template", templateFile, "--dry-run"]);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringContaining("--spec /proc/self/status: is under /proc, a kernel file system"),
    ]);
    r = await runCli(["submit", "--spec", specFile, "--template", "/dev/zero", "--dry-run"]);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringContaining("--template /dev/zero: is under /dev, a kernel file system"),
    ]);
    // Nesting is bounded before the YAML parser (recursive) sees the file.
    const deep = tempFile("deep.yaml", `kind: CronJob\nspec: ${"[".repeat(20_000)}\n`);
    r = await runCli(["submit", "--spec", specFile, "--template", deep, "--dry-run"]);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/--template .*deep\.yaml: nested more than 64 levels deep at spec\[0\]\[0\].* \(line 2\)/),
    ]);
    const big = tempFile("big.yaml", `# ${"x".repeat(600 * 1024)}\n`);
    r = await runCli(["submit", "--spec", big, "--template", templateFile, "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--spec .*big\.yaml is \d+ bytes; the limit is 524288 \(512 KiB\)/);
    r = await runCli(["submit", "--spec", specFile, "--template", big, "--dry-run"]);
    expect(r.stderr).toMatch(/--template .*big\.yaml is \d+ bytes; the limit is 524288/);
  });

  test("a sweep grid's size is computed before the grid is built", async () => {
    const values = Array.from(
      { length: 10 },
      (_, i) => `training.p${i}=${Array.from({ length: 10 }, (_, j) => j).join(",")}`,
    );
    const t0 = Date.now();
    const r = await runCli([
      "sweep",
      "--spec",
      specFile,
      ...values.flatMap((v) => ["--set", v]),
      "--template",
      templateFile,
      "--dry-run",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("the sweep grid has 10000000000 points");
    expect(r.stderr).toContain("the limit is 1000: split it into several sweeps");
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  test.each<[string, (cron: any) => void, RegExp]>([
    [
      "labels with a non-string value",
      (c) => (c.spec.jobTemplate.spec.template.metadata.labels.bad = 5),
      /spec\.jobTemplate\.spec\.template\.metadata\.labels\.bad: Invalid input: expected string, received number/,
    ],
    [
      "a toleration with a numeric key",
      (c) => (c.spec.jobTemplate.spec.template.spec.tolerations = [{ key: 7, operator: "Exists" }]),
      /spec\.template\.spec\.tolerations\[0\]\.key: Invalid input: expected string/,
    ],
    [
      "a nodeSelector that is a list",
      (c) => (c.spec.jobTemplate.spec.template.spec.nodeSelector = ["a"]),
      /spec\.template\.spec\.nodeSelector: Invalid input: expected record/,
    ],
    [
      "no containers",
      (c) => (c.spec.jobTemplate.spec.template.spec.containers = []),
      /spec\.template\.spec\.containers: Too small/,
    ],
    [
      "no pod spec at all",
      (c) => delete c.spec.jobTemplate.spec.template.spec,
      /spec\.jobTemplate\.spec\.template\.spec: Invalid input: expected object, received undefined/,
    ],
  ])(
    "a malformed --template (%s) is refused naming the field, never a JavaScript error",
    async (_what, breakIt, message) => {
      const docs = parseAllDocuments(fs.readFileSync(templateFile, "utf8")).map((d) => d.toJS());
      const cron = docs.find((o) => o?.kind === "CronJob");
      breakIt(cron);
      const broken = tempFile(
        "broken.yaml",
        docs
          .filter(Boolean)
          .map((o) => stringify(o))
          .join("---\n"),
      );
      const r = await runCli(["submit", "--spec", specFile, "--template", broken, "--dry-run"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/the Job template \(CronJob kiln-trainer\) is malformed/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/TypeError|Cannot read prop|at [A-Za-z]+ \(/);
    },
  );

  test("a sweep point the schema rejects exits 2 naming the point", async () => {
    const r = await runCli([
      "sweep",
      "--spec",
      specFile,
      "--set",
      "training.batchSize=32,0",
      "--template",
      templateFile,
      "--dry-run",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/grid point 1 \{"training.batchSize":0\}: training.batchSize/);
  });

  test("--help exits 0", async () => {
    const r = await runCli(["submit", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--spec <file>");
  });
});

describe("submit", () => {
  test("--dry-run=client --template prints the Job without any cluster (name from spec.runId)", async () => {
    const r = await runCli([
      "submit",
      "--spec",
      specFile,
      "--template",
      templateFile,
      "--dry-run=client",
      "-o",
      "yaml",
      "-n",
      "team-a",
    ]);
    expect(r.code).toBe(0);
    const job = parse(r.stdout);
    expect(job.metadata).toMatchObject({ name: "mpg-001", namespace: "team-a" });
    const env = Object.fromEntries(job.spec.template.spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
    expect(JSON.parse(env.KILN_RUN_SPEC.value)).toEqual(parse(RUN_SPEC_YAML));
    expect(job.spec.template.spec.nodeSelector).toEqual({ "kiln.dev/gpu-pool": "a100" });
    expect(r.stderr).toContain("job.batch/mpg-001 (client dry run)");
  });

  test("table output says created with the dry-run suffix; --gpus/--queue/--name applied", async () => {
    const r = await runCli([
      "submit",
      "--spec",
      specFile,
      "--template",
      templateFile,
      "--dry-run",
      "-o",
      "json",
      "--gpus",
      "0",
      "--queue",
      "training",
      "--name",
      "cpu-1",
    ]);
    const job = JSON.parse(r.stdout);
    expect(job.metadata.name).toBe("cpu-1");
    expect(job.metadata.labels["kueue.x-k8s.io/queue-name"]).toBe("training");
    expect(job.spec.suspend).toBe(true);
    expect(job.spec.template.spec.tolerations).toBeUndefined();
    const t = await runCli(["submit", "--spec", specFile, "--template", templateFile, "--dry-run"]);
    expect(t.stdout).toBe("job.batch/mpg-001 created (client dry run)\n");
  });

  test("reads the template from the cluster and creates the Job; names are generated without runId", async () => {
    const k = cluster({ gpus: 1 });
    const noId = tempFile("noid.yaml", RUN_SPEC_YAML.replace("runId: mpg-001\n", ""));
    const r = await runCli(["submit", "--spec", noId, "-n", "kiln-ml"], { api: k });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("job.batch/run-20261128-120000-3iwa created\n");
    expect(k.calls).toEqual(["getCronJob kiln-ml/kiln-trainer", "createJob kiln-ml/run-20261128-120000-3iwa"]);
    expect(k.jobs.get("kiln-ml/run-20261128-120000-3iwa")!.metadata!.labels!["kiln.dev/run"]).toBe(
      "run-20261128-120000-3iwa",
    );
  });

  test("--dry-run=server sends the Job with dryRun and stores nothing", async () => {
    const k = cluster();
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml", "--dry-run=server"], { api: k });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("job.batch/mpg-001 created (server dry run)\n");
    expect(k.calls).toContain("createJob kiln-ml/mpg-001 dryRun");
    expect(k.jobs.size).toBe(0);
  });

  test("the namespace defaults to the kubeconfig context's", async () => {
    const k = cluster();
    const r = await runCli(["submit", "--spec", specFile], { api: k, defaultNamespace: "kiln-ml" });
    expect(r.code).toBe(0);
    expect(k.jobs.has("kiln-ml/mpg-001")).toBe(true);
  });

  test.each<[string, (k: FakeKube) => void, string]>([
    [
      "no template installed",
      (k) => k.namespaces.add("empty"),
      "no Kiln template installed in namespace empty (CronJob kiln-trainer not found); install it with 'helm install kiln-trainer charts/trainer -n empty'",
    ],
    ["namespace missing", () => undefined, "namespace empty does not exist; pick a team namespace with -n"],
  ])("%s: a plain message, exit 1", async (_n, setup, message) => {
    const k = cluster();
    setup(k);
    const r = await runCli(["submit", "--spec", specFile, "-n", "empty"], { api: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: reading the Job template (CronJob kiln-trainer) in namespace empty: ${message}`);
  });

  test("a run that exists already: 409 -> choose another --name", async () => {
    const k = cluster();
    await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "creating run Job mpg-001 in namespace kiln-ml: a run named mpg-001 already exists in namespace kiln-ml; choose another --name",
    );
  });

  test("quota exceeded (403 'exceeded quota') is named as such", async () => {
    const k = cluster();
    const getCron = k.getCronJob.bind(k);
    k.getCronJob = async (ns, name) => {
      const c = await getCron(ns, name);
      k.failNext = apiError(
        403,
        'jobs.batch "mpg-001" is forbidden: exceeded quota: kiln-ml-gpus, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=8, limited: requests.nvidia.com/gpu=8',
        "Forbidden",
      );
      return c;
    };
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'creating run Job mpg-001 in namespace kiln-ml: quota exceeded in namespace kiln-ml: jobs.batch "mpg-001" is forbidden: exceeded quota: kiln-ml-gpus',
    );
  });

  test("other 403s point at the kiln-submitter role", async () => {
    const k = cluster();
    k.failNext = apiError(
      403,
      'cronjobs.batch "kiln-trainer" is forbidden: User "bob" cannot get resource "cronjobs"',
      "Forbidden",
    );
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'forbidden (403): cronjobs.batch "kiln-trainer" is forbidden: User "bob" cannot get resource "cronjobs"; ask an admin for the kiln-submitter role in namespace kiln-ml',
    );
  });

  test("no cluster: ECONNREFUSED -> 'no cluster reachable at <server>'", async () => {
    const k = cluster();
    k.failNext = connRefused();
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: reading the Job template (CronJob kiln-trainer) in namespace kiln-ml: no cluster reachable at https://127.0.0.1:6443 (ECONNREFUSED); is the cluster up, and are --context/--kubeconfig right?\n",
    );
  });

  test("an unreadable kubeconfig is reported as such", async () => {
    const r = await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: loading the kubeconfig: test: no cluster configured");
  });
});

describe("sweep", () => {
  test("creates one Indexed Job over the grid and prints the index -> run id mapping", async () => {
    const k = cluster();
    const r = await runCli(
      [
        "sweep",
        "--spec",
        specFile,
        "-n",
        "kiln-ml",
        "--name",
        "lr",
        "--set",
        "training.optimizer.learningRate=0.001,0.01",
        "--set",
        "training.batchSize=32,64",
        "--parallelism",
        "3",
      ],
      { api: k },
    );
    expect(r.code).toBe(0);
    const job = k.jobs.get("kiln-ml/lr")!;
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 4, parallelism: 3 });
    const overrides = JSON.parse(
      job.spec!.template.spec!.containers[0].env!.find((e) => e.name === "KILN_SWEEP_OVERRIDES")!.value!,
    );
    expect(overrides[1]).toEqual({ "training.batchSize": 32, "training.optimizer.learningRate": 0.01 });
    expect(r.stdout).toContain("job.batch/lr created\n");
    expect(r.stdout).toMatch(
      /INDEX +RUN-ID +TRAINING.BATCHSIZE +TRAINING.OPTIMIZER.LEARNINGRATE\n0 +lr-0 +32 +0.001\n1 +lr-1 +32 +0.01\n/,
    );
  });
});

describe("ls, status, logs, cancel", () => {
  async function withRun(): Promise<FakeKube> {
    const k = cluster({ queue: "training", gpus: 1 });
    await runCli(["submit", "--spec", specFile, "-n", "kiln-ml"], { api: k });
    return k;
  }

  test("ls with no runs: 'No runs found in <ns>.' on stderr, exit 0", async () => {
    const r = await runCli(["ls", "-n", "kiln-ml"], { api: cluster() });
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: "No runs found in kiln-ml.\n" });
  });

  test("ls lists runs; -A adds NAMESPACE; finished runs get the best metric from their pod's termination message", async () => {
    const k = await withRun();
    const job = k.jobs.get("kiln-ml/mpg-001")!;
    job.status = { conditions: [{ type: "Complete", status: "True" }], succeeded: 1 };
    const pod = (name: string, created: string, message: string): V1Pod => ({
      metadata: {
        name,
        namespace: "kiln-ml",
        labels: { ...job.spec!.template.metadata!.labels, "batch.kubernetes.io/job-name": "mpg-001" },
        creationTimestamp: new Date(created),
      },
      status: {
        phase: "Succeeded",
        containerStatuses: [
          {
            name: "trainer",
            image: "x",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, message } },
          },
        ],
      },
    });
    // The newest pod's message counts (an earlier attempt's does not); no log is read.
    k.pods.push(
      pod("mpg-001-x0", "2026-11-28T10:00:00Z", '{"epoch":1,"loss":1,"val_loss":1}\n'),
      pod("mpg-001-x1", "2026-11-28T11:00:00Z", '{"epoch":2,"loss":5,"val_loss":6.5}\n'),
    );
    const r = await runCli(["ls", "-n", "kiln-ml"], { api: k });
    expect(k.calls.filter((c) => c.startsWith("readLog"))).toEqual([]);
    expect(r.stdout).toBe(
      "NAME      STATUS      AGE   GPUS   QUEUE      GPU-HOURS   COST   BEST-METRIC\nmpg-001   Succeeded   0s    1      training   0           $0     val_loss=6.5000@2\n",
    );
    const all = await runCli(["ls", "-A", "--no-metrics"], { api: k });
    expect(all.stdout.split("\n")[0]).toMatch(/^NAMESPACE +NAME +STATUS/);
    expect(all.stdout.split("\n")[1]).toMatch(/^kiln-ml +mpg-001 +Succeeded .* -$/);
    const json = await runCli(["ls", "-n", "kiln-ml", "-o", "json"], { api: k });
    expect(JSON.parse(json.stdout).runs[0]).toMatchObject({
      name: "mpg-001",
      status: "Succeeded",
      gpus: 1,
      queue: "training",
      bestMetric: "val_loss=6.5000@2",
    });
  });

  test("status of a missing run: plain message, exit 1", async () => {
    const r = await runCli(["status", "nope", "-n", "kiln-ml"], { api: cluster() });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "error: reading run nope in namespace kiln-ml: no run nope in namespace kiln-ml (kubectl kiln ls -n kiln-ml)\n",
    );
  });

  test("status prints the run; -o yaml prints the Job", async () => {
    const k = await withRun();
    expect((await runCli(["status", "mpg-001", "-n", "kiln-ml"], { api: k })).stdout).toContain("Status:    Queued\n");
    expect(
      parse((await runCli(["status", "mpg-001", "-n", "kiln-ml", "-o", "yaml"], { api: k })).stdout).metadata.name,
    ).toBe("mpg-001");
  });

  test("logs of a queued run without -f: says there is no pod yet, exit 1", async () => {
    const r = await runCli(["logs", "mpg-001", "-n", "kiln-ml"], { api: await withRun() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("run mpg-001 has no pods yet (queued or suspended?); use -f to wait");
  });

  test("logs renders the trainer's JSON lines as a progress table (and -f streams the same)", async () => {
    const k = await withRun();
    k.pods.push({
      metadata: {
        name: "mpg-001-x1",
        namespace: "kiln-ml",
        labels: { "batch.kubernetes.io/job-name": "mpg-001" },
        creationTimestamp: new Date(),
      },
      status: { phase: "Running" },
    });
    k.logs.set("kiln-ml/mpg-001-x1", '{"epoch":1,"loss":9,"val_loss":8,"metrics":{},"msPerStep":1,"etaSeconds":3}\n');
    const expected =
      "EPOCH      LOSS       VAL-LOSS   MS/STEP    ETA\n1          9.0000     8.0000     1.0        3s\n";
    expect((await runCli(["logs", "mpg-001", "-n", "kiln-ml"], { api: k })).stdout).toBe(expected);
    expect((await runCli(["logs", "mpg-001", "-n", "kiln-ml", "--raw"], { api: k })).stdout).toBe(
      k.logs.get("kiln-ml/mpg-001-x1"),
    );
    // -f streams until the run ends (the fake's stream ends at once: a finished run's log).
    k.pods[0].status = {
      phase: "Succeeded",
      containerStatuses: [
        {
          name: "trainer",
          image: "t",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0 } },
        },
      ],
    };
    k.jobs.get("kiln-ml/mpg-001")!.status = { conditions: [{ type: "Complete", status: "True" }] };
    expect((await runCli(["logs", "mpg-001", "-n", "kiln-ml", "-f"], { api: k })).stdout).toBe(expected);
  });

  test("cancel deletes the Job in the background; a missing run exits 1", async () => {
    const k = await withRun();
    expect((await runCli(["cancel", "mpg-001", "-n", "kiln-ml", "--dry-run=server"], { api: k })).stdout).toBe(
      "job.batch/mpg-001 deleted (server dry run)\n",
    );
    expect(k.jobs.size).toBe(1);
    const r = await runCli(["cancel", "mpg-001", "-n", "kiln-ml"], { api: k });
    expect(r).toMatchObject({ code: 0, stdout: "job.batch/mpg-001 deleted\n" });
    expect(k.jobs.size).toBe(0);
    const again = await runCli(["cancel", "mpg-001", "-n", "kiln-ml"], { api: k });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("cancelling run mpg-001 in namespace kiln-ml: no run mpg-001 in namespace kiln-ml");
  });
});

describe("run-local", () => {
  const entry = tempFile("main.js", "// stand-in trainer entry\n");

  function localCluster(): FakeKube {
    const k = cluster({
      gpus: 1,
      objectStore: { endpoint: "http://127.0.0.1:9000", region: "us-east-1", credentialsSecret: "kiln-object-store" },
    });
    k.secrets.set("kiln-ml/kiln-object-store", {
      data: {
        AWS_ACCESS_KEY_ID: Buffer.from("kiln").toString("base64"),
        AWS_SECRET_ACCESS_KEY: Buffer.from("s3cret-value").toString("base64"),
      },
    });
    return k;
  }

  test("resolves the Job's env from the cluster and runs the local trainer build with the container's arguments", async () => {
    const k = localCluster();
    // A plain-kubectl run: the spec comes from the ConfigMap, the run id from the job-name label.
    const cron = k.cronJobs.get("kiln-ml/kiln-trainer")!;
    k.jobs.set("kiln-ml/run-1", {
      metadata: { name: "run-1", namespace: "kiln-ml" },
      spec: structuredClone(cron.spec!.jobTemplate.spec!),
    });
    const r = await runCli(["run-local", "run-1", "-n", "kiln-ml", "--trainer", entry], {
      api: k,
      env: { PATH: "/usr/bin" },
    });
    expect(r.code).toBe(0);
    expect(r.spawned).toHaveLength(1);
    const { command, args, env } = r.spawned[0];
    expect(command).toBe(process.execPath);
    expect(args).toEqual([entry, "train"]);
    expect(env).toMatchObject({
      KILN_RUN_ID: "run-1",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9000",
      AWS_ACCESS_KEY_ID: "kiln",
      AWS_SECRET_ACCESS_KEY: "s3cret-value",
      HOME: "/tmp",
      PATH: "/usr/bin",
    });
    expect(env.KILN_RUN_SPEC).toBe(k.configMaps.get("kiln-ml/kiln-run-spec")!.data!["spec.yaml"]);
    expect(r.stderr).toContain("run-local: REAL   Job kiln-ml/run-1 read from the API server https://127.0.0.1:6443");
    expect(r.stderr).toContain("run-local: LOCAL  its container runs HERE, as a local process, not in a pod");
    expect(r.stderr).toContain(
      "AWS_SECRET_ACCESS_KEY <- Secret kiln-object-store key AWS_SECRET_ACCESS_KEY (value hidden)",
    );
    expect(r.stderr).not.toContain("s3cret-value");
  });

  test("a sweep index sets JOB_COMPLETION_INDEX; --env overrides; the trainer's exit code is the plugin's", async () => {
    const k = localCluster();
    await runCli(["sweep", "--spec", specFile, "-n", "kiln-ml", "--name", "sw", "--set", "training.batchSize=8,16"], {
      api: k,
    });
    const r = await runCli(
      [
        "run-local",
        "sw",
        "-n",
        "kiln-ml",
        "--trainer",
        entry,
        "--index",
        "1",
        "--env",
        "AWS_ENDPOINT_URL_S3=http://localhost:9999",
      ],
      { api: k, spawnResult: { code: 2, signal: null } },
    );
    expect(r.code).toBe(2);
    expect(r.spawned[0].env).toMatchObject({
      JOB_COMPLETION_INDEX: "1",
      KILN_RUN_ID: "sw",
      AWS_ENDPOINT_URL_S3: "http://localhost:9999",
    });
    expect(JSON.parse(r.spawned[0].env.KILN_SWEEP_OVERRIDES!)[1]).toEqual({ "training.batchSize": 16 });
    expect(r.stderr).toContain("run-local: trainer exited with code 2");
    const out = await runCli(["run-local", "sw", "-n", "kiln-ml", "--trainer", entry, "--index", "2"], { api: k });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("--index 2 is outside the sweep (0..1)");
  });

  test("KILN_TRAINER_ENTRY picks the entry; a missing entry is a usage error", async () => {
    const k = localCluster();
    k.jobs.set("kiln-ml/run-1", {
      metadata: { name: "run-1", namespace: "kiln-ml" },
      spec: structuredClone(k.cronJobs.get("kiln-ml/kiln-trainer")!.spec!.jobTemplate.spec!),
    });
    const r = await runCli(["run-local", "run-1", "-n", "kiln-ml"], { api: k, env: { KILN_TRAINER_ENTRY: entry } });
    expect(r.spawned[0].args[0]).toBe(entry);
    const missing = await runCli(
      ["run-local", "run-1", "-n", "kiln-ml", "--trainer", path.join(path.dirname(entry), "nope.js")],
      { api: k },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      "nope.js does not exist: build it (npm run build -w trainer-image) or pass --trainer / KILN_TRAINER_ENTRY",
    );
  });

  test("a Job whose command is not the trainer's is refused", async () => {
    const k = localCluster();
    k.jobs.set("kiln-ml/other", {
      metadata: { name: "other", namespace: "kiln-ml" },
      spec: { template: { spec: { containers: [{ name: "trainer", command: ["python", "train.py"] }] } } },
    });
    const r = await runCli(["run-local", "other", "-n", "kiln-ml", "--trainer", entry], { api: k });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `the Job's command "python train.py" is not the trainer image's "node /app/dist/main.js ..."`,
    );
    expect(fs.existsSync(entry)).toBe(true);
  });
});
