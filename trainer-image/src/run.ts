/**
 * One training run end to end: refuse finished runs, load and split the data, resume from the latest
 * checkpoint, train, evaluate, and write model/, metrics.json, preprocess.json, report.html, run.json.
 */
import { gpusFromEnv, withAttempt } from "./usage";
import { availableParallelism } from "node:os";
import { canonical, evaluateBatches, readRunRecord, saveModel, writeRunRecord, type RunRecord } from "./artifacts";
import { selectBackend, type BackendInfo } from "./backend";
import { TEST_BATCH_ROWS } from "./batches";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { DataError, LoadStopped } from "./data";
import { buildModel, compileModel } from "./model";
import { renderReport } from "./report";
import { runSpecSchema, type RunSpec } from "./spec";
import { resolveShards } from "./shards";
import { scanDataset } from "./stats";
import { openStore, retryOptionsFromEnv, type Store } from "./storage";
import { ShardSource, type StreamOptions } from "./stream";
import { removeStaleCaches } from "./disk-cache";
import { parseQuantity } from "./quantity";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { train } from "./train";
import { writeBestEpoch } from "./termination";

/** The run may not proceed (finished already, or the prefix belongs to another run): exit code 2. */
export class RunRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunRefusedError";
  }
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** True once a stop was requested (SIGTERM): checkpoint and return "interrupted". */
  shouldStop?: () => boolean;
  /** Where JSON log lines go; default stdout. */
  log?: (line: Record<string, unknown>) => void;
}

export interface RunOutcome {
  runId: string;
  status: "succeeded" | "interrupted";
  uri: string;
  metrics?: Record<string, unknown>;
}

const joinUri = (base: string, id: string) => `${base.replace(/\/+$/, "")}/${id}`;

/** Encoded rows per chunk read ahead of the shuffle buffer, and how many chunks. */
const CHUNK_ROWS = 4096;
const PREFETCH_CHUNKS = 4;

/** The process's peak resident set so far (worker threads included), in MiB. */
const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Pass 1: resolve the shards and fit preprocessing on the training rows; the batch source for pass 2. */
async function loadData(
  spec: RunSpec,
  env: NodeJS.ProcessEnv,
  log: (line: Record<string, unknown>) => void,
  shouldStop?: () => boolean,
) {
  let shards: Awaited<ReturnType<typeof resolveShards>>;
  try {
    shards = await resolveShards(spec.dataset.uri, retryOptionsFromEnv(env), env);
  } catch (err) {
    throw new DataError(`cannot read dataset.uri ${spec.dataset.uri}: ${(err as Error).message}`);
  }
  const scan = await scanDataset(spec, shards, shouldStop);
  const source = new ShardSource(spec, shards, scan.columns, scan.pre, scan.split.train, scan.split.validation, {
    bufferRows: spec.dataset.shuffleBuffer,
    chunkRows: CHUNK_ROWS,
    prefetch: PREFETCH_CHUNKS,
    memoryCacheBytes: spec.dataset.memoryCacheMiB * 2 ** 20,
    testRows: scan.split.test,
    diskCache: diskCacheOf(spec, env, log),
    // A second core parses while the first trains; KILN_PARSE_WORKER=0 keeps parsing on the main thread.
    worker: env.KILN_PARSE_WORKER !== "0" && availableParallelism() > 1,
    retry: retryOptionsFromEnv(env),
    env,
  });
  return { shards, scan, source };
}

/** Where and how much of the disk cache: the spec's size, capped by the emptyDir's limit (KILN_CACHE_LIMIT). */
function diskCacheOf(
  spec: RunSpec,
  env: NodeJS.ProcessEnv,
  log: (line: Record<string, unknown>) => void,
): StreamOptions["diskCache"] {
  const gib = spec.dataset.diskCacheGiB ?? 0;
  if (gib <= 0) return undefined;
  const dir = env.KILN_CACHE_DIR || path.join(tmpdir(), "kiln-cache");
  // In a pod the directory is the trainer's own: what an earlier container of this pod left is stale.
  if (env.KILN_CACHE_DIR) removeStaleCaches(dir);
  let budgetBytes = gib * 2 ** 30;
  const limit = env.KILN_CACHE_LIMIT ? parseQuantity(env.KILN_CACHE_LIMIT) : undefined;
  if (limit !== undefined && !(limit > 0))
    throw new DataError(`KILN_CACHE_LIMIT="${env.KILN_CACHE_LIMIT}" is not a size (e.g. 64Gi)`);
  // The run's checkpoints and the model are written under /tmp too: keep a quarter of the limit for them.
  if (limit !== undefined && limit * 0.75 < budgetBytes) {
    log({
      event: "warning",
      message: `dataset.diskCacheGiB ${gib} is more than the scratch volume allows (${env.KILN_CACHE_LIMIT}): caching at most ${((limit * 0.75) / 2 ** 30).toFixed(1)} GiB`,
    });
    budgetBytes = limit * 0.75;
  }
  return {
    dir,
    budgetBytes,
    onSkip: (reason) =>
      log({ event: "cache", message: `${reason}: the remaining shards are read from dataset.uri each epoch` }),
  };
}

