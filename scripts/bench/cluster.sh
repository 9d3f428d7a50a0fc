#!/usr/bin/env bash
# npm run bench:cluster: Kiln at data-centre scale on the local cluster (issue 24).
# Registers BENCH_NODES simulated 8-GPU nodes split over BENCH_POOLS pools (bench-a, bench-b, ...), one
# ResourceFlavor per pool, BENCH_TEAMS team namespaces (kiln-bench-<i>) each with the trainer chart's Job
# template (8 GPUs by default, its LocalQueue bench-lq-<i>) and a ClusterQueue bench-cq-<i> in cohort
# "bench" (the pools' GPUs split evenly, borrowing unlimited; held until every run is queued). Then scripts/bench/cluster.ts submits
# BENCH_RUNS runs through `kubectl kiln submit` (a 1/2/4/8-GPU mix, a share multi-node JobSets) with
# the accountant and the dashboard running, and prints and writes the figures (.kiln/bench/<time>.json).
# Removes every object it made afterwards unless BENCH_KEEP=true. Starts the cluster if it is down
# (without the real node: the bench needs only simulated ones) and leaves it running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"

# Defaults: scripts/bench/settings.ts's BENCH_KNOBS (test/scripts/bench/settings.test.ts ties them).
# Runs submitted.
BENCH_RUNS=${BENCH_RUNS:-10000}
# Simulated GPU nodes in all, GPUs per node, and pools (ResourceFlavors) they are split over.
BENCH_NODES=${BENCH_NODES:-1000}
BENCH_GPUS=${BENCH_GPUS:-8}
BENCH_POOLS=${BENCH_POOLS:-2}
# Teams: a namespace, LocalQueue and ClusterQueue each, all ClusterQueues in one cohort.
BENCH_TEAMS=${BENCH_TEAMS:-4}
# Share of runs that are multi-node JobSets (2 or 4 nodes x 8 GPUs).
BENCH_MULTI_NODE_SHARE=${BENCH_MULTI_NODE_SHARE:-0.05}
# Hold the ClusterQueues while submitting and release them once every run is queued (false: admit as they come).
BENCH_HOLD=${BENCH_HOLD:-true}
# Submissions in flight at once.
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-32}
# Seconds each simulated run holds its GPUs once Running (KWOK pod-complete delay, set on the template's pods).
# 10 minutes: 8,000 GPUs then turn over ~3.4 runs/s, what this machine's control plane can write (~39 writes a
# run); at 60 s they would need ~34 runs/s. Real training runs hold their GPUs for hours.
BENCH_RUN_SECONDS=${BENCH_RUN_SECONDS:-600}
# Seconds between the accountant's passes during the bench.
BENCH_ACCOUNTANT_INTERVAL=${BENCH_ACCOUNTANT_INTERVAL:-30}
# Port of the bench accountant's health endpoint (the harness's Kueue holds 8080 on this host).
BENCH_ACCOUNTANT_HEALTH_PORT=${BENCH_ACCOUNTANT_HEALTH_PORT:-18080}
export BENCH_ACCOUNTANT_HEALTH_PORT
# Run the accountant and the dashboard during the bench.
BENCH_ACCOUNTANT=${BENCH_ACCOUNTANT:-true}
BENCH_DASHBOARD=${BENCH_DASHBOARD:-true}
# Give up waiting for every run to finish after this many seconds.
BENCH_TIMEOUT=${BENCH_TIMEOUT:-7200}
# Keep the bench's namespaces, queues, flavors and nodes afterwards.
BENCH_KEEP=${BENCH_KEEP:-false}
# Where the JSON figures go (a file per run, named by its UTC start time).
BENCH_OUT_DIR=${BENCH_OUT_DIR:-"$KILN_DIR/bench"}

