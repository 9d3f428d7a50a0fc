/**
 * Kueue admission figures from Workload objects (pure: tested in test/scripts/bench/admissions.test.ts).
 *
 * Timestamps are the API server's, whole seconds: a Workload's creationTimestamp and the
 * lastTransitionTime of its QuotaReserved condition (Kueue reserves quota, then marks it Admitted).
 *
 * Starvation inversion: an admission of workload W at second a(W) counts as an inversion when some
 * workload V of the same ClusterQueue and priority
 *   - was created strictly before W (c(V) < c(W), whole seconds: ties are not an order),
 *   - was still waiting after W got quota (a(V) > a(W), or V never got quota), and
 *   - would have fit wherever W fit: V asks for no more GPUs and no more pods than W.
 * With FIFO among equals, the oldest run that fits is admitted first, so a correct system counts 0.
 */

export interface WorkloadFacts {
  /** namespace/name */
  readonly key: string;
  readonly clusterQueue: string;
  readonly priority: number;
  readonly createdMs: number;
  /** When quota was reserved (QuotaReserved=True); undefined while pending. */
  readonly admittedMs?: number;
  /** GPUs of all its pods, and its pod count. */
  readonly gpus: number;
  readonly pods: number;
  /** The run (its Job's or JobSet's name) and when Kueue marked it Finished, for lifecycleLags. */
  readonly run?: string;
  readonly finishedMs?: number;
}

export interface Inversion {
  /** The admitted workload that overtook. */
  readonly admitted: string;
  /** The older workload it overtook. */
  readonly skipped: string;
}

/** Every (admitted, skipped) pair breaking FIFO-among-equals as defined above; at most `limit` pairs listed. */
export function starvationInversions(
  workloads: readonly WorkloadFacts[],
  limit = 20,
): { count: number; examples: Inversion[] } {
  const byQueue = new Map<string, WorkloadFacts[]>();
  for (const w of workloads) {
    const k = `${w.clusterQueue}\u0000${w.priority}`;
    const list = byQueue.get(k) ?? [];
    list.push(w);
    byQueue.set(k, list);
  }
  let count = 0;
  const examples: Inversion[] = [];
  for (const list of byQueue.values()) {
    const sorted = [...list].sort((a, b) => a.createdMs - b.createdMs);
    for (let j = 0; j < sorted.length; j++) {
      const w = sorted[j];
      if (w.admittedMs === undefined) continue;
      // One inversion per admission, however many older workloads it overtook.
      for (let i = 0; i < j && sorted[i].createdMs < w.createdMs; i++) {
        const v = sorted[i];
        const waitedLonger = v.admittedMs === undefined || v.admittedMs > w.admittedMs;
        if (waitedLonger && v.gpus <= w.gpus && v.pods <= w.pods) {
          count++;
          if (examples.length < limit) examples.push({ admitted: w.key, skipped: v.key });
          break;
        }
      }
    }
  }
  return { count, examples };
}

export interface AdmissionRate {
  readonly admitted: number;
  /** Admissions per second from the first admission until the admitted GPUs first reached the quota. */
  readonly whileQuotaAllows: number;
  /** Workloads admitted in that window and its length. */
  readonly burstAdmitted: number;
  readonly burstSeconds: number;
  /** Best 10-second window over the whole bench. */
  readonly peak10s: number;
  /** All admissions over first-to-last admission. */
  readonly overall: number;
}

/**
 * Admission rates. `quotaGpus` is the cohort's GPU quota: until that many GPUs are admitted, nothing
 * waits for quota, so the rate there is Kueue's own speed. The window ends at the second the running
 * admitted-GPU sum first reaches the quota (or at the last admission if it never does).
 */
