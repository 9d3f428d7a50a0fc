/**
 * The label and annotation keys every room writes or selects by: the chart, the program, the plugin, the
 * accountant, the policy pack and the harness. The chart's copies are tied to these by test/charts.
 */

/** `app.kubernetes.io/part-of`: every object Kiln makes carries `part-of: kiln`. */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const PART_OF = "kiln";
/** The one-entry label map every Kiln object starts from. */
export const PART_OF_KILN: Readonly<Record<string, string>> = Object.freeze({ [PART_OF_LABEL]: PART_OF });
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const NAME_LABEL = "app.kubernetes.io/name";

/** Component of every training Job and JobSet (template copies, plugin runs, chart runs, sweeps). */
export const TRAINING_RUN_COMPONENT = "training-run";
/** Selects every Kiln training run. */
export const RUN_SELECTOR = `${PART_OF_LABEL}=${PART_OF},${COMPONENT_LABEL}=${TRAINING_RUN_COMPONENT}`;
/** The run a Job, JobSet or pod belongs to (value: the run's name). */
export const RUN_LABEL = "kiln.dev/run";
/** The sweep a sweep Job belongs to. */
export const SWEEP_LABEL = "kiln.dev/sweep";
/** Team namespaces carry it, valued with the team's name. */
export const TEAM_LABEL = "kiln.dev/team";
/** The Kueue LocalQueue a workload is submitted to. */
export const QUEUE_LABEL = "kueue.x-k8s.io/queue-name";
/** Kubernetes' label on a Job's pods with the Job's name. */
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";

/**
 * The trainer's name in a cluster: the chart's full name, so the suspended CronJob that holds the Job template
 * and the trainer's ServiceAccount (its AWS identity) are both called this.
 */
export const TRAINER_NAME = "kiln-trainer";
/** The trainer's container in the Job template. */
export const TRAINER_CONTAINER = "trainer";
