/**
 * The measuring half of `npm run bench:cluster` (scripts/bench/cluster.sh makes the nodes, queues and
 * team namespaces). Submits BENCH_RUNS runs through the kubectl-kiln plugin's own code (`run(["submit",
 * ...])` of cli/src/main.ts, in-process, BENCH_CONCURRENCY in flight) into the teams' LocalQueues, with
 * the accountant and the dashboard running; follows every pod through a watch until all finished; then
 * reads the Workloads, times `kubectl kiln ls -A` and `usage`, and prints each figure beside issue 24's
 * target and the anchors, with which process used the CPU. Writes the figures as JSON to BENCH_OUT_DIR.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, type V1Pod } from "@kubernetes/client-node";
import { run } from "../../cli/src/main";
import { defaultDeps, type Deps } from "../../cli/src/context";
import { GPU_RESOURCE } from "../../contract/gpu";
import { RUN_LABEL } from "../../contract/labels";
import { parseAccountantLog } from "./accountant-log";
import {
  admissionRate,
  type AllocationSample,
  allocationWhileDeep,
  lifecycleLags,
  percentile,
  type RunPods,
  starvationInversions,
  type WorkloadFacts,
} from "./admissions";
import { type Child, probePages, startAccountant, startDashboard, timePlugin } from "./children";
import { ANCHORS, type Figure, formatFigures, verdict } from "./figures";
import { clusterQueueName, HOLD_RELEASE, type PlannedRun, planRuns, teamName, teamNamespace } from "./plan";
import { controllerFigures, fetchKueueMetrics } from "./kueue-metrics";
import { fetchApiserverMetrics, writesBetween, writesByResource } from "./apiserver-writes";
import { etcdDbSize, harnessPids, machineCores, ProcessSampler } from "./processes";
import { settingsFromEnv } from "./settings";

/** Plugin dependencies with silent output and one shared API connection. */
function quietDeps(errors: string[]): Deps {
  const base = defaultDeps();
  let connected: ReturnType<Deps["connect"]> | undefined;
  return {
    ...base,
    io: { out: () => undefined, err: (t: string) => void (/^error/i.test(t.trim()) && errors.push(t.trim())) },
    connect: (opts) => (connected ??= base.connect(opts)),
  };
}

export function submitArgs(r: PlannedRun, spec: string): string[] {
  const ns = teamNamespace(r.team);
  if (r.nodes > 1)
    return [
      "submit",
      "-n",
      ns,
      "--image",
      "bench.local/idle:1.0.0",
      "--nodes",
      String(r.nodes),
      "--name",
      r.name,
      "--",
      "sleep",
      "1",
    ];
  return ["submit", "-n", ns, "--spec", spec, "--name", r.name, "--gpus", String(r.gpus)];
}

interface PodState {
  readonly gpus: number;
  readonly run: string;
  boundAt?: number;
  finishedAt?: number;
  /** Deleted before it finished (evicted by waitForPodsReady, preempted, a JobSet restart): its GPUs are free. */
  deletedAt?: number;
}

const podGpus = (p: V1Pod) =>
  (p.spec?.containers ?? []).reduce(
    (a, c) => a + Number(c.resources?.limits?.[GPU_RESOURCE] ?? c.resources?.requests?.[GPU_RESOURCE] ?? 0),
    0,
  );

/** Every bench pod's binding and end, through one watch (a list each second would itself load the API server). */
function watchPods(kc: KubeConfig, onError: (e: unknown) => void) {
  const core = kc.makeApiClient(CoreV1Api);
  const pods = new Map<string, PodState>();
  const informer = makeInformer(
    kc,
    "/api/v1/pods",
    () => core.listPodForAllNamespaces({ labelSelector: RUN_LABEL }),
    RUN_LABEL,
  );
  const upsert = (p: V1Pod) => {
    if (!p.metadata?.namespace?.startsWith("kiln-bench-") || !p.metadata.uid) return;
    const s: PodState = pods.get(p.metadata.uid) ?? { gpus: podGpus(p), run: p.metadata.labels?.[RUN_LABEL] ?? "" };
    if (s.boundAt === undefined && p.spec?.nodeName) s.boundAt = Date.now();
    if (s.finishedAt === undefined && (p.status?.phase === "Succeeded" || p.status?.phase === "Failed"))
      s.finishedAt = Date.now();
    pods.set(p.metadata.uid, s);
  };
  informer.on("add", upsert);
  informer.on("update", upsert);
  informer.on("delete", (p: V1Pod) => {
    const s = p.metadata?.uid ? pods.get(p.metadata.uid) : undefined;
    if (s && s.finishedAt === undefined) s.deletedAt ??= Date.now();
  });
  informer.on("error", (e) => {
    onError(e);
    setTimeout(() => void informer.start().catch(onError), 2000);
  });
  return { pods, informer };
}

