/** Pods Kiln runs: hardened everywhere, restricted in training namespaces, images and charts pinned. */
import { containersOf, inNamespace, nsName, objectName, podSpecOf, trainingNamespaces } from "./k8s";
import type { PolicySubject, ResourceRule, StackRule } from "./types";
import { asArray, isComputed, isFalse, isK8s, isTrue } from "./util";

const WORKLOAD_KINDS: [string, string][] = [
  ["core", "Pod"],
  ["apps", "Deployment"],
  ["apps", "StatefulSet"],
  ["apps", "DaemonSet"],
  ["apps", "ReplicaSet"],
  ["batch", "Job"],
  ["batch", "CronJob"],
];
const isRelease = (type: string) => /^kubernetes:helm\.sh\/v\d:(Release|Chart)$/.test(type);

/** The trainer chart's release (charts/trainer), whatever path or name it was installed from. */
export function isTrainerRelease(r: Pick<PolicySubject, "type" | "props">): boolean {
  return isRelease(r.type) && typeof r.props.chart === "string" && /(^|\/)(kiln-)?trainer\/?$/.test(r.props.chart);
}

/** Restricted-profile problems of one pod spec (pod-level settings count for every container). */
function restrictedProblems(pod: Record<string, any>): string[] {
  const podSc = pod.securityContext ?? {};
  const hostPaths = asArray<any>(pod.volumes)
    .filter((v) => v?.hostPath)
    .map((v) => `volume ${v.name} mounts hostPath ${v.hostPath.path}: not allowed in a training namespace`);
  return hostPaths.concat(
    containersOf(pod).flatMap((c) => {
      const sc = c?.securityContext ?? {};
      const out: string[] = [];
      if (!(isTrue(sc.runAsNonRoot) || (sc.runAsNonRoot === undefined && isTrue(podSc.runAsNonRoot))))
        out.push(`container ${c?.name} may run as root: set runAsNonRoot true`);
      if (!isTrue(sc.readOnlyRootFilesystem))
        out.push(
          `container ${c?.name} has a writable root filesystem: set readOnlyRootFilesystem true (emptyDir for /tmp)`,
        );
      if (!isFalse(sc.allowPrivilegeEscalation))
        out.push(`container ${c?.name} may escalate privileges: set allowPrivilegeEscalation false`);
      return out;
    }),
  );
}

/** Values of the trainer chart that would weaken its pods' security context. */
function weakeningValues(values: Record<string, any>): string[] {
  const out: string[] = [];
  for (const key of ["securityContext", "podSecurityContext", "containerSecurityContext"]) {
    const sc = values?.[key];
    if (!sc || typeof sc !== "object") continue;
    if (isFalse(sc.runAsNonRoot) || sc.runAsUser === 0) out.push(`values.${key} runs the trainer as root`);
    if (isFalse(sc.readOnlyRootFilesystem)) out.push(`values.${key}.readOnlyRootFilesystem is false`);
    if (isTrue(sc.allowPrivilegeEscalation)) out.push(`values.${key}.allowPrivilegeEscalation is true`);
    if (isTrue(sc.privileged)) out.push(`values.${key}.privileged is true`);
  }
  return out;
}

export const trainerPodSecurity: StackRule = {
  kind: "stack",
  name: "trainer-pod-security",
  description:
    "Pods in training namespaces (and the trainer chart's values) are non-root, read-only root fs, no privilege escalation.",
  severity: "critical",
  check: (all) => {
    const findings = all.filter(isTrainerRelease).flatMap((r) =>
      weakeningValues(r.props.values ?? {}).map((p) => ({
        urn: r.urn,
        message: `trainer release ${r.name}: ${p}: remove the override`,
      })),
    );
    for (const ns of trainingNamespaces(all)) {
      for (const [group, kind] of WORKLOAD_KINDS) {
        for (const w of inNamespace(all, ns, group, kind)) {
          for (const p of restrictedProblems(podSpecOf(w) ?? {}))
            findings.push({ urn: w.urn, message: `${objectName(w)} in ${nsName(ns)}: ${p}` });
        }
      }
    }
    return findings;
  },
};

