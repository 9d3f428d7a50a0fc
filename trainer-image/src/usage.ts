/**
 * The GPU time a run's own attempts held, by the trainer's clock, for run.json and the report: GPUs
 * (KILN_GPUS, set by the chart and the plugin with the GPU request) x the wall time of each attempt. An
 * attempt killed without warning counts until its last run.json write. The priced figures (dollars,
 * kWh, CO2e) come from the cluster's accountant, which sees the nodes: `kubectl kiln status RUN`.
 */

export interface AttemptSpan {
  readonly start: string;
  readonly end: string;
}

export interface TrainerUsage {
  readonly gpus: number;
  readonly attempts: readonly AttemptSpan[];
  readonly gpuHours: number;
  readonly basis: string;
}

export const USAGE_BASIS =
  "GPUs x wall time of each attempt, by the trainer's clock (a killed attempt counts until its last checkpoint); priced figures: kubectl kiln status";

/** GPUs of this pod from KILN_GPUS; 0 (a CPU run) when unset or not a whole number. */
export function gpusFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env.KILN_GPUS?.trim();
  return v && /^\d{1,3}$/.test(v) ? Number(v) : 0;
}

/** Usage with this attempt (started at `start`) held until `now`, after the previous attempts. */
export function withAttempt(previous: TrainerUsage | undefined, gpus: number, start: Date, now: Date): TrainerUsage {
  const earlier = (previous?.attempts ?? []).filter((a) => a.start !== start.toISOString());
  const attempts = [...earlier, { start: start.toISOString(), end: now.toISOString() }];
  const hours = attempts.reduce((h, a) => h + Math.max(0, Date.parse(a.end) - Date.parse(a.start)) / 3_600_000, 0);
  // Earlier attempts keep the GPU count they ran with only as part of the total: a run's GPUs do not change.
  return { gpus, attempts, gpuHours: Number((hours * gpus).toFixed(6)), basis: USAGE_BASIS };
}