usage() {
  cat >&2 <<USAGE
usage: npm run bench:cluster   (knobs from the environment)
  BENCH_RUNS=$BENCH_RUNS BENCH_NODES=$BENCH_NODES BENCH_GPUS=$BENCH_GPUS BENCH_POOLS=$BENCH_POOLS BENCH_TEAMS=$BENCH_TEAMS
  BENCH_MULTI_NODE_SHARE=$BENCH_MULTI_NODE_SHARE BENCH_HOLD=$BENCH_HOLD BENCH_CONCURRENCY=$BENCH_CONCURRENCY
  BENCH_RUN_SECONDS=$BENCH_RUN_SECONDS BENCH_ACCOUNTANT=$BENCH_ACCOUNTANT BENCH_ACCOUNTANT_INTERVAL=$BENCH_ACCOUNTANT_INTERVAL BENCH_DASHBOARD=$BENCH_DASHBOARD
  BENCH_TIMEOUT=$BENCH_TIMEOUT BENCH_KEEP=$BENCH_KEEP BENCH_OUT_DIR=$BENCH_OUT_DIR
quick run: BENCH_RUNS=1000 BENCH_NODES=100 BENCH_RUN_SECONDS=20 npm run bench:cluster
USAGE
}

tsn() { (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only "$@"); }
objects() { tsn scripts/bench/objects.ts "$@" --nodes "$BENCH_NODES" --pools "$BENCH_POOLS" --gpus "$BENCH_GPUS" --teams "$BENCH_TEAMS"; }

# remove_bench_objects: namespaces (with their Jobs, JobSets, pods, Workloads, usage records), queues, flavors, nodes.
remove_bench_objects() {
  log "removing the bench's namespaces, ClusterQueues, ResourceFlavors and nodes (pools $POOLS)"
  kc delete namespace -l "$BENCH_LABEL" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  # Kueue keeps a ClusterQueue (finalizer) until its workloads are gone, which the namespaces' deletion does.
  kc delete clusterqueue,resourceflavor -l "$BENCH_LABEL" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kc delete nodes -l "$GPU_POOL_LABEL in ($POOLS)" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kc wait --for=delete namespace -l "$BENCH_LABEL" --timeout 900s >/dev/null 2>&1 || log "bench namespaces still terminating after 900s"
  kc wait --for=delete clusterqueue,resourceflavor -l "$BENCH_LABEL" --timeout 120s >/dev/null 2>&1 || log "bench ClusterQueues/ResourceFlavors still present after 120s"
  kc delete clusterrolebinding,clusterrole -l "$BENCH_LABEL" --ignore-not-found >/dev/null 2>&1 || true
  kc delete serviceaccount bench-metrics -n kueue-system --ignore-not-found >/dev/null 2>&1 || true
  kc wait --for=delete nodes -l "$GPU_POOL_LABEL in ($POOLS)" --timeout 120s >/dev/null 2>&1 || log "bench nodes still present after 120s"
}

cleanup() {
  local status=$?
  [[ "$BENCH_KEEP" != true && -n "${KUBECTL:-}" ]] && remove_bench_objects
  exit $status
}

# kueue_metrics_token: a ServiceAccount that may read Kueue's authenticated /metrics, and a token for it.
kueue_metrics_token() {
  kc create serviceaccount bench-metrics -n kueue-system --dry-run=client -o yaml | kc apply -f - >/dev/null
  kc create clusterrole bench-metrics-reader --verb=get --non-resource-url=/metrics --dry-run=client -o yaml \
    | kc label -f - --local "$BENCH_LABEL" -o yaml | kc apply -f - >/dev/null
  kc create clusterrolebinding bench-metrics-reader --clusterrole=bench-metrics-reader --serviceaccount=kueue-system:bench-metrics \
    --dry-run=client -o yaml | kc label -f - --local "$BENCH_LABEL" -o yaml | kc apply -f - >/dev/null
  kc create token bench-metrics -n kueue-system --duration 4h
}

