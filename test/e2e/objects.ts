/**
 * The Kubernetes objects the local stack declares, read from its Pulumi state (`pulumi stack export`):
 * every kubernetes:* custom resource with a kind and name, plus the objects inside each Helm release
 * (helm.sh/v3 Release `resourceNames`: "Kind[.group]/apiVersion" -> [name, ...] in the release namespace).
 */
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { KUBECONFIG, pulumi } from "./harness";

export interface DeclaredObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** Pulumi URN, or "<release urn> / <kind>" for an object inside a Helm release. */
  readonly from: string;
}

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  outputs?: Record<string, any>;
}

/** Parses "CronJob.batch/batch/v1" -> {kind: CronJob, apiVersion: batch/v1}; "ConfigMap/v1" -> {ConfigMap, v1}. */
export function parseHelmKey(key: string): { kind: string; apiVersion: string } {
  const slash = key.indexOf("/");
  if (slash <= 0 || slash === key.length - 1) throw new Error(`unexpected Helm resource key '${key}'`);
  const kindGroup = key.slice(0, slash);
  return { kind: kindGroup.split(".")[0], apiVersion: key.slice(slash + 1) };
}

export function declaredObjects(resources: readonly StateResource[]): DeclaredObject[] {
  const out: DeclaredObject[] = [];
  for (const r of resources) {
    if (!r.custom || !r.type.startsWith("kubernetes:") || r.type.startsWith("pulumi:providers:")) continue;
    const o = r.outputs ?? {};
    if (r.type === "kubernetes:helm.sh/v3:Release") {
      for (const [key, names] of Object.entries((o.resourceNames ?? {}) as Record<string, string[]>)) {
        const { kind, apiVersion } = parseHelmKey(key);
        for (const full of names) {
          const [namespace, name] = full.includes("/") ? full.split("/", 2) : [o.namespace as string | undefined, full];
          out.push({ apiVersion, kind, name, namespace, from: `${r.urn} / ${kind}` });
        }
      }
      continue;
    }
    if (typeof o.kind === "string" && typeof o.apiVersion === "string" && o.metadata?.name) {
      out.push({
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        from: r.urn,
      });
    }
  }
  return out;
}

export async function stackObjects(): Promise<DeclaredObject[]> {
  const r = await pulumi(["stack", "export", "--show-secrets"]);
  if (r.code !== 0) throw new Error(`pulumi stack export failed: ${r.stderr}`);
  const state = JSON.parse(r.stdout) as { deployment?: { resources?: StateResource[] } };
  return declaredObjects(state.deployment?.resources ?? []);
}

let client: KubernetesObjectApi | undefined;
function objectApi(): KubernetesObjectApi {
  if (!client) {
    const kc = new KubeConfig();
    kc.loadFromFile(KUBECONFIG);
    client = KubernetesObjectApi.makeApiClient(kc);
  }
  return client;
}

/** Reads one object; undefined when the API server answers 404 (or the kind no longer exists). */
export async function readObject(o: DeclaredObject): Promise<Record<string, any> | undefined> {
  try {
    return (await objectApi().read({
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.name, namespace: o.namespace },
    })) as unknown as Record<string, any>;
  } catch (e) {
    const code = (e as { code?: number }).code;
    const msg = String((e as Error).message ?? e);
    if (code === 404 || /404|not found|Unrecognized resource/i.test(msg)) return undefined;
    throw e;
  }
}