export const workloadHardening: ResourceRule = {
  kind: "resource",
  name: "workload-hardening",
  description:
    "No Kiln workload is privileged, shares host namespaces, mounts hostPath or allows privilege escalation.",
  severity: "critical",
  applies: (type) => WORKLOAD_KINDS.some(([g, k]) => isK8s(type, g, k)),
  check: (r) => {
    const pod = podSpecOf(r) ?? {};
    const what = objectName(r);
    const out: string[] = [];
    for (const key of ["hostNetwork", "hostPID", "hostIPC"])
      if (isTrue(pod[key])) out.push(`${what} sets ${key}: remove it`);
    for (const v of asArray<any>(pod.volumes))
      if (v?.hostPath && !ALLOWED_HOST_PATHS.includes(String(v.hostPath.path).replace(/\/+$/, "")))
        out.push(`${what} mounts hostPath ${v.hostPath.path ?? ""} (volume ${v.name}): use a PVC or emptyDir`);
    for (const c of containersOf(pod)) {
      if (isTrue(c?.securityContext?.privileged)) out.push(`${what} container ${c.name} is privileged: remove it`);
      if (isTrue(c?.securityContext?.allowPrivilegeEscalation))
        out.push(`${what} container ${c.name} allows privilege escalation: set it false`);
    }
    return out;
  },
};

/**
 * hostPath mounts GPU node agents need: the NVIDIA device plugin registers through the kubelet's
 * device-plugins socket directory, DCGM exporter maps GPUs to pods through pod-resources. Nothing
 * else may mount the host, and nothing in a training namespace may (see trainer-pod-security).
 */
export const ALLOWED_HOST_PATHS = ["/var/lib/kubelet/device-plugins", "/var/lib/kubelet/pod-resources"];

const FLOATING_TAGS = ["latest", "main", "master", "stable", "edge", "nightly"];

/** Problem with one image reference, or undefined when it is pinned by digest or a fixed tag. */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== "string" || isComputed(image)) return undefined;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.split("/").pop() ?? image;
  const tag = lastSegment.includes(":") ? lastSegment.split(":").pop()! : "";
  if (!tag) return `image ${image} has no tag (implicitly latest): pin a version or digest`;
  if (FLOATING_TAGS.includes(tag)) return `image ${image} uses the floating tag '${tag}': pin a version or digest`;
  return undefined;
}

/** Image references inside Helm values: `image: "repo:tag"` strings and `{repository, tag}` blocks. */
function valueImages(v: unknown, path: string, out: { path: string; problem: string }[]): void {
  if (!v || typeof v !== "object") return;
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) valueImages(x, `${path}[${i}]`, out);
    return;
  }
  const o = v as Record<string, unknown>;
  if (typeof o.repository === "string" && !isComputed(o.repository) && ("tag" in o || "digest" in o)) {
    const tag = o.tag;
    if (!o.digest && (typeof tag !== "string" || tag === ""))
      out.push({ path, problem: `${path}.tag is empty: pin a version` });
    else if (!o.digest && typeof tag === "string" && FLOATING_TAGS.includes(tag))
      out.push({ path, problem: `${path}.tag is the floating '${tag}': pin a version` });
  }
  for (const [k, x] of Object.entries(o)) {
    if (k === "image" && typeof x === "string") {
      const p = imageProblem(x);
      if (p) out.push({ path: `${path}.image`, problem: p });
    } else valueImages(x, `${path}.${k}`, out);
  }
}

export const imagesPinned: ResourceRule = {
  kind: "resource",
  name: "images-pinned",
  description:
    "Every container image (workloads and Helm values) is pinned by version tag or digest, never latest/main.",
  severity: "medium",
  applies: (type) => isRelease(type) || WORKLOAD_KINDS.some(([g, k]) => isK8s(type, g, k)),
  check: (r) => {
    if (isRelease(r.type)) {
      const found: { path: string; problem: string }[] = [];
      valueImages(r.props.values ?? {}, "values", found);
      return found.map((f) => `release ${r.name}: ${f.problem}`);
    }
    return containersOf(podSpecOf(r) ?? {})
      .map((c) => imageProblem(c?.image ?? ""))
      .filter((p): p is string => !!p)
      .map((p) => `${objectName(r)}: ${p}`);
  },
};

export const helmChartPinned: ResourceRule = {
  kind: "resource",
  name: "helm-chart-pinned",
  description: "Helm releases of remote charts pin an exact chart version (local charts in the repo are exempt).",
  severity: "medium",
  applies: isRelease,
  check: (r) => {
    const chart = String(r.props.chart ?? "");
    if (/^(\.{1,2}\/|\/|file:\/\/)/.test(chart)) return [];
    const version = r.props.version;
    return typeof version === "string" && /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(version)
      ? []
      : [
          `release ${r.name} installs ${chart} at version '${version ?? "unset (newest)"}': pin an exact version such as 1.2.3`,
        ];
  },
};

export const workloadRules = [trainerPodSecurity, workloadHardening, imagesPinned, helmChartPinned];
