/**
 * One training run end to end: refuse finished runs, load and split the data, resume from the latest
 * checkpoint, train, evaluate, and write model/, metrics.json, preprocess.json, report.html, run.json.
 */
import * as tf from "@tensorflow/tfjs";
import { canonical, evaluate, readRunRecord, saveModel, writeRunRecord, type RunRecord } from "./artifacts";
import { selectBackend, type BackendInfo } from "./backend";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { DataError, LoadStopped, streamRows } from "./data";
import { buildModel, compileModel } from "./model";
import { encode, fitPreprocess, splitIndices, type Matrix } from "./preprocess";
import { renderReport } from "./report";
import type { RunSpec } from "./spec";
import { openObject, openStore, retryOptionsFromEnv, type Store } from "./storage";
import { train } from "./train";

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

const tensor2d = (m: Matrix) => tf.tensor2d(m.data, [m.rows, m.cols]);
const joinUri = (base: string, id: string) => `${base.replace(/\/+$/, "")}/${id}`;

async function loadData(spec: RunSpec, env: NodeJS.ProcessEnv, shouldStop?: () => boolean) {
  const retry = retryOptionsFromEnv(env);
  let source;
  try {
    source = await openObject(spec.dataset.uri, retry, env);
  } catch (err) {
    throw new DataError(`cannot read dataset.uri ${spec.dataset.uri}: ${(err as Error).message}`);
  }
  const parsed = await streamRows(spec, source, spec.dataset.uri, shouldStop);
  const split = splitIndices(parsed.x.length, spec.split.test, spec.split.validation, spec.split.seed);
  const pre = fitPreprocess(spec, parsed, split.train);
  return { parsed, split, pre, train: encode(pre, parsed, split.train), val: encode(pre, parsed, split.validation), test: encode(pre, parsed, split.test) };
}

/** What is legal but probably not what the user meant: said in the log before training starts. */
export function dataWarnings(spec: RunSpec, parsed: { y: (number | string)[] }, split: { train: number[]; test: number[]; validation: number[] }): string[] {
  const out: string[] = [];
  if (split.test.length === 0) out.push("the test split is empty (too few rows for split.test): no test metrics will be reported");
  if (split.validation.length === 0) out.push("the validation split is empty: early stopping watches the training loss");
  const first = parsed.y[split.train[0]];
  if (spec.task === "regression" && split.train.every((i) => parsed.y[i] === first))
    out.push(`the target "${spec.dataset.target}" is constant (${first}) in the training split: the model can only learn that constant`);
  return out;
}

/** Refuses a finished run and a prefix that holds a different run; returns the record to continue. */
async function claimPrefix(store: Store, spec: RunSpec, runId: string): Promise<RunRecord | undefined> {
  const existing = await readRunRecord(store);
  if (!existing) return undefined;
  if (existing.status === "succeeded") {
    throw new RunRefusedError(`run "${runId}" already succeeded at ${store.describe("")} (ended ${existing.endedAt}); its outputs are kept. Use a new runId to train again.`);
  }
  if (canonical(existing.spec) !== canonical(spec)) {
    throw new RunRefusedError(`${store.describe("")} holds run "${existing.runId}" with a different spec (status ${existing.status}); refusing to overwrite it. Use a new runId.`);
  }
  return existing;
}

/** Where the math runs, said plainly: a pod can be granted `nvidia.com/gpu` and still have no GPU to use. */
export function describeDevice(b: BackendInfo): string {
  if (b.name === "tensorflow-gpu") return b.gpuFound ? "GPU (tfjs-node-gpu)" : "CPU: tfjs-node-gpu loaded but no NVIDIA device is visible";
  const why = b.gpuFound ? "an NVIDIA device is visible but this image has no GPU backend" : "no NVIDIA device is visible to this process";
  return `CPU (${b.name} backend): ${why}`;
}

