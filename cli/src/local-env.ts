/**
 * run-local's view of a Job: its trainer container's environment resolved the way the kubelet would
 * (values, ConfigMap/Secret keys, the downward API's job-name label), and its command mapped from the
 * image's `node /app/dist/main.js` to this checkout's trainer build.
 */
import type { V1Container, V1ConfigMap, V1Job, V1Secret } from "@kubernetes/client-node";
import { CliError, UsageError } from "./errors";
import { JOB_NAME_LABEL } from "../../contract/labels";

/** Reads ConfigMaps and Secrets of the Job's namespace (the API server in production). */
export interface EnvSources {
  configMap(name: string): Promise<V1ConfigMap>;
  secret(name: string): Promise<V1Secret>;
}

export interface ResolvedEnv {
  readonly env: Record<string, string>;
  /** One line per variable saying where its value came from (secret values never printed). */
  readonly origins: string[];
}

/** The image's working copy of the trainer; mapped to the local build. */
export const IMAGE_ENTRY = "/app/dist/main.js";

const secretValue = (s: V1Secret, key: string): string | undefined => {
  if (s.stringData?.[key] !== undefined) return s.stringData[key];
  const b64 = s.data?.[key];
  return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
};

/** Value of a downward-API fieldRef for a pod of this Job that never existed (run-local's stand-in pod). */
function fieldValue(job: V1Job, fieldPath: string, podName: string, index: number | undefined): string {
  const ns = job.metadata?.namespace ?? "default";
  const labels: Record<string, string> = {
    ...(job.spec?.template.metadata?.labels ?? {}),
    [JOB_NAME_LABEL]: job.metadata!.name!,
    "job-name": job.metadata!.name!,
  };
  if (index !== undefined) labels["batch.kubernetes.io/job-completion-index"] = String(index);
  const m = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (m) {
    const v = labels[m[1]];
    if (v === undefined) throw new CliError(`env fieldRef ${fieldPath}: the pod would have no label ${m[1]}`);
    return v;
  }
  const a = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (a) return job.spec?.template.metadata?.annotations?.[a[1]] ?? "";
  switch (fieldPath) {
    case "metadata.name":
      return podName;
    case "metadata.namespace":
      return ns;
    case "spec.serviceAccountName":
      return job.spec?.template.spec?.serviceAccountName ?? "default";
    case "spec.nodeName":
    case "status.hostIP":
    case "status.podIP":
      return "127.0.0.1";
    default:
      throw new CliError(`env fieldRef ${fieldPath} cannot be resolved outside the cluster`);
  }
}

/** Resolves the container's env (and envFrom) in order, like the kubelet; later entries win. */
export async function resolveEnv(
  job: V1Job,
  container: V1Container,
  sources: EnvSources,
  index?: number,
): Promise<ResolvedEnv> {
  const env: Record<string, string> = {};
  const origins: string[] = [];
  const podName = `${job.metadata?.name}-local`;
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef) {
      const cm = await sources
        .configMap(from.configMapRef.name!)
        .catch((err) => (from.configMapRef!.optional ? undefined : Promise.reject(err)));
      for (const [k, v] of Object.entries(cm?.data ?? {})) env[prefix + k] = v;
      origins.push(`${prefix}* <- ConfigMap ${from.configMapRef.name}`);
    }
    if (from.secretRef) {
      const s = await sources
        .secret(from.secretRef.name!)
        .catch((err) => (from.secretRef!.optional ? undefined : Promise.reject(err)));
      for (const k of Object.keys(s?.data ?? {})) env[prefix + k] = secretValue(s!, k)!;
      origins.push(`${prefix}* <- Secret ${from.secretRef.name} (values hidden)`);
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined || !e.valueFrom) {
      env[e.name] = (e.value ?? "").replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name: string) => env[name] ?? all);
      origins.push(`${e.name}=${e.value && e.value.length > 60 ? `${e.value.slice(0, 57)}...` : (e.value ?? "")}`);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.configMapKeyRef) {
      const { name, key, optional } = vf.configMapKeyRef;
      const cm = await sources.configMap(name!).catch((err) => (optional ? undefined : Promise.reject(err)));
      const v = cm?.data?.[key];
      if (v === undefined && !optional) throw new CliError(`env ${e.name}: ConfigMap ${name} has no key ${key}`);
      if (v !== undefined) env[e.name] = v;
      origins.push(`${e.name} <- ConfigMap ${name} key ${key}`);
    } else if (vf.secretKeyRef) {
      const { name, key, optional } = vf.secretKeyRef;
      const s = await sources.secret(name!).catch((err) => (optional ? undefined : Promise.reject(err)));
      const v = s && secretValue(s, key);
      if (v === undefined && !optional) throw new CliError(`env ${e.name}: Secret ${name} has no key ${key}`);
      if (v !== undefined) env[e.name] = v;
      origins.push(`${e.name} <- Secret ${name} key ${key} (value hidden)`);
    } else if (vf.fieldRef) {
      env[e.name] = fieldValue(job, vf.fieldRef.fieldPath, podName, index);
      origins.push(`${e.name}=${env[e.name]} <- ${vf.fieldRef.fieldPath}`);
    } else if (vf.resourceFieldRef) {
      origins.push(`${e.name}: skipped (resourceFieldRef ${vf.resourceFieldRef.resource} has no local meaning)`);
    }
  }
  if (job.spec?.completionMode === "Indexed") {
    env.JOB_COMPLETION_INDEX = String(index ?? 0);
    origins.push(`JOB_COMPLETION_INDEX=${env.JOB_COMPLETION_INDEX} <- --index (set by Kubernetes in the cluster)`);
  }
  return { env, origins };
}

/** `node /app/dist/main.js train ...` -> [node binary, local entry, train, ...]. */
export function localCommand(container: V1Container, nodeBinary: string, trainerEntry: string): string[] {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const i = argv.indexOf(IMAGE_ENTRY);
  if (argv.length === 0 || i !== 1 || !/(^|\/)node$/.test(argv[0])) {
    throw new UsageError(
      `the Job's command "${argv.join(" ") || "(image default)"}" is not the trainer image's "node ${IMAGE_ENTRY} ..."; run-local only runs the Kiln trainer`,
    );
  }
  return [nodeBinary, trainerEntry, ...argv.slice(2)];
}