export async function listWorkloads(kc: KubeConfig, teams: number): Promise<WorkloadFacts[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const cqOf = new Map(Array.from({ length: teams }, (_, t) => [teamNamespace(t), clusterQueueName(t)]));
  const out: WorkloadFacts[] = [];
  let cont: string | undefined;
  type Wl = {
    metadata: { name: string; namespace: string; creationTimestamp: string; ownerReferences?: { name: string }[] };
    spec: {
      priority?: number;
      podSets: {
        count: number;
        template: { spec: { containers: { resources?: { requests?: Record<string, string> } }[] } };
      }[];
    };
    status?: {
      admission?: { clusterQueue: string };
      conditions?: { type: string; status: string; lastTransitionTime: string }[];
    };
  };
  do {
    // Custom objects come back as the API server's JSON: the token is metadata.continue.
    const page = (await api.listClusterCustomObject({
      group: "kueue.x-k8s.io",
      version: "v1beta1",
      plural: "workloads",
      limit: 1000,
      _continue: cont,
    })) as { items: Wl[]; metadata?: { continue?: string } };
    for (const w of page.items) {
      const ns = w.metadata.namespace;
      if (!cqOf.has(ns)) continue;
      const reserved = w.status?.conditions?.find((c) => c.type === "QuotaReserved" && c.status === "True");
      const finished = w.status?.conditions?.find((c) => c.type === "Finished" && c.status === "True");
      const pods = w.spec.podSets.reduce((a, p) => a + p.count, 0);
      const gpus = w.spec.podSets.reduce(
        (a, p) =>
          a +
          p.count *
            p.template.spec.containers.reduce((g, c) => g + Number(c.resources?.requests?.[GPU_RESOURCE] ?? 0), 0),
        0,
      );
      out.push({
        key: `${ns}/${w.metadata.name}`,
        clusterQueue: w.status?.admission?.clusterQueue ?? cqOf.get(ns)!,
        priority: w.spec.priority ?? 0,
        createdMs: Date.parse(w.metadata.creationTimestamp),
        admittedMs: reserved ? Date.parse(reserved.lastTransitionTime) : undefined,
        gpus,
        pods,
        run: w.metadata.ownerReferences?.[0]?.name,
        finishedMs: finished ? Date.parse(finished.lastTransitionTime) : undefined,
      });
    }
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  fs.mkdirSync(s.outDir, { recursive: true });
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const core = kc.makeApiClient(CoreV1Api);
  const plan = planRuns({ runs: s.runs, teams: s.teams, multiNodeShare: s.multiNodeShare, seed: s.seed });
  const totalGpus = s.nodes * s.gpusPerNode;
  const expectedPods = plan.reduce((a, r) => a + r.nodes, 0);
  const spec = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kiln-bench-")), "spec.yaml");
  const cm = await core.readNamespacedConfigMap({ name: "kiln-run-spec", namespace: teamNamespace(0) });
  fs.writeFileSync(spec, cm.data?.["spec.yaml"] ?? "");
  const say = (t: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${t}\n`);

  const sampler = new ProcessSampler(() => {
    const pids = harnessPids(path.join(s.kilnDir, "run"));
    pids.set("bench (plugin submits, pod watch)", process.pid);
    for (const [name, c] of children) if (c.proc.pid) pids.set(name, c.proc.pid);
    return pids;
  });
  const children = new Map<string, Child>();
  // Interrupted (cluster.sh's trap, Ctrl-C): stop the accountant and the dashboard before going.
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(
      sig,
      () => void Promise.all([...children.values()].map((c) => c.stop())).then(() => process.exit(130)),
    );
  }
  const watchErrors: unknown[] = [];
  const { pods, informer } = watchPods(kc, (e) => watchErrors.push(e));
  await informer.start();

  const accountantLog = path.join(s.outDir, `${stamp}-accountant.log`);
  if (s.accountant) {
    const teams = Array.from({ length: s.teams }, (_, t) => ({
      name: teamName(t),
      namespace: teamNamespace(t),
      clusterQueue: clusterQueueName(t),
    }));
    children.set("accountant", startAccountant(s.outDir, accountantLog, teams, s.accountantInterval));
  }
  let probe: ReturnType<typeof probePages> | undefined;
  if (s.dashboard) {
    const d = await startDashboard(path.join(s.outDir, `${stamp}-dashboard.log`));
    children.set("dashboard", d);
    probe = probePages(d.url, ["./", "api/runs"]);
  }
  sampler.start();
  const etcdStart = await etcdDbSize("http://127.0.0.1:2379/metrics");
  const writesStart = await fetchApiserverMetrics(kc);

  // Allocation, once a second, from the watch.
  const samples: AllocationSample[] = [];
  let submittedGpus = 0;
  const t0 = Date.now();
  let lastBoundAt = NaN;
  let firstFinishedAt = NaN;
  const load: number[] = [];
  const tick = setInterval(() => {
    load.push(os.loadavg()[0]);
    let held = 0;
    let boundGpus = 0;
    let bound = 0;
    for (const p of pods.values()) {
      if (p.boundAt !== undefined) {
        boundGpus += p.gpus;
        bound++;
      }
      if (p.boundAt !== undefined && p.finishedAt === undefined && p.deletedAt === undefined) held += p.gpus;
      if (p.finishedAt !== undefined && Number.isNaN(firstFinishedAt)) firstFinishedAt = Date.now() - t0;
    }
    if (bound >= expectedPods && Number.isNaN(lastBoundAt)) lastBoundAt = Date.now() - t0;
    samples.push({ t: Date.now() - t0, held, waiting: Math.max(0, submittedGpus - boundGpus) });
  }, 1000);

  say(
    `submitting ${s.runs} runs (${expectedPods} pods, ${plan.filter((r) => r.nodes > 1).length} multi-node) into ${s.teams} teams' LocalQueues, ${s.concurrency} in flight`,
  );
  const errors: string[] = [];
  const deps = quietDeps(errors);
  const submitMs: number[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < plan.length) {
      const r = plan[next++];
      const t = performance.now();
      const code = await run(submitArgs(r, spec), deps);
      submitMs.push(performance.now() - t);
      if (code !== 0) failed++;
      else submittedGpus += r.gpus * r.nodes;
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  const submitSeconds = (Date.now() - t0) / 1000;
  say(
    `submitted ${s.runs - failed}/${s.runs} in ${submitSeconds.toFixed(1)}s; waiting for every pod to finish (timeout ${s.timeoutSeconds}s)`,
  );
  // Admission starts here: at the release of the held queues, or with the first submit.
  let releasedAt = 0;
  if (s.hold) {
    const custom = kc.makeApiClient(CustomObjectsApi);
    releasedAt = Date.now() - t0;
    say("releasing the held ClusterQueues");
    for (let t = 0; t < s.teams; t++) {
      await custom.patchClusterCustomObject({
        group: "kueue.x-k8s.io",
        version: "v1beta1",
        plural: "clusterqueues",
        name: clusterQueueName(t),
        body: HOLD_RELEASE,
      });
    }
  }

  let lastLog = 0;
  for (;;) {
    const done = [...pods.values()].filter((p) => p.finishedAt !== undefined).length;
    if (done >= expectedPods - failed || Date.now() - t0 > s.timeoutSeconds * 1000) break;
    if (Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      const last = samples[samples.length - 1];
      const deleted = [...pods.values()].filter((p) => p.deletedAt !== undefined).length;
      say(
        `${done}/${expectedPods} pods finished, ${deleted} deleted unfinished; GPUs held ${last?.held ?? 0}/${totalGpus}`,
      );
    }
    await sleep(1000);
  }
  const allFinishedSeconds = (Date.now() - t0) / 1000;
  clearInterval(tick);
  const writesEnd = await fetchApiserverMetrics(kc);
  const writes =
    writesStart && writesEnd ? writesBetween(writesByResource(writesStart), writesByResource(writesEnd)) : undefined;
  const finishedPods = [...pods.values()].filter((p) => p.finishedAt !== undefined).length;

  say("timing kubectl kiln ls -A and usage, reading the Workloads");
  const dashboardResults = probe?.stop();
  const ls = await timePlugin(["ls", "-A"]);
  const lsNoMetrics = await timePlugin(["ls", "-A", "--no-metrics"]);
  const usage = await timePlugin(["usage"]);
  const workloads = await listWorkloads(kc, s.teams);
  const etcdEnd = await etcdDbSize("http://127.0.0.1:2379/metrics");
  const kueueText = process.env.BENCH_KUEUE_METRICS_TOKEN
    ? await fetchKueueMetrics(
        Number(process.env.BENCH_KUEUE_METRICS_PORT ?? 8080),
        process.env.BENCH_KUEUE_METRICS_TOKEN,
      )
    : undefined;
  const kueueControllers = kueueText
    ? controllerFigures(kueueText).filter((c) => c.reconciles > 0 && Number.isFinite(c.workers))
    : [];
  const processes = sampler.stop();
  for (const c of children.values()) await c.stop();
  informer.stop();

  const adm = admissionRate(workloads, totalGpus);
  const inv = starvationInversions(workloads);
  const byRun = new Map<string, RunPods>();
  for (const p of pods.values()) {
    const r = byRun.get(p.run) ?? {};
    byRun.set(p.run, {
      firstBoundMs: p.boundAt === undefined ? r.firstBoundMs : Math.min(p.boundAt, r.firstBoundMs ?? Infinity),
      lastFinishedMs:
        p.finishedAt === undefined ? r.lastFinishedMs : Math.max(p.finishedAt, r.lastFinishedMs ?? -Infinity),
    });
  }
  const lags = lifecycleLags(workloads, byRun);
  // Deep-queue samples after the release; "steady" from the first finished pod on, when quota is recycled.
  const alloc = allocationWhileDeep(
    samples.filter((x) => x.t >= releasedAt),
    totalGpus,
  );
  const steady = allocationWhileDeep(
    samples.filter((x) => x.t >= firstFinishedAt),
    totalGpus,
  );
  const acc = s.accountant ? parseAccountantLog(fs.readFileSync(accountantLog, "utf8")) : undefined;
  const page = (p: string) => dashboardResults?.[p];
  const apiserver = processes.find((p) => p.name === "kube-apiserver");
  const mib = (b: number | undefined) => (b === undefined ? NaN : b / 1048576);

  const figures: Figure[] = [
    {
      key: "submitsPerSecond",
      label: "submits/s (plugin, in-process)",
      value: (s.runs - failed) / submitSeconds,
      unit: "/s",
      target: { atLeast: 100 },
      note: `p50 ${percentile(submitMs, 50).toFixed(0)} ms, p99 ${percentile(submitMs, 99).toFixed(0)} ms per submit, ${s.concurrency} in flight; ${failed} failed`,
    },
    {
      key: "admissionsPerSecond",
      label: "Kueue admissions/s while quota allows",
      value: adm.whileQuotaAllows,
      unit: "/s",
      target: { atLeast: 50 },
      anchor: ANCHORS.kueue,
      note: `${adm.burstAdmitted} admitted in the first ${adm.burstSeconds.toFixed(0)} s (until the cohort's ${totalGpus} GPUs were taken); best 10 s ${adm.peak10s.toFixed(1)}/s; overall ${adm.overall.toFixed(1)}/s, ${adm.admitted}/${workloads.length} admitted`,
    },
    {
      key: "allBoundSeconds",
      label: `${s.hold ? "release" : "first submit"} -> last pod bound`,
      value: (lastBoundAt - releasedAt) / 1000,
      unit: "s",
      anchor: ANCHORS.gke,
      note: `${expectedPods} pods, ${((expectedPods * 1000) / (lastBoundAt - releasedAt)).toFixed(1)} bound/s (quota and the ${s.runSeconds} s run time bound this, not the scheduler: ${totalGpus} GPUs)`,
    },
    {
      key: "allFinishedSeconds",
      label: `${s.hold ? "release" : "first submit"} -> every pod finished`,
      value: allFinishedSeconds - releasedAt / 1000,
      unit: "s",
      note: `${finishedPods}/${expectedPods} pods finished; ${[...pods.values()].filter((p) => p.deletedAt !== undefined).length} deleted before they finished (evicted, preempted or restarted)`,
    },
    {
      key: "gpuAllocationPeakPct",
      label: "GPU allocation while the queue is deep, peak",
      value: alloc.peakPct,
      unit: "%",
      target: { atLeast: 95 },
    },
    {
      key: "gpuAllocationMeanPct",
      label: "GPU allocation while the queue is deep, mean",
      value: steady.meanPct,
      unit: "%",
      target: { atLeast: 95 },
      note: `over ${steady.deepSamples} one-second samples from the first finished pod on, where waiting runs asked for more GPUs than were free; ${alloc.meanPct.toFixed(1)} % including the first fill (${alloc.deepSamples} samples)`,
    },
    {
      key: "startLagP50Seconds",
      label: "quota reserved -> first pod bound, p50",
      value: lags.start.p50Seconds,
      unit: "s",
      note: `p99 ${lags.start.p99Seconds.toFixed(1)} s over ${lags.start.runs} runs: Kueue unsuspends, the Job controller makes pods, the scheduler binds (GPUs reserved, idle)`,
    },
    {
      key: "releaseLagP50Seconds",
      label: "last pod finished -> quota released, p50",
      value: lags.release.p50Seconds,
      unit: "s",
      note: `p99 ${lags.release.p99Seconds.toFixed(1)} s over ${lags.release.runs} runs: the Job controller completes the Job, Kueue finishes the Workload (GPUs free, quota still taken)`,
    },
    {
      key: "starvationInversions",
      label: "starvation inversions",
      value: inv.count,
      unit: "",
      target: { atMost: 0 },
      note: inv.examples.length
        ? `e.g. ${inv.examples
            .slice(0, 3)
            .map((e) => `${e.admitted} before ${e.skipped}`)
            .join("; ")}`
        : "older, no larger, same-queue same-priority run never overtaken",
    },
  ];
  if (acc) {
    figures.push(
      {
        key: "accountantPassMsMax",
        label: "accountant pass, max",
        value: acc.msMax,
        unit: "ms",
        target: { atMost: s.accountantInterval * 1000 },
        note: `${acc.passes} passes (from ${acc.source} lines), p50 ${acc.msP50} ms, interval ${s.accountantInterval} s, ${acc.errors} error lines${acc.unfinished ? `; the last pass was still running when the bench ended` : ""}`,
      },
      {
        key: "accountantRequestsPerPass",
        label: "accountant API requests per pass (mean)",
        value: acc.requestsMean,
        unit: "",
      },
      {
        key: "accountantMiBPerPass",
        label: "accountant response MiB per pass (mean)",
        value: acc.bytesMean / 1048576,
        unit: "MiB",
        note: acc.lastPass
          ? `last pass: ${acc.lastPass.ms} ms, ${acc.lastPass.requests} requests, ${((acc.lastPass.bytes ?? NaN) / 1048576).toFixed(1)} MiB`
          : undefined,
      },
    );
  }
  if (page("./")) {
    for (const [p, label, key] of [
      ["./", "dashboard runs page", "dashboardRunsPage"],
      ["api/runs", "dashboard /api/runs", "dashboardApiRuns"],
    ] as const) {
      const r = page(p)!;
      figures.push({
        key: `${key}P50Ms`,
        label: `${label} p50`,
        value: percentile(r.ms, 50),
        unit: "ms",
        target: { atMost: 300 },
        note: `${r.ms.length} answers, ${r.failures} failures`,
      });
      figures.push({
        key: `${key}P99Ms`,
        label: `${label} p99`,
        value: percentile(r.ms, 99),
        unit: "ms",
        target: { atMost: 1000 },
      });
    }
  }
  figures.push(
    {
      key: "lsAllSeconds",
      label: "kubectl kiln ls -A",
      value: ls.seconds,
      unit: "s",
      target: { atMost: 5 },
      note: `exit ${ls.code}, ${ls.stdoutBytes} bytes out${ls.code !== 0 ? `; ${ls.stderr.split("\n")[0]}` : ""}`,
    },
    {
      key: "lsAllNoMetricsSeconds",
      label: "kubectl kiln ls -A --no-metrics",
      value: lsNoMetrics.seconds,
      unit: "s",
      target: { atMost: 5 },
      note: "without reading finished runs' logs for BEST-METRIC",
    },
    {
      key: "usageSeconds",
      label: "kubectl kiln usage",
      value: usage.seconds,
      unit: "s",
      target: { atMost: 5 },
      note: `exit ${usage.code}, ${usage.stdoutBytes} bytes out${usage.code !== 0 ? `; ${usage.stderr.split("\n")[0]}` : ""}`,
    },
    {
      key: "apiserverWritesPerRun",
      label: "API server writes per run",
      value: writes ? writes.total / s.runs : NaN,
      unit: "",
      note: writes
        ? `${writes.total} writes in ${allFinishedSeconds.toFixed(0)} s, ${(writes.total / allFinishedSeconds).toFixed(0)}/s; most: ${writes.byResource
            .slice(0, 6)
            .map((r) => `${r.resource} ${(r.writes / s.runs).toFixed(1)}`)
            .join(", ")} per run`
        : "the API server's /metrics could not be read",
    },
    { key: "apiserverPeakRssMiB", label: "kube-apiserver peak RSS", value: apiserver?.peakRssMiB ?? NaN, unit: "MiB" },
    {
      key: "etcdDbMiB",
      label: "etcd DB size at the end",
      value: mib(etcdEnd?.totalBytes),
      unit: "MiB",
      note: `${mib(etcdStart?.totalBytes).toFixed(0)} MiB at the start; ${mib(etcdEnd?.inUseBytes).toFixed(0)} MiB in use; quota 2048 MiB`,
    },
  );

  const cores = machineCores();
  const header = `bench:cluster ${started.toISOString()}  ${s.runs} runs (${expectedPods} pods, GPU mix 1/2/4/8, ${plan.filter((r) => r.nodes > 1).length} multi-node) on ${s.nodes} simulated ${s.gpusPerNode}-GPU nodes in ${s.pools} pools, ${s.teams} teams in one cohort; runs hold GPUs ${s.runSeconds} s`;
  const cpuTable = processes
    .map(
      (p) =>
        `  ${p.name.padEnd(34)} ${p.cpuPct.toFixed(0).padStart(4)} % of a core  ${p.cpuSeconds.toFixed(0).padStart(5)} cpu-s  peak RSS ${p.peakRssMiB.toFixed(0)} MiB`,
    )
    .join("\n");
  const text = [
    header,
    `machine: ${cores} cores, shared with other work (other jobs ran beside the bench): 1-min load average ${percentile(load, 50).toFixed(1)} median, ${Math.max(...load).toFixed(1)} max`,
    formatFigures(figures),
    `CPU by process over the bench (${cores} cores = ${cores * 100} %):`,
    cpuTable,
    `Kueue controllers (workers / mean reconcile time = the reconciles per second they can do):`,
    ...kueueControllers
      .slice(0, 5)
      .map(
        (c) =>
          `  ${c.controller.padEnd(34)} ${String(c.reconciles).padStart(6)} reconciles  mean ${(c.meanSeconds * 1000).toFixed(0).padStart(5)} ms  x ${c.workers} workers = ${c.capacityPerSecond.toFixed(1)}/s`,
      ),
  ].join("\n");
  process.stdout.write(`${text}\n`);
  const jsonFile = path.join(s.outDir, `${stamp}.json`);
  const result = {
    date: started.toISOString(),
    machine: {
      cores,
      sharedWithOtherWork: true,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      loadAverageMedian: percentile(load, 50),
      loadAverageMax: Math.max(...load),
    },
    settings: s,
    counts: {
      runs: s.runs,
      failed,
      pods: expectedPods,
      podsFinished: finishedPods,
      workloads: workloads.length,
      admitted: adm.admitted,
    },
    figures: figures.map((f) => ({ ...f, verdict: verdict(f) })),
    processes,
    kueueControllers,
    admissions: adm,
    inversions: inv,
    lags,
    allocation: { fromRelease: alloc, fromFirstFinish: steady },
    accountant: acc,
    apiserverWrites: writes,
    etcd: { start: etcdStart, end: etcdEnd },
    samples,
    errors: [...new Set(errors)].slice(0, 20),
    watchErrors: watchErrors.length,
  };
  fs.writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`figures written to ${jsonFile}\n`);
  if (errors.length) process.stderr.write(`first plugin errors:\n  ${[...new Set(errors)].slice(0, 5).join("\n  ")}\n`);
  if (failed > 0 || finishedPods < expectedPods - failed) process.exitCode = 1;
}

if (require.main === module) {
  // Exit explicitly: keep-alive API connections would hold the process open.
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (e: Error) => {
      process.stderr.write(`bench:cluster: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