export async function runTraining(spec: RunSpec & { runId: string }, opts: RunOptions = {}): Promise<RunOutcome> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line) => console.log(JSON.stringify(line)));
  const runId = spec.runId;
  const uri = joinUri(spec.output.uri, runId);
  const store = openStore(uri, retryOptionsFromEnv(env), env);
  const previous = await claimPrefix(store, spec, runId);

  const backend: BackendInfo = await selectBackend(env.KILN_BACKEND);
  log({ event: "backend", backend: backend.name, tfBackend: backend.tfBackend, gpuFound: backend.gpuFound, device: describeDevice(backend), skipped: backend.skipped });

  let data;
  try {
    data = await loadData(spec, env, opts.shouldStop);
  } catch (err) {
    // SIGTERM while the data was loading: no checkpoint exists yet, so exit at once as interrupted.
    if (!(err instanceof LoadStopped)) throw err;
    log({ event: "interrupted", phase: "loading data", detail: err.message });
    return { runId, status: "interrupted", uri };
  }
  const { parsed, split, pre } = data;
  log({
    event: "data",
    rowsRead: parsed.rowsRead,
    droppedRows: parsed.droppedRows,
    dropReasons: parsed.dropReasons,
    train: split.train.length,
    validation: split.validation.length,
    test: split.test.length,
    inputs: pre.inputs.length,
  });
  for (const message of dataWarnings(spec, parsed, split)) log({ event: "warning", message });

  const now = new Date().toISOString();
  const record: RunRecord = {
    runId,
    status: "running",
    attempts: (previous?.attempts ?? 0) + 1,
    spec,
    firstStartedAt: previous?.firstStartedAt ?? now,
    startedAt: now,
    backend: backend.name,
  };
  await writeRunRecord(store, record);
  const wallStart = Date.now();
  try {
    await store.put("preprocess.json", JSON.stringify({ ...pre, rowsRead: parsed.rowsRead, droppedRows: parsed.droppedRows, dropReasons: parsed.dropReasons }, null, 2), "application/json");
    const model = buildModel(spec, [pre.inputs.length], pre.classes?.length ?? 1);
    compileModel(model, spec);
    const resume = await loadCheckpoint(store);
    if (resume) log({ event: "resume", epoch: resume.state.epoch, batch: resume.state.batch, attempt: record.attempts });
    const tensors = { x: tensor2d(data.train.x), y: tensor2d(data.train.y), valX: tensor2d(data.val.x), valY: tensor2d(data.val.y) };
    const result = await train({
      spec,
      model,
      data: tensors,
      resume,
      shouldStop: opts.shouldStop,
      checkpoint: (state, groups) => saveCheckpoint(store, state, groups),
      log: (line) => log(line as unknown as Record<string, unknown>),
    });
    Object.values(tensors).forEach((t) => t.dispose());
    if (result.outcome === "interrupted") {
      await writeRunRecord(store, { ...record, interruptedAt: new Date().toISOString() });
      log({ event: "interrupted", epoch: result.state.epoch, batch: result.state.batch, checkpoint: store.describe("checkpoints/latest.json") });
      model.dispose();
      return { runId, status: "interrupted", uri };
    }

    const testX = tensor2d(data.test.x);
    const testY = tensor2d(data.test.y);
    const test = evaluate(model, pre, testX, testY);
    testX.dispose();
    testY.dispose();
    const { roc, ...testScalars } = (test ?? {}) as Record<string, unknown> & { roc?: import("./metrics").RocPoint[] };
    const { state } = result;
    const samplesPerSecond = state.trainSeconds > 0 ? state.samplesSeen / state.trainSeconds : 0;
    const wallSeconds = (Date.now() - wallStart) / 1000;
    await saveModel(model, store, { kiln: { runId, task: spec.task, inputs: pre.inputs, classes: pre.classes, hyperParameters: { model: spec.model, training: spec.training } } });
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
      attempts: record.attempts,
      rows: { read: parsed.rowsRead, dropped: parsed.droppedRows, train: split.train.length, validation: split.validation.length, test: split.test.length },
    };
    await store.put("metrics.json", JSON.stringify(metrics, null, 2), "application/json");
    const html = renderReport({ runId, task: spec.task, backend: backend.name, history: state.history, test: test ? testScalars : null, roc, spec, trainSeconds: state.trainSeconds, samplesPerSecond });
    await store.put("report.html", html, "text/html; charset=utf-8");
    await writeRunRecord(store, { ...record, status: "succeeded", endedAt: new Date().toISOString() });
    log({ event: "done", runId, outcome: result.outcome, epochs: state.epoch, test: test ? testScalars : null, uri });
    model.dispose();
    return { runId, status: "succeeded", uri, metrics };
  } catch (err) {
    await writeRunRecord(store, { ...record, status: "failed", endedAt: new Date().toISOString(), error: (err as Error).message }).catch(() => undefined);
    throw err;
  }
}
