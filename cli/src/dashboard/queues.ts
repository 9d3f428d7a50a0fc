/** Kueue ClusterQueues as the queues page shows them: quota, reservation, usage and borrowing per flavor and resource. */
import { BUDGET_HOLD_ANNOTATION } from "../../../contract/accounting/keys";
import type { ClusterQueue, FlavorUsage, LocalQueue } from "./kueue";
import { parseQuantity } from "./quantity";

export interface FlavorResource {
  readonly flavor: string;
  readonly resource: string;
  readonly nominal: number;
  /** null = no limit (may borrow whatever the cohort lends). */
  readonly borrowingLimit: number | null;
  readonly lendingLimit: number | null;
  /** Quota held by admitted and quota-reserved workloads (status.flavorsReservation). */
  readonly reserved: number;
  /** Quota used by admitted workloads (status.flavorsUsage). */
  readonly used: number;
  /** Part of `used` borrowed from the cohort. */
  readonly borrowed: number;
}

export interface QueueView {
  readonly name: string;
  readonly cohort: string | null;
  readonly stopPolicy: string;
  /** Why the accountant holds it (its kiln.dev/budget-hold annotation), when it does. */
  readonly holdReason: string | null;
  readonly pending: number;
  readonly reserving: number;
  readonly admitted: number;
  readonly resources: FlavorResource[];
  readonly localQueues: { namespace: string; name: string; pending: number; admitted: number }[];
}

function usageOf(list: readonly FlavorUsage[] | undefined, flavor: string, resource: string) {
  const r = list?.find((f) => f.name === flavor)?.resources.find((x) => x.name === resource);
  return { total: parseQuantity(r?.total), borrowed: parseQuantity(r?.borrowed) };
}

const limit = (q: string | number | undefined) => (q === undefined ? null : parseQuantity(q));

export function queueView(cq: ClusterQueue, localQueues: readonly LocalQueue[]): QueueView {
  const resources: FlavorResource[] = [];
  for (const group of cq.spec.resourceGroups ?? []) {
    for (const flavor of group.flavors) {
      for (const r of flavor.resources) {
        const used = usageOf(cq.status?.flavorsUsage, flavor.name, r.name);
        resources.push({
          flavor: flavor.name,
          resource: r.name,
          nominal: parseQuantity(r.nominalQuota),
          borrowingLimit: limit(r.borrowingLimit),
          lendingLimit: limit(r.lendingLimit),
          reserved: usageOf(cq.status?.flavorsReservation, flavor.name, r.name).total,
          used: used.total,
          borrowed: used.borrowed,
        });
      }
    }
  }
  return {
    name: cq.metadata.name,
    cohort: cq.spec.cohort ?? null,
    stopPolicy: cq.spec.stopPolicy ?? "None",
    holdReason: cq.metadata.annotations?.[BUDGET_HOLD_ANNOTATION] ?? null,
    pending: cq.status?.pendingWorkloads ?? 0,
    reserving: cq.status?.reservingWorkloads ?? 0,
    admitted: cq.status?.admittedWorkloads ?? 0,
    resources,
    localQueues: localQueues
      .filter((l) => l.spec.clusterQueue === cq.metadata.name)
      .map((l) => ({
        namespace: l.metadata.namespace ?? "",
        name: l.metadata.name,
        pending: l.status?.pendingWorkloads ?? 0,
        admitted: l.status?.admittedWorkloads ?? 0,
      }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
  };
}

export const queueViews = (cqs: readonly ClusterQueue[], lqs: readonly LocalQueue[]) =>
  [...cqs].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map((cq) => queueView(cq, lqs));
