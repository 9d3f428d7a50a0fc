/**
 * Release packaging of the kubectl plugin for krew: bundles cli/ into one self-contained
 * executable (esbuild; Node.js >= 20 is the only runtime need), packs it as
 * kubectl-kiln-v<version>.tar.gz and writes the krew Plugin manifest with the archive's sha256.
 *   npx ts-node --transpile-only cli/krew/package.ts [--out dist/krew] [--base-url URL]
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { buildSync } from "esbuild";
import YAML from "yaml";
import { buildAssets } from "../src/dashboard/assets";
import { VERSION } from "../src/main";

const ROOT = path.resolve(__dirname, "..", "..");
const DEFAULT_BASE_URL = "https://github.com/kiln-dev/kiln/releases/download";

export interface KrewPackage {
  readonly archive: string;
  readonly manifest: string;
  readonly sha256: string;
}

/** Builds the archive and manifest under `outDir`; returns their paths. */
export function packagePlugin(outDir: string, baseUrl = DEFAULT_BASE_URL): KrewPackage {
  const stage = path.join(outDir, "stage");
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const bin = path.join(stage, "kubectl-kiln");
  buildSync({
    entryPoints: [path.join(ROOT, "cli", "src", "main.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    outfile: bin,
    // The bundle is the executable: call main() once everything is defined.
    banner: { js: "#!/usr/bin/env node" },
    footer: { js: "module.exports.main();" },
    logLevel: "warning",
    // The dashboard's browser script, bundled now: the executable has no sources or esbuild to make it from.
    define: { __KILN_DASHBOARD_ASSETS__: JSON.stringify(buildAssets()) },
    external: ["esbuild"],
  });
  fs.chmodSync(bin, 0o755);

  const tag = `v${VERSION}`;
  const archive = path.join(outDir, `kubectl-kiln-${tag}.tar.gz`);
  // Fixed mtime/owner so the same sources give the same archive (and sha256).
  execFileSync(
    "tar",
    [
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-czf",
      archive,
      "-C",
      stage,
      "kubectl-kiln",
    ],
    {
      env: { ...process.env, GZIP: "-n" },
    },
  );
  const sha256 = createHash("sha256").update(fs.readFileSync(archive)).digest("hex");

  const manifest = path.join(outDir, "kiln.yaml");
  fs.writeFileSync(manifest, YAML.stringify(krewManifest(tag, `${baseUrl}/${tag}/${path.basename(archive)}`, sha256)));
  fs.rmSync(stage, { recursive: true, force: true });
  return { archive, manifest, sha256 };
}

/** The krew Plugin object (krew.googlecontainertools.github.com/v1alpha2). */
export function krewManifest(tag: string, uri: string, sha256: string) {
  return {
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: "kiln" },
    spec: {
      version: tag,
      homepage: "https://github.com/kiln-dev/kiln",
      shortDescription: "Launch, sweep and follow Kiln GPU training runs",
      description:
        "Creates training Jobs from the kiln-trainer CronJob template that Kiln installs in each team\n" +
        "namespace (submit, grid sweeps as one Indexed Job), lists runs with their best metric, renders\n" +
        "the trainer's progress logs as a table, cancels runs and runs a Job's container locally.\n",
      caveats: "kubectl-kiln is a Node.js program: it needs node >= 20 on PATH.\n",
      platforms: ["linux", "darwin"].map((os) => ({
        selector: { matchLabels: { os } },
        uri,
        sha256,
        bin: "kubectl-kiln",
        files: [{ from: "kubectl-kiln", to: "." }],
      })),
    },
  };
}

if (require.main === module) {
  const program = new Command("package")
    .description("bundle kubectl-kiln and write its krew manifest")
    .option("--out <dir>", "output directory", path.join(ROOT, "dist", "krew"))
    .option("--base-url <url>", "release download base URL (the tag and archive name are appended)", DEFAULT_BASE_URL)
    .action((opts: { out: string; baseUrl: string }) => {
      fs.mkdirSync(opts.out, { recursive: true });
      const p = packagePlugin(path.resolve(opts.out), opts.baseUrl);
      process.stdout.write(`${p.archive}\n${p.manifest}\nsha256 ${p.sha256}\n`);
    });
  program.parse();
}