/** What is legal but probably not what the user meant, from the split sizes and the training target. */
export function warningsOf(
  spec: RunSpec,
  sizes: { test: number; validation: number },
  constantTarget?: number | string,
): string[] {
  const out: string[] = [];
  if (sizes.test === 0)
    out.push("the test split is empty (too few rows for split.test): no test metrics will be reported");
  if (sizes.validation === 0) out.push("the validation split is empty: early stopping watches the training loss");
  if (spec.task === "regression" && constantTarget !== undefined)
    out.push(
      `the target "${spec.dataset.target}" is constant (${constantTarget}) in the training split: the model can only learn that constant`,
    );
  return out;
}

/** warningsOf for rows in memory (said in the log before training starts). */
export function dataWarnings(
  spec: RunSpec,
  parsed: { y: (number | string)[] },
  split: { train: number[]; test: number[]; validation: number[] },
): string[] {
  const first = parsed.y[split.train[0]];
  const constant = split.train.every((i) => parsed.y[i] === first) ? first : undefined;
  return warningsOf(spec, { test: split.test.length, validation: split.validation.length }, constant);
}

/** Refuses a finished run and a prefix that holds a different run; returns the record to continue. */
async function claimPrefix(store: Store, spec: RunSpec, runId: string): Promise<RunRecord | undefined> {
  const existing = await readRunRecord(store);
  if (!existing) return undefined;
  if (existing.status === "succeeded") {
    throw new RunRefusedError(
      `run "${runId}" already succeeded at ${store.describe("")} (ended ${existing.endedAt}); its outputs are kept. Use a new runId to train again.`,
    );
  }
  if (canonical(existing.spec) === canonical(spec)) return existing;
  // Same spec once this trainer's defaults are filled in: an earlier trainer started it, whose data order
  // and split differ, so continuing would not be the run it began.
  const stored = runSpecSchema.safeParse(existing.spec);
  if (stored.success && canonical(stored.data) === canonical(spec)) {
    const added = newFields(existing.spec, stored.data);
    throw new RunRefusedError(
      `${store.describe("")} holds run "${existing.runId}" (status ${existing.status}) started by an earlier trainer (its spec has no ${added.join(", ")}): this trainer reads and splits the data differently, so it cannot continue that run exactly. Resume it with the image that started it, or use a new runId.`,
    );
  }
  throw new RunRefusedError(
    `${store.describe("")} holds run "${existing.runId}" with a different spec (status ${existing.status}); refusing to overwrite it. Use a new runId.`,
  );
}