export function admissionRate(workloads: readonly WorkloadFacts[], quotaGpus: number): AdmissionRate {
  const admitted = workloads.filter((w) => w.admittedMs !== undefined).sort((a, b) => a.admittedMs! - b.admittedMs!);
  if (admitted.length === 0)
    return { admitted: 0, whileQuotaAllows: 0, burstAdmitted: 0, burstSeconds: 0, peak10s: 0, overall: 0 };
  const t0 = admitted[0].admittedMs!;
  let gpus = 0;
  let end = admitted.length - 1;
  for (let i = 0; i < admitted.length; i++) {
    gpus += admitted[i].gpus;
    if (gpus >= quotaGpus) {
      end = i;
      break;
    }
  }
  // Whole-second timestamps: a window from second s to second e lasts e - s + 1 seconds.
  const seconds = (from: number, to: number) => (to - from) / 1000 + 1;
  const tEnd = admitted[end].admittedMs!;
  const burstAdmitted = admitted.filter((w) => w.admittedMs! <= tEnd).length;
  const burstSeconds = seconds(t0, tEnd);
  const perSecond = new Map<number, number>();
  for (const w of admitted) perSecond.set(w.admittedMs!, (perSecond.get(w.admittedMs!) ?? 0) + 1);
  let peak10s = 0;
  for (const start of perSecond.keys()) {
    let n = 0;
    for (let s = 0; s < 10; s++) n += perSecond.get(start + s * 1000) ?? 0;
    peak10s = Math.max(peak10s, n / 10);
  }
  const last = admitted[admitted.length - 1].admittedMs!;
  return {
    admitted: admitted.length,
    whileQuotaAllows: burstAdmitted / burstSeconds,
    burstAdmitted,
    burstSeconds,
    peak10s,
    overall: admitted.length / seconds(t0, last),
  };
}

/** The p-th percentile (0..100) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface AllocationSample {
  readonly t: number;
  /** GPUs held by bound pods that have not finished. */
  readonly held: number;
  /** GPUs asked for by submitted runs whose pods are not bound yet. */
  readonly waiting: number;
}

/**
 * GPU allocation while the queue is deep: over the samples where the waiting runs ask for more GPUs
 * than are free (so a perfect packer would hold every GPU), the peak and mean share held.
 */
export function allocationWhileDeep(
  samples: readonly AllocationSample[],
  totalGpus: number,
): { peakPct: number; meanPct: number; deepSamples: number } {
  const deep = samples.filter((s) => s.waiting > totalGpus - s.held);
  if (deep.length === 0) return { peakPct: NaN, meanPct: NaN, deepSamples: 0 };
  const pct = deep.map((s) => (100 * s.held) / totalGpus);
  return { peakPct: Math.max(...pct), meanPct: pct.reduce((a, b) => a + b, 0) / pct.length, deepSamples: deep.length };
}

export interface RunPods {
  /** When the run's first pod was seen bound to a node, and its last pod seen finished (ms). */
  readonly firstBoundMs?: number;
  readonly lastFinishedMs?: number;
}

export interface Lags {
  readonly runs: number;
  readonly p50Seconds: number;
  readonly p99Seconds: number;
}

/**
 * Where GPUs idle around a run, per run: quota reserved -> first pod bound (Kueue unsuspends the Job,
 * the Job controller creates pods, the scheduler binds them), and last pod finished -> Workload Finished
 * (the Job controller completes the Job, Kueue releases the quota). Workload times are whole seconds.
 */
export function lifecycleLags(
  workloads: readonly WorkloadFacts[],
  pods: ReadonlyMap<string, RunPods>,
): { start: Lags; release: Lags } {
  const start: number[] = [];
  const release: number[] = [];
  for (const w of workloads) {
    const p = w.run === undefined ? undefined : pods.get(w.run);
    if (!p) continue;
    if (w.admittedMs !== undefined && p.firstBoundMs !== undefined) start.push((p.firstBoundMs - w.admittedMs) / 1000);
    if (w.finishedMs !== undefined && p.lastFinishedMs !== undefined)
      release.push((w.finishedMs - p.lastFinishedMs) / 1000);
  }
  const lags = (xs: number[]): Lags => ({
    runs: xs.length,
    p50Seconds: percentile(xs, 50),
    p99Seconds: percentile(xs, 99),
  });
  return { start: lags(start), release: lags(release) };
}
