/**
 * A run's outputs in the object store, reached the way the pod reaches them: the trainer container's
 * env resolved from the cluster (cli/src/local-env.ts, the same as run-local: endpoint, region and the
 * credentials Secret), the run spec's output.uri plus the run id, read with the trainer's own store code.
 */
import { openStore, resolveRunSpec, type RetryOptions, type Store } from "../../../trainer-image/src/api";
import { explainApiError } from "../errors";

import { ENV } from "../../../contract/workload";
import { childJobOf } from "../jobset";
import { isJobSet, type RunObject } from "../runs";
import type { KubeApi } from "../kube";
import { resolveEnv } from "../local-env";
import { TRAINER_CONTAINER } from "../../../contract/labels";

/** The files the trainer writes under a run's prefix that the dashboard serves; nothing else is reachable. */
export const ARTIFACTS: Readonly<Record<string, string>> = {
  "report.html": "text/html; charset=utf-8",
  "metrics.json": "application/json",
  "run.json": "application/json",
  "preprocess.json": "application/json",
  "model/model.json": "application/json",
  "model/weights.bin": "application/octet-stream",
};

/** A page load must not wait for the trainer's 300 s store retry. */
const DASHBOARD_RETRY: RetryOptions = { deadlineSeconds: 5, sdkAttempts: 2, socketTimeoutSeconds: 10 };

export interface RunStore {
  /** s3://bucket/prefix/<run id> (or a path for a local store). */
  readonly uri: string;
  get(key: string): Promise<Buffer | undefined>;
}

export interface ArtifactSource {
  /** The store of a run (a sweep's point `index`); throws with the reason when it cannot be worked out. */
  open(job: RunObject, index: number | undefined): Promise<RunStore>;
}

/**
 * Where a run's outputs are: its pod's env and run spec resolved against the cluster. A run with your
 * own image (a JobSet) writes where its KILN_OUTPUT_URI says (the same for every rank and attempt).
 */
export async function runOutputs(
  api: KubeApi,
  run: RunObject,
  index: number | undefined,
): Promise<{ uri: string; env: Record<string, string> }> {
  const job = isJobSet(run) ? childJobOf(run) : run;
  const ns = job.metadata?.namespace ?? "default";
  const pod = job.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === TRAINER_CONTAINER) ?? pod?.containers[0];
  if (!container) throw new Error(`Job ${job.metadata?.name} has no containers`);
  const ctx = (what: string) => ({
    attempting: `reading ${what} for the run's store settings`,
    server: api.server,
    namespace: ns,
  });
  const sources = {
    configMap: (n: string) =>
      api.getConfigMap(ns, n).catch((err) => Promise.reject(explainApiError(err, ctx(`ConfigMap ${n}`)))),
    secret: (n: string) =>
      api.getSecret(ns, n).catch((err) => Promise.reject(explainApiError(err, ctx(`Secret ${n}`)))),
  };
  const { env } = await resolveEnv(
    job,
    container,
    sources,
    job.spec?.completionMode === "Indexed" ? (index ?? 0) : undefined,
  );
  if (isJobSet(run)) {
    const uri = env[ENV.OUTPUT_URI];
    if (!uri) throw new Error(`JobSet ${run.metadata?.name} sets no ${ENV.OUTPUT_URI}`);
    return { uri: uri.replace(/\/+$/, ""), env };
  }
  const spec = resolveRunSpec(env.KILN_RUN_SPEC ?? "", env);
  return { uri: `${spec.output.uri.replace(/\/+$/, "")}/${spec.runId}`, env };
}

/** Opens runs' stores with the trainer's storage code; caches one store per run and index. */
export class StoreArtifacts implements ArtifactSource {
  private readonly cache = new Map<string, Promise<RunStore>>();

  constructor(
    private readonly api: KubeApi,
    /** Env that wins over the pod's, e.g. an endpoint reachable from this machine. */
    private readonly overrides: Record<string, string> = {},
  ) {}

  open(job: RunObject, index: number | undefined): Promise<RunStore> {
    const k = `${job.metadata?.uid ?? `${job.metadata?.namespace}/${job.metadata?.name}`}#${index ?? ""}`;
    let p = this.cache.get(k);
    if (!p) {
      p = this.resolve(job, index);
      this.cache.set(k, p);
      p.catch(() => this.cache.delete(k));
    }
    return p;
  }

  private async resolve(job: RunObject, index: number | undefined): Promise<RunStore> {
    const { uri, env } = await runOutputs(this.api, job, index);
    const store: Store = openStore(uri, DASHBOARD_RETRY, { ...env, ...this.overrides });
    return { uri, get: (key) => store.get(key) };
  }
}