/** Dotted paths of the fields `parsed` has and `raw` lacks (defaults filled in by a newer schema). */
function newFields(raw: unknown, parsed: unknown, prefix = ""): string[] {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return [];
  const have = raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>) : {};
  return Object.entries(parsed).flatMap(([k, v]) =>
    k in have ? newFields(have[k], v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Where the math runs, said plainly: a pod can be granted `nvidia.com/gpu` and still have no GPU to use. */
export function describeDevice(b: BackendInfo): string {
  if (b.name === "tensorflow-gpu") {
    if (b.gpuDevice) return "GPU (tfjs-node-gpu: TensorFlow created a GPU device)";
    return b.gpuFound
      ? "CPU: tfjs-node-gpu loaded and an NVIDIA device is visible, but TensorFlow created no GPU device (driver or CUDA libraries: see its log lines above)"
      : "CPU: tfjs-node-gpu loaded but no NVIDIA device is visible";
  }
  const why = b.gpuFound
    ? "an NVIDIA device is visible but this image has no GPU backend"
    : "no NVIDIA device is visible to this process";
  return `CPU (${b.name} backend): ${why}`;
}

export async function runTraining(spec: RunSpec & { runId: string }, opts: RunOptions = {}): Promise<RunOutcome> {
  const runStart = Date.now();
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line) => console.log(JSON.stringify(line)));
  const runId = spec.runId;
  const uri = joinUri(spec.output.uri, runId);
  const store = openStore(uri, retryOptionsFromEnv(env), env);
  const previous = await claimPrefix(store, spec, runId);

  const backend: BackendInfo = await selectBackend(env.KILN_BACKEND);
  log({
    event: "backend",
    backend: backend.name,
    tfBackend: backend.tfBackend,
    gpuFound: backend.gpuFound,
    gpuDevice: backend.gpuDevice,
    device: describeDevice(backend),
    skipped: backend.skipped,
  });

  let data: Awaited<ReturnType<typeof loadData>>;
  const scanStart = Date.now();
  try {
    data = await loadData(spec, env, log, opts.shouldStop);
  } catch (err) {
    // SIGTERM while the data was loading: no checkpoint exists yet, so exit at once as interrupted.
    if (!(err instanceof LoadStopped)) throw err;
    log({ event: "interrupted", phase: "loading data", detail: err.message });
    return { runId, status: "interrupted", uri };
  }
  const scanSeconds = (Date.now() - scanStart) / 1000;
  const { scan, source, shards } = data;
  const { pre, split } = scan;
  log({
    event: "data",
    shards: shards.length,
    rowsRead: scan.rowsRead,
    droppedRows: scan.droppedRows,
    dropReasons: scan.dropReasons,
    train: split.train,
    validation: split.validation,
    test: split.test,
    inputs: pre.inputs.length,
    scanSeconds: Number(scanSeconds.toFixed(3)),
  });
  for (const message of warningsOf(spec, split, scan.constantTarget)) log({ event: "warning", message });

  const attemptStart = new Date();
  const gpus = gpusFromEnv(env);
  // run.json with this attempt's GPU time up to now (written at start, at every checkpoint and at the end).
  const usageNow = () => withAttempt(previous?.usage, gpus, attemptStart, new Date());
  const now = attemptStart.toISOString();
  const record: RunRecord = {
    runId,
    status: "running",
    attempts: (previous?.attempts ?? 0) + 1,
    spec,
    firstStartedAt: previous?.firstStartedAt ?? now,
    startedAt: now,
    backend: backend.name,
    usage: usageNow(),
  };
  await writeRunRecord(store, record);
  try {
    await store.put(
      "preprocess.json",
      JSON.stringify(
        { ...pre, rowsRead: scan.rowsRead, droppedRows: scan.droppedRows, dropReasons: scan.dropReasons },
        null,
        2,
      ),
      "application/json",
    );
    const model = buildModel(spec, [pre.inputs.length], pre.classes?.length ?? 1);
    compileModel(model, spec);
    const resume = await loadCheckpoint(store);
    if (resume)
      log({ event: "resume", epoch: resume.state.epoch, batch: resume.state.batch, attempt: record.attempts });
    const result = await train({
      spec,
      model,
      data: source,
      resume,
      shouldStop: opts.shouldStop,
      checkpoint: async (state, groups) => {
        await saveCheckpoint(store, state, groups);
        await writeRunRecord(store, { ...record, usage: usageNow() });
      },
      log: (line) => log(line as unknown as Record<string, unknown>),
    });
    if (result.outcome === "interrupted") {
      await writeRunRecord(store, { ...record, interruptedAt: new Date().toISOString(), usage: usageNow() });
      log({
        event: "interrupted",
        epoch: result.state.epoch,
        batch: result.state.batch,
        checkpoint: store.describe("checkpoints/latest.json"),
      });
      writeBestEpoch(result.state.history, env);
      model.dispose();
      return { runId, status: "interrupted", uri };
    }

    const test = await evaluateBatches(model, pre, source.test(TEST_BATCH_ROWS), source.cols);
    const { roc, ...testScalars } = (test ?? {}) as Record<string, unknown> & { roc?: import("./metrics").RocPoint[] };
    const { state } = result;
    const samplesPerSecond = state.trainSeconds > 0 ? state.samplesSeen / state.trainSeconds : 0;
    // The whole run: backend, statistics pass, training, test pass (not the outputs written after this).
    const wallSeconds = (Date.now() - runStart) / 1000;
    await saveModel(model, store, {
      kiln: {
        runId,
        task: spec.task,
        inputs: pre.inputs,
        classes: pre.classes,
        hyperParameters: { model: spec.model, training: spec.training },
      },
    });
    const metrics = {
      task: spec.task,
      test: test ? testScalars : null,
      ...(roc ? { roc } : {}),
      history: state.history,
      epochs: state.epoch,
      outcome: result.outcome,
      bestEpoch: state.early?.bestEpoch,
      backend: backend.name,
      samplesPerSecond: Math.round(samplesPerSecond),
      trainSeconds: Number(state.trainSeconds.toFixed(3)),
      wallSeconds: Number(wallSeconds.toFixed(3)),
      scanSeconds: Number(scanSeconds.toFixed(3)),
      peakRssMiB: peakRssMiB(),
      attempts: record.attempts,
      rows: {
        read: scan.rowsRead,
        dropped: scan.droppedRows,
        train: split.train,
        validation: split.validation,
        test: split.test,
      },
    };
    await store.put("metrics.json", JSON.stringify(metrics, null, 2), "application/json");
    const usage = usageNow();
    const html = renderReport({
      runId,
      task: spec.task,
      backend: backend.name,
      history: state.history,
      test: test ? testScalars : null,
      roc,
      spec,
      trainSeconds: state.trainSeconds,
      samplesPerSecond,
      usage,
    });
    await store.put("report.html", html, "text/html; charset=utf-8");
    await writeRunRecord(store, { ...record, status: "succeeded", endedAt: new Date().toISOString(), usage });
    log({
      event: "done",
      runId,
      outcome: result.outcome,
      epochs: state.epoch,
      test: test ? testScalars : null,
      uri,
      peakRssMiB: peakRssMiB(),
    });
    // A failed run writes none: the chart's FallbackToLogsOnError then keeps the log's tail, failure line included.
    writeBestEpoch(state.history, env);
    model.dispose();
    return { runId, status: "succeeded", uri, metrics };
  } catch (err) {
    await writeRunRecord(store, {
      ...record,
      status: "failed",
      endedAt: new Date().toISOString(),
      error: (err as Error).message,
      usage: usageNow(),
    }).catch(() => undefined);
    throw err;
  } finally {
    source.dispose();
  }
}