install_templates() {
  local helm t ns
  helm="$(dirname "$KUBECTL")/helm"
  for ((t = 0; t < BENCH_TEAMS; t++)); do
    ns="kiln-bench-$t"
    # gpus=8: a multi-node run takes the template's GPUs per node (then the plugin lists no nodes);
    # single-node runs pass --gpus.
    "$helm" template kiln-trainer "$KILN_REPO_ROOT/charts/trainer" --namespace "$ns" \
      --set gpus=8 --set queue="bench-lq-$t" --set job.ttlSecondsAfterFinished=7200 | kc apply -n "$ns" -f - >/dev/null
    kc patch cronjob kiln-trainer -n "$ns" --type merge \
      -p "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"pod-complete.stage.kwok.x-k8s.io/delay\":\"${BENCH_RUN_SECONDS}s\"}}}}}}}" >/dev/null
  done
}

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  cd "$KILN_REPO_ROOT"
  # Every bad knob named at once, before anything is made (scripts/bench/settings.ts).
  tsn scripts/bench/settings.ts || { usage; exit 2; }
  # GPU_RESOURCE and GPU_POOL_LABEL from the GPU contract (contract/gpu.ts).
  eval "$(tsn scripts/cluster/nodes.ts --contract)"
  BENCH_LABEL=$(tsn -e 'const { BENCH_LABEL: l } = require("./scripts/bench/plan"); console.log(`${l.key}=${l.value}`)')
  POOLS=$(objects pools)
  KILN_REAL_NODE=${KILN_REAL_NODE:-false} "$KILN_REPO_ROOT/scripts/cluster/up.sh" >/dev/null
  KUBECTL=$(kubectl_bin)
  if kc get namespace -l "$BENCH_LABEL" -o name | grep -q .; then
    die "bench namespaces from an earlier run still exist (kubectl get ns -l $BENCH_LABEL); wait for them to go or delete them"
  fi
  trap cleanup EXIT INT TERM

  log "registering $BENCH_NODES simulated nodes x $BENCH_GPUS GPUs in pools $POOLS"
  objects nodes >"$KILN_DIR/bench-nodes.json"
  kc apply --server-side --force-conflicts -f "$KILN_DIR/bench-nodes.json" >/dev/null
  local i ready=0
  for ((i = 0; i < 600; i++)); do
    ready=$(kc get nodes -l "$GPU_POOL_LABEL in ($POOLS)" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
    [[ "$ready" -ge "$BENCH_NODES" ]] && break
    sleep 1
  done
  [[ "$ready" -ge "$BENCH_NODES" ]] || die "only $ready of $BENCH_NODES bench nodes became Ready; read $LOG_DIR/kwok.log"

  log "creating $BENCH_TEAMS team namespaces, their ClusterQueues (cohort bench), LocalQueues and Job templates"
  objects namespaces | kc apply -f - >/dev/null
  objects kueue $([[ "$BENCH_HOLD" == true ]] && echo --hold) | kc apply --server-side --force-conflicts -f - >/dev/null
  install_templates

  mkdir -p "$BENCH_OUT_DIR"
  # The plugin as users run it (compiled, as the krew package ships it): from the TypeScript sources every
  # `kubectl kiln` would spend seconds in ts-node before its first request, and `ls` and `usage` are timed.
  # Built into the bench's own directory: a dist/ in the checkout would shadow the sources for cli/bin.
  local plugin="$KILN_DIR/bench-plugin"
  log "building the plugin into $plugin"
  rm -rf "$plugin"
  (cd "$KILN_REPO_ROOT" && npx --no-install tsc -p cli/tsconfig.json --outDir "$plugin" &&
    node -e "require(process.argv[1]).writeAssets(process.argv[2])" "$plugin/cli/src/dashboard/assets.js" "$plugin/cli/src/dashboard/dashboard-assets")
  local token
  token=$(kueue_metrics_token) || { log "no token for Kueue's metrics; its controller figures will be missing"; token=""; }
  BENCH_RUNS=$BENCH_RUNS BENCH_NODES=$BENCH_NODES BENCH_GPUS=$BENCH_GPUS BENCH_POOLS=$BENCH_POOLS BENCH_TEAMS=$BENCH_TEAMS \
    BENCH_MULTI_NODE_SHARE=$BENCH_MULTI_NODE_SHARE BENCH_HOLD=$BENCH_HOLD BENCH_CONCURRENCY=$BENCH_CONCURRENCY BENCH_RUN_SECONDS=$BENCH_RUN_SECONDS \
    BENCH_ACCOUNTANT=$BENCH_ACCOUNTANT BENCH_ACCOUNTANT_INTERVAL=$BENCH_ACCOUNTANT_INTERVAL BENCH_DASHBOARD=$BENCH_DASHBOARD \
    BENCH_TIMEOUT=$BENCH_TIMEOUT BENCH_OUT_DIR=$BENCH_OUT_DIR KILN_DIR=$KILN_DIR KUBECONFIG=$KILN_KUBECONFIG \
    BENCH_KUEUE_METRICS_PORT=$KUEUE_METRICS_PORT BENCH_KUEUE_METRICS_TOKEN=$token \
    BENCH_PLUGIN_MAIN="$plugin/cli/src/main.js" tsn scripts/bench/cluster.ts
}

# One line on purpose: bash reads scripts lazily, so editing this file while it runs stays harmless.
main "$@"; exit $?
