/** scripts/image/build.sh's argument handling and the extra-CA input (no image is built here). */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const BUILD = path.join(ROOT, "scripts/image/build.sh");
const version = JSON.parse(fs.readFileSync(path.join(ROOT, "trainer-image/package.json"), "utf8")).version as string;

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync("bash", args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
/** Calls one helper of scripts/image/lib.sh. */
const lib = (call: string, env: NodeJS.ProcessEnv = {}) =>
  run(
    [
      "-c",
      `set -euo pipefail; REPO_ROOT=${ROOT}; source scripts/toolchain/versions.sh; source scripts/image/lib.sh; ${call}`,
    ],
    env,
  );

describe("image:build", () => {
  it("prints the reference it would build: the trainer's version, with the variant as a suffix", () => {
    expect(run([BUILD, "--print-ref"]).stdout.trim()).toBe(`localhost/kiln/trainer:${version}`);
    expect(run([BUILD, "--variant", "cpu", "--print-ref"]).stdout.trim()).toBe(`localhost/kiln/trainer:${version}-cpu`);
    expect(run([BUILD, "--variant=gpu", "--print-ref"]).stdout.trim()).toBe(`localhost/kiln/trainer:${version}-gpu`);
    expect(
      run([BUILD, "--print-ref"], { KILN_TRAINER_IMAGE: "registry.example/kiln/trainer:1.2.3" }).stdout.trim(),
    ).toBe("registry.example/kiln/trainer:1.2.3");
  });

  it("prints the JAX example's reference: the kiln version (the root package.json's)", () => {
    const kiln = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version as string;
    expect(run([BUILD, "--print-example-ref"]).stdout.trim()).toBe(`localhost/kiln/example-jax:${kiln}`);
  });

  it("refuses an unknown variant and unknown arguments with exit 2 and the reason", () => {
    const bogus = run([BUILD, "--variant", "tpu"]);
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toContain("--variant must be none, cpu or gpu (got 'tpu')");
    const arg = run([BUILD, "--fast"]);
    expect(arg.status).toBe(2);
    expect(arg.stderr).toContain("unknown argument '--fast'");
  });

  it("takes KILN_EXTRA_CA_CERTS as the build's extra CAs (mode 600), and names a missing or non-PEM file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-ca-"));
    const pem = path.join(dir, "corp.pem");
    fs.writeFileSync(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const out = path.join(dir, "bundle.pem");
    const ok = lib(`extra_ca_bundle ${out}`, { KILN_EXTRA_CA_CERTS: pem });
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe(out);
    expect(fs.readFileSync(out, "utf8")).toBe(fs.readFileSync(pem, "utf8"));
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);

    const missing = lib(`extra_ca_bundle ${out}`, { KILN_EXTRA_CA_CERTS: path.join(dir, "nope.pem") });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("nope.pem: not a readable, non-empty PEM file");
    const notPem = path.join(dir, "key.txt");
    fs.writeFileSync(notPem, "hello\n");
    const bad = lib(`extra_ca_bundle ${out}`, { KILN_EXTRA_CA_CERTS: notPem });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("key.txt: no PEM certificate in it");
  });
});

describe("the Dockerfile's defaults for Docker users", () => {
  it("use the Node version and Debian suite pinned in scripts/toolchain/versions.sh (the no-registry build's pins)", () => {
    const pins = spawnSync(
      "bash",
      ["-c", "source scripts/toolchain/versions.sh; echo $IMAGE_NODE_VERSION $DEBIAN_SUITE"],
      { cwd: ROOT, encoding: "utf8" },
    )
      .stdout.trim()
      .split(" ");
    const dockerfile = fs.readFileSync(path.join(ROOT, "trainer-image/Dockerfile"), "utf8");
    expect(/^ARG NODE_IMAGE=(.*)$/m.exec(dockerfile)?.[1]).toBe(`node:${pins[0]}-${pins[1]}-slim`);
    expect(/^ARG BASE_IMAGE=(.*)$/m.exec(dockerfile)?.[1]).toBe(`debian:${pins[1]}-slim`);
  });

  it("the JAX example's Dockerfile starts from the same Debian suite", () => {
    const suite = spawnSync("bash", ["-c", "source scripts/toolchain/versions.sh; echo $DEBIAN_SUITE"], {
      cwd: ROOT,
      encoding: "utf8",
    }).stdout.trim();
    const dockerfile = fs.readFileSync(path.join(ROOT, "examples/jax-multinode/Dockerfile"), "utf8");
    expect(/^ARG BASE_IMAGE=(.*)$/m.exec(dockerfile)?.[1]).toBe(`debian:${suite}-slim`);
  });
});
