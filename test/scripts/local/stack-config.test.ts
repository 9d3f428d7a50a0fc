import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { parseConfig } from "../../../infra/config";
import { harnessStackConfig, splitImageRef } from "../../../scripts/local/stack-config";

const ROOT = path.resolve(__dirname, "../../..");
const committed = fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8");
const store = { endpoint: "http://127.0.0.1:9000", accessKeyId: "kiln-key" };

function configOf(text: string): Record<string, unknown> {
  return (YAML.parse(text) as { config: Record<string, unknown> }).config;
}

describe("harness copy of the local stack config", () => {
  it("switches to the external object store, external Kueue and no GPU services", () => {
    const c = configOf(harnessStackConfig(committed, store));
    expect(c["kiln:objectStore"]).toMatchObject({
      mode: "external",
      endpoint: "http://127.0.0.1:9000",
      accessKeyId: "kiln-key",
    });
    expect(c["kiln:kueue"]).toMatchObject({ enabled: true, install: "external" });
    expect(c["kiln:jobset"]).toEqual({ install: "external" });
    expect(c["kiln:gpuServices"]).toBe("none");
  });

  it("keeps every other key of the committed config (pools, teams, trainer)", () => {
    const original = configOf(committed);
    const c = configOf(harnessStackConfig(committed, store));
    for (const key of ["kiln:gpuPools", "kiln:teams", "kiln:trainer", "kiln:platform"])
      expect(c[key]).toEqual(original[key]);
  });

  it("validates against the stack config schema once the secret is set", () => {
    const c = configOf(harnessStackConfig(committed, store));
    (c["kiln:objectStore"] as Record<string, unknown>).secretAccessKey = "s3cr3t";
    const raw = Object.fromEntries(
      Object.entries(c).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    const parsed = parseConfig(raw, "local");
    expect(parsed.objectStore.mode).toBe("external");
    expect(parsed.kueue.install).toBe("external");
    expect(parsed.jobset.install).toBe("external");
  });

  it("keeps the passphrase salt and the encrypted secret of an existing copy", () => {
    const existing = YAML.stringify({
      encryptionsalt: "v1:abc",
      config: { "kiln:objectStore": { secretAccessKey: { secure: "v1:xyz" } } },
    });
    const text = harnessStackConfig(committed, store, existing);
    const doc = YAML.parse(text) as { encryptionsalt: string; config: Record<string, Record<string, unknown>> };
    expect(doc.encryptionsalt).toBe("v1:abc");
    expect(doc.config["kiln:objectStore"].secretAccessKey).toEqual({ secure: "v1:xyz" });
  });

  it("refuses a non-local platform and a bad endpoint", () => {
    expect(() => harnessStackConfig("config:\n  kiln:platform: aws\n", store)).toThrow(
      "kiln:platform is 'aws': the harness only deploys the local platform",
    );
    expect(() => harnessStackConfig(committed, { ...store, endpoint: "127.0.0.1:9000" })).toThrow(
      "endpoint '127.0.0.1:9000': expected http(s)://host:port",
    );
  });

  it("points kiln:trainer at the locally built image (and keeps defaultGpus); the result still validates", () => {
    const c = configOf(harnessStackConfig(committed, { ...store, trainerImage: "localhost/kiln/trainer:0.1.0-cpu" }));
    expect(c["kiln:trainer"]).toEqual({
      ...(configOf(committed)["kiln:trainer"] as object),
      repository: "localhost/kiln/trainer",
      tag: "0.1.0-cpu",
    });
    (c["kiln:objectStore"] as Record<string, unknown>).secretAccessKey = "s3cr3t";
    const raw = Object.fromEntries(
      Object.entries(c).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    expect(parseConfig(raw, "local").trainer).toMatchObject({ repository: "localhost/kiln/trainer", tag: "0.1.0-cpu" });
  });

  it("splits REPOSITORY:TAG at the tag, not at a registry port", () => {
    expect(splitImageRef("localhost:5000/kiln/trainer:0.1.0")).toEqual({
      repository: "localhost:5000/kiln/trainer",
      tag: "0.1.0",
    });
    expect(splitImageRef("kiln/trainer:1")).toEqual({ repository: "kiln/trainer", tag: "1" });
    for (const bad of ["localhost:5000/kiln/trainer", "kiln/trainer", ":0.1.0", "kiln/:x"])
      expect(() => splitImageRef(bad)).toThrow(/expected REPOSITORY:TAG/);
  });
});
