/** The parts of Kueue's v1beta1 objects the dashboard reads (kueue.x-k8s.io/v1beta1, Kueue 0.14). */

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; uid: string }[];
}

export interface ResourceQuota {
  name: string;
  nominalQuota: string | number;
  borrowingLimit?: string | number;
  lendingLimit?: string | number;
}

export interface FlavorQuotas {
  name: string;
  resources: ResourceQuota[];
}

export interface FlavorUsage {
  name: string;
  resources: { name: string; total?: string | number; borrowed?: string | number }[];
}

export interface ClusterQueue {
  metadata: ObjectMeta;
  spec: {
    cohort?: string;
    queueingStrategy?: string;
    stopPolicy?: "None" | "Hold" | "HoldAndDrain";
    resourceGroups?: { coveredResources: string[]; flavors: FlavorQuotas[] }[];
  };
  status?: {
    pendingWorkloads?: number;
    reservingWorkloads?: number;
    admittedWorkloads?: number;
    flavorsReservation?: FlavorUsage[];
    flavorsUsage?: FlavorUsage[];
    conditions?: Condition[];
  };
}

export interface LocalQueue {
  metadata: ObjectMeta;
  spec: { clusterQueue: string; stopPolicy?: string };
  status?: { pendingWorkloads?: number; reservingWorkloads?: number; admittedWorkloads?: number };
}

export interface Workload {
  metadata: ObjectMeta;
  spec: { queueName?: string; priority?: number; podSets?: { name: string; count: number }[] };
  status?: {
    conditions?: Condition[];
    admission?: {
      clusterQueue: string;
      podSetAssignments?: { name: string; flavors?: Record<string, string>; count?: number }[];
    };
  };
}

export const conditionOf = (conds: readonly Condition[] | undefined, type: string) =>
  conds?.find((c) => c.type === type);
export const isTrue = (conds: readonly Condition[] | undefined, type: string) =>
  conditionOf(conds, type)?.status === "True";
