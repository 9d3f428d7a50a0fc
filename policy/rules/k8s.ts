/** Shared Kubernetes helpers: training namespaces, objects in a namespace, pod specs. */
import type { PolicySubject } from "./types";
import { asArray, isComputed, isK8s, k8sKind, labels } from "./util";
import { TEAM_LABEL } from "../../contract/labels";

/** Team namespaces: Namespaces labelled kiln.dev/team (one per team in config). */
export function trainingNamespaces(all: readonly PolicySubject[]): PolicySubject[] {
  return all.filter((r) => isK8s(r.type, "core", "Namespace") && labels(r.props)[TEAM_LABEL] !== undefined);
}

export function nsName(ns: PolicySubject): string {
  const n = ns.props.metadata?.name;
  return typeof n === "string" && !isComputed(n) ? n : ns.name;
}

/** Objects placed in `ns`: by metadata.namespace, or (when that is computed) by depending on it. */
export function inNamespace(
  all: readonly PolicySubject[],
  ns: PolicySubject,
  group: string,
  kind: string,
): PolicySubject[] {
  const name = nsName(ns);
  return all.filter((r) => {
    if (!isK8s(r.type, group, kind)) return false;
    const n = r.props.metadata?.namespace;
    return n === name || ((n === undefined || isComputed(n)) && r.dependencies.includes(ns.urn));
  });
}

const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  Pod: ["spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/** The pod spec inside a workload object, or undefined for other types. */
export function podSpecOf(r: Pick<PolicySubject, "type" | "props">): Record<string, any> | undefined {
  const k = k8sKind(r.type);
  if (!k || !["core", "apps", "batch"].includes(k.group)) return undefined;
  const path = POD_TEMPLATE_PATHS[k.kind];
  if (!path) return undefined;
  let v: any = r.props;
  for (const p of path) v = v?.[p];
  return v && typeof v === "object" ? v : {};
}

export function containersOf(pod: Record<string, any>): any[] {
  return [...asArray(pod.initContainers), ...asArray(pod.containers)];
}

export function objectName(r: PolicySubject): string {
  const k = k8sKind(r.type);
  return `${k?.kind ?? r.type} ${r.props.metadata?.name ?? r.name}`;
}
