/**
 * A finished run's best metric from its pod's termination message: Kiln's trainer writes its best epoch line
 * there (trainer-image/src/termination.ts), so one pod list carries the metric of every run, and no log is read.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { TRAINER_CONTAINER } from "../../contract/labels";
import { bestMetric } from "./progress";

/** The trainer container's termination message, undefined while it runs or when it left none. */
export function terminationMessage(pod: V1Pod): string | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  const c = statuses.find((s) => s.name === TRAINER_CONTAINER) ?? statuses[0];
  return c?.state?.terminated?.message || undefined;
}

/** "val_loss=1.2345@7" from the pod's message (bestMetric of its epoch lines), undefined without one. */
export function bestMetricOfPod(pod: V1Pod | undefined): string | undefined {
  const message = pod && terminationMessage(pod);
  return message === undefined ? undefined : bestMetric(message);
}
