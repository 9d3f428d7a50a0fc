/**
 * The accounting contract: the node labels a run is priced from, and the objects the accountant
 * (accountant/) writes and the plugin, the dashboard and the program's RBAC read.
 */

import { RUN_LABEL } from "../labels";

/** Node label with the EC2 instance type (Kubernetes' well-known label; the local harness sets it too). */
export const INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type";
/** Node label with the purchase option, `spot` or `on-demand` (Karpenter's; the local harness sets it too). */
export const CAPACITY_TYPE_LABEL = "karpenter.sh/capacity-type";
/** Annotation KWOK manages its simulated nodes by: pod times on such a node are simulated. */
export const SIMULATED_NODE_ANNOTATION = "kwok.x-k8s.io/node";

/** Label Kubernetes puts on a Job's pods with the Job's UID: how a pod is tied to its run. */
export const POD_JOB_UID_LABEL = "batch.kubernetes.io/controller-uid";

/** Label of a run's usage record (one ConfigMap per Job, in the Job's namespace); its value is `run`. */
export const USAGE_RECORD_LABEL = "kiln.dev/usage";
/** Label with the record's Job UID, so a re-used Job name gets a record of its own. */
export const USAGE_JOB_UID_LABEL = "kiln.dev/job-uid";
/** Label of a usage record with the run its Job belongs to (the Job's `kiln.dev/run`, else the Job's name). */
export const USAGE_RUN_LABEL = RUN_LABEL;
/**
 * Label of a usage record with the UID of its run: the JobSet's for a JobSet's child Job (recreated with a
 * new UID on every group restart, so a run has a record per attempt), else the Job's. Readers sum a run's
 * records by it; a re-used run name gets a new UID.
 */
export const USAGE_RUN_UID_LABEL = "kiln.dev/run-uid";
/** The key of a usage record's JSON. */
export const USAGE_RECORD_KEY = "usage.json";
/** Name of the usage record of Job `job` with UID `uid`. */
export function usageRecordName(job: string, uid: string): string {
  return `kiln-usage-${job}-${uid.slice(0, 8)}`;
}

/** USAGE_RECORD_LABEL's value on a team's roll-up of a finished calendar month (per-Job records: `run`). */
export const USAGE_MONTH_VALUE = "month";
/** Name of team `team`'s roll-up of month `month` (`2026-11`). */
export function usageMonthName(team: string, month: string): string {
  return `kiln-usage-month-${team}-${month}`;
}

/** ConfigMap in each team namespace with the team's budget status for the current period. */
export const BUDGET_STATUS_NAME = "kiln-budget";
export const BUDGET_STATUS_KEY = "status.json";
/** Annotation the accountant puts on a ClusterQueue it holds, saying why. */
export const BUDGET_HOLD_ANNOTATION = "kiln.dev/budget-hold";

/** Name of the accountant's Deployment, ServiceAccount and settings ConfigMap (in ACCOUNTANT_NAMESPACE, kiln-accountant). */
export const ACCOUNTANT_NAME = "kiln-accountant";
export const ACCOUNTANT_SETTINGS_KEY = "settings.json";
