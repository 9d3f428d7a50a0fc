/**
 * Test support: the real helm binary (env KILN_HELM, else unpacked by scripts/kube-tools.sh) and
 * `helm template` of charts/trainer parsed into objects.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const TRAINER_CHART = path.join(REPO_ROOT, "charts/trainer");

let cachedHelm: string | undefined;

/** Path of the helm binary: $KILN_HELM, else `<scripts/kube-tools.sh output>/helm`. */
export function helmBin(): string {
  if (cachedHelm) return cachedHelm;
  const fromEnv = process.env.KILN_HELM;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`KILN_HELM=${fromEnv} does not exist`);
    cachedHelm = fromEnv;
    return cachedHelm;
  }
  const binDir = execFileSync("bash", [path.join(REPO_ROOT, "scripts/kube-tools.sh")], { encoding: "utf8" }).trim();
  cachedHelm = path.join(binDir, "helm");
  return cachedHelm;
}

export interface HelmResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with the given arguments; never throws on a non-zero exit. */
export function helm(args: readonly string[]): HelmResult {
  const r = spawnSync(helmBin(), args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A rendered Kubernetes object (loosely typed: tests assert on its fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};

export interface Rendered {
  readonly objects: K8sObject[];
  /** NOTES.txt is not rendered by `helm template`; the raw manifest text is kept for debugging. */
  readonly manifest: string;
  find(kind: string, name?: string): K8sObject;
  all(kind: string): K8sObject[];
}

/** Writes values to a temp file (JSON is YAML, so numbers keep their types) and returns `-f <file>`. */
function valuesArgs(values: Record<string, unknown>): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-values-"));
  const file = path.join(dir, "values.json");
  fs.writeFileSync(file, JSON.stringify(values));
  return ["-f", file];
}

/** `helm template` with values; returns the raw result (use for failure cases). */
export function helmTemplateRaw(
  values: Record<string, unknown> = {},
  opts: { release?: string; namespace?: string } = {},
): HelmResult {
  return helm([
    "template",
    opts.release ?? "kiln-trainer",
    TRAINER_CHART,
    "-n",
    opts.namespace ?? "kiln-ml",
    ...valuesArgs(values),
  ]);
}

/** `helm template` of charts/trainer with values, parsed; throws with helm's stderr when it fails. */
export function renderTrainer(
  values: Record<string, unknown> = {},
  opts: { release?: string; namespace?: string } = {},
): Rendered {
  const r = helmTemplateRaw(values, opts);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  const objects = parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`helm template produced invalid YAML: ${d.errors[0].message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
  return {
    objects,
    manifest: r.stdout,
    all: (kind) => objects.filter((o) => o.kind === kind),
    find(kind, name) {
      const hit = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
      if (!hit)
        throw new Error(
          `no ${kind}${name ? ` ${name}` : ""} in: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
        );
      return hit;
    },
  };
}
