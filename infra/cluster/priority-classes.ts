import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PART_OF, PART_OF_LABEL } from "../../contract/labels";

/** Name of the PriorityClass training Jobs run at. */
export const TRAINING_PRIORITY_CLASS = "kiln-training";
/** Name of the PriorityClass Kiln's own system pods run at. */
export const SYSTEM_PRIORITY_CLASS = "kiln-system";

export interface PriorityClassesArgs {
  /** Provider of the target cluster. */
  readonly provider: k8s.Provider;
  /** Priority of training pods; default 1000. */
  readonly trainingValue?: number;
  /** Priority of Kiln system pods; default 100000 (still below Kubernetes' system-* classes). */
  readonly systemValue?: number;
}

/**
 * Training vs. system priority. Training may preempt lower-priority pods (Kueue also uses the
 * class to order and preempt workloads); neither class is the cluster default.
 */
export class PriorityClasses extends pulumi.ComponentResource {
  readonly training: k8s.scheduling.v1.PriorityClass;
  readonly system: k8s.scheduling.v1.PriorityClass;

  constructor(name: string, args: PriorityClassesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kiln:cluster:PriorityClasses", name, {}, opts);
    const { provider } = args;
    this.training = new k8s.scheduling.v1.PriorityClass(
      `${name}-training`,
      {
        metadata: { name: TRAINING_PRIORITY_CLASS, labels: { [PART_OF_LABEL]: PART_OF } },
        value: args.trainingValue ?? 1000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "Kiln training Jobs.",
      },
      { parent: this, provider },
    );
    this.system = new k8s.scheduling.v1.PriorityClass(
      `${name}-system`,
      {
        metadata: { name: SYSTEM_PRIORITY_CLASS, labels: { [PART_OF_LABEL]: PART_OF } },
        value: args.systemValue ?? 100000,
        globalDefault: false,
        preemptionPolicy: "PreemptLowerPriority",
        description: "Kiln system services (object store, GPU services).",
      },
      { parent: this, provider },
    );
    this.registerOutputs({ training: this.training, system: this.system });
  }
}
