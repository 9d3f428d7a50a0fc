/**
 * Every version pin has one source, and every copy of it is checked against that source:
 * scripts/toolchain/versions.sh for the tools (and the Kueue chart the stack installs), the npm
 * manifests for the Pulumi SDK, trainer-image/package.json for the trainer release.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { JOBSET_CHART_VERSION, KUEUE_CHART_VERSION, parseConfig } from "../../infra/config";
import { VERSION as CLI_VERSION } from "../../cli/src/main";

const ROOT = path.resolve(__dirname, "../..");
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const json = (f: string) => JSON.parse(read(f));

/** `NAME=${NAME:-value}` assignments of versions.sh, as written (environment overrides do not count). */
function pins(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of read("scripts/toolchain/versions.sh").matchAll(/^([A-Z_]+)=\$\{\1:-([^}"]+)\}$/gm)) out[m[1]] = m[2];
  return out;
}
const bare = (v: string) => v.replace(/^v/, "");
const README = read("README.md");
/** The version column of the README's tool table row that starts with `name`. */
const readmeToolVersion = (name: string) =>
  new RegExp(`^\\| ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\| ([^|]+) \\|`, "m").exec(README)?.[1].trim();

describe("version pins", () => {
  const p = pins();

  test("versions.sh is read (the pins this test relies on are there)", () => {
    for (const k of [
      "KUBERNETES_VERSION",
      "KUEUE_VERSION",
      "JOBSET_VERSION",
      "PULUMI_VERSION",
      "PULUMI_KUBERNETES_VERSION",
      "ETCD_VERSION",
      "KWOK_VERSION",
      "IMAGE_NODE_VERSION",
    ])
      expect(p[k]).toMatch(/^v?\d+\.\d+\.\d+/);
  });

  test("Kueue: the chart the stack installs by default is the release the harness builds and the e2e suite tests", () => {
    expect(KUEUE_CHART_VERSION).toBe(bare(p.KUEUE_VERSION));
    expect(
      parseConfig({ "kiln:platform": "local", "kiln:trainer": JSON.stringify({ repository: "r/t" }) }, "local").kueue
        .version,
    ).toBe(KUEUE_CHART_VERSION);
    expect(readmeToolVersion("kueue")).toBe(p.KUEUE_VERSION);
    expect(README).toContain(`version: ${KUEUE_CHART_VERSION}}`);
  });

  test("JobSet: the chart the stack installs by default is the release the harness runs", () => {
    expect(JOBSET_CHART_VERSION).toBe(bare(p.JOBSET_VERSION));
    expect(
      parseConfig({ "kiln:platform": "local", "kiln:trainer": JSON.stringify({ repository: "r/t" }) }, "local").jobset
        .version,
    ).toBe(JOBSET_CHART_VERSION);
    expect(read("Pulumi.yaml")).toContain(`version ${JOBSET_CHART_VERSION} (Helm chart)`);
    expect(README).toContain(`{enabled: true, install: chart, version: ${JOBSET_CHART_VERSION}}`);
  });

  test("Pulumi: the CLI the harness builds, the npm SDK (root, overrides, policy pack, installed) and the README agree", () => {
    const v = bare(p.PULUMI_VERSION);
    const root = json("package.json");
    expect(root.dependencies["@pulumi/pulumi"]).toBe(v);
    expect(root.overrides["@pulumi/pulumi"]).toBe(v);
    expect(json("policy/package.json").dependencies["@pulumi/pulumi"]).toBe(v);
    expect(json("node_modules/@pulumi/pulumi/package.json").version).toBe(v);
    expect(readmeToolVersion("pulumi")).toBe(p.PULUMI_VERSION);
  });

  test("the Kubernetes provider plugin advertises the installed @pulumi/kubernetes version", () => {
    expect(json("node_modules/@pulumi/kubernetes/package.json").version).toBe(bare(p.PULUMI_KUBERNETES_VERSION));
    expect(readmeToolVersion("pulumi-resource-kubernetes")).toBe(p.PULUMI_KUBERNETES_VERSION);
  });

  test("the README's tool table shows the pinned versions", () => {
    expect(readmeToolVersion("kube-apiserver, -controller-manager, -scheduler, kubelet")).toBe(
      `Kubernetes ${p.KUBERNETES_VERSION}`,
    );
    expect(readmeToolVersion("kwok")).toBe(p.KWOK_VERSION);
    expect(readmeToolVersion("etcd")).toBe(p.ETCD_VERSION);
    expect(readmeToolVersion("jobset")).toBe(p.JOBSET_VERSION);
    expect(readmeToolVersion("coredns")).toBe(p.COREDNS_VERSION);
    expect(readmeToolVersion("pulumi-language-nodejs")).toBe(p.PULUMI_LANGUAGE_NODEJS_VERSION);
    expect(readmeToolVersion("actionlint (workflow tests)")).toBe(p.ACTIONLINT_VERSION);
    expect(readmeToolVersion("minio")).toBe(`pseudo-version \`${p.MINIO_VERSION}\``);
  });

  test("the trainer release: trainer-image/package.json's version everywhere it is written", () => {
    const v = json("trainer-image/package.json").version;
    const chart = YAML.parse(read("charts/trainer/Chart.yaml"));
    expect(chart.appVersion).toBe(v);
    expect(YAML.parse(read("charts/trainer/values.yaml")).image.tag).toBe(v);
    expect(YAML.parse(read("Pulumi.local.yaml")).config["kiln:trainer"].tag).toBe(v);
    expect(parseConfig({ "kiln:platform": "aws" }, "dev").trainer.tag).toBe(v);
    expect(read("trainer-image/Dockerfile")).toContain(`-t kiln-trainer:${v} .`);
    expect(read("Pulumi.yaml")).toContain(`tag ${v},`);
    // Every trainer image reference in the README names this version.
    const refs = [...README.matchAll(/(?:kiln-trainer|kiln\/trainer):(\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(1);
    expect(new Set(refs)).toEqual(new Set([v]));
    expect(README).toContain(`{tag: ${v}, defaultGpus: 1}`);
  });

  test("the plugin's version is Kiln's (root package.json)", () => {
    expect(CLI_VERSION).toBe(json("package.json").version);
    expect(README).toContain(`kubectl-kiln-v${CLI_VERSION}.tar.gz`);
  });
});

describe("tools:build checks its wrapper modules against versions.sh", () => {
  const build = (env: Record<string, string> = {}) =>
    spawnSync("bash", [path.join(ROOT, "scripts/toolchain/build.sh"), "--check-pins"], {
      encoding: "utf8",
      env: { ...process.env, ...env },
    });

  test("every committed wrapper go.mod requires the pinned version", () => {
    const r = build();
    expect(r.stderr).toContain("every wrapper go.mod requires the version versions.sh pins");
    expect(r.status).toBe(0);
  });

  test("an overridden version that the wrapper does not require is refused, naming the module and the fix", () => {
    const r = build({ KUEUE_VERSION: "v0.15.0", ETCD_VERSION: "v3.6.99" });
    expect(r.status).toBe(1);
    const p = pins();
    expect(r.stderr).toContain(
      `kueue: scripts/toolchain/modules/kueue/go.mod requires sigs.k8s.io/kueue ${p.KUEUE_VERSION}, but versions.sh pins v0.15.0`,
    );
    expect(r.stderr).toContain(
      `etcd: scripts/toolchain/modules/etcd/go.mod requires go.etcd.io/etcd/server/v3 ${p.ETCD_VERSION}, but versions.sh pins v3.6.99`,
    );
    expect(r.stderr).not.toContain("kwok:");
  });
});

describe("the JAX example's Python pins (examples/jax-multinode/requirements.txt)", () => {
  const reqs = read("examples/jax-multinode/requirements.txt");
  /** `name==version` of every requirement, with the number of hashes after it. */
  const entries = [...reqs.matchAll(/^([A-Za-z0-9_.-]+)==(\S+)((?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})*)/gm)].map(
    (m) => ({ name: m[1], version: m[2], hashes: (m[3].match(/--hash=/g) ?? []).length }),
  );

  test("every requirement is pinned exactly and carries its wheel's sha256", () => {
    const lines = reqs.split("\n").filter((l) => /^[A-Za-z0-9]/.test(l));
    expect(entries.map((e) => e.name)).toEqual(lines.map((l) => l.split("==")[0]));
    expect(entries.length).toBeGreaterThanOrEqual(10);
    for (const e of entries) expect(e.hashes).toBeGreaterThan(0);
    expect(entries.map((e) => e.name)).toEqual(expect.arrayContaining(["jax", "jaxlib", "numpy", "boto3"]));
  });

  test("jax and jaxlib are one release, and the example's README names it", () => {
    const v = (n: string) => entries.find((e) => e.name === n)?.version;
    expect(v("jaxlib")).toBe(v("jax"));
    expect(read("examples/jax-multinode/README.md")).toContain(`${v("jax")}, its newest release for 3.11`);
  });
});
