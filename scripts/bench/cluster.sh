#!/usr/bin/env bash
# npm run bench:cluster: scheduling throughput of the local cluster with the kubectl-kiln plugin.
# Registers BENCH_NODES simulated GPU nodes x BENCH_GPUS GPUs (pool "bench"), installs the trainer
# chart's Job template in namespace kiln-bench (gpus=1, gpuPool=bench, no Kueue queue: this measures
# the API server + scheduler path, not quota), submits BENCH_RUNS one-GPU runs through the plugin
# (`kubectl kiln submit`, in-process), and prints submits/s, time until all runs were scheduled and
# GPU allocation %. Removes its namespace and nodes afterwards unless BENCH_KEEP=true.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"

# Simulated GPU nodes and GPUs per node of the bench pool.
BENCH_NODES=${BENCH_NODES:-100}
BENCH_GPUS=${BENCH_GPUS:-8}
# One-GPU runs submitted.
BENCH_RUNS=${BENCH_RUNS:-1000}
# Submissions in flight at once.
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-16}
# Namespace and pool name of the bench.
BENCH_NAMESPACE=${BENCH_NAMESPACE:-kiln-bench}
BENCH_POOL=${BENCH_POOL:-bench}
# Keep the bench namespace and nodes afterwards.
BENCH_KEEP=${BENCH_KEEP:-false}
# Seconds each simulated run holds its GPU (KWOK pod-complete delay, set on the bench template's pods):
# longer than the submission phase, so the pool saturates and later runs wait for GPUs to free up.
BENCH_RUN_SECONDS=${BENCH_RUN_SECONDS:-60}
# Give up waiting for scheduling after this many seconds.
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}

usage() {
  echo "usage: npm run bench:cluster   (BENCH_RUN_SECONDS=$BENCH_RUN_SECONDS BENCH_NODES=$BENCH_NODES BENCH_GPUS=$BENCH_GPUS BENCH_RUNS=$BENCH_RUNS BENCH_CONCURRENCY=$BENCH_CONCURRENCY)" >&2
}

cleanup() {
  local status=$?
  if [[ "$BENCH_KEEP" != true && -n "${KUBECTL:-}" ]]; then
    log "removing namespace $BENCH_NAMESPACE and the $BENCH_POOL nodes"
    kc delete namespace "$BENCH_NAMESPACE" --ignore-not-found --timeout 180s >/dev/null 2>&1 || true
    kc delete nodes -l "$GPU_POOL_LABEL=$BENCH_POOL" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  exit $status
}

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  cd "$KILN_REPO_ROOT"
  # GPU_RESOURCE and GPU_POOL_LABEL from the GPU contract (contract/gpu.ts).
  eval "$(npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --contract)"
  "$KILN_REPO_ROOT/scripts/cluster/up.sh" >/dev/null
  KUBECTL=$(kubectl_bin)
  local helm
  helm="$(dirname "$KUBECTL")/helm"
  trap cleanup EXIT INT TERM

  log "registering $BENCH_NODES simulated GPU nodes x $BENCH_GPUS GPUs (pool $BENCH_POOL)"
  npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --cpu-nodes 0 --pool "$BENCH_POOL=${BENCH_NODES}x$BENCH_GPUS" >"$KILN_DIR/bench-nodes.json"
  kc apply --server-side --force-conflicts -f "$KILN_DIR/bench-nodes.json" >/dev/null
  local i ready=0
  for ((i = 0; i < 300; i++)); do
    ready=$(kc get nodes -l "$GPU_POOL_LABEL=$BENCH_POOL" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
    [[ "$ready" -ge "$BENCH_NODES" ]] && break
    sleep 1
  done
  [[ "$ready" -ge "$BENCH_NODES" ]] || die "only $ready of $BENCH_NODES bench nodes became Ready; read $LOG_DIR/kwok.log"

  log "installing the trainer Job template in namespace $BENCH_NAMESPACE"
  kc create namespace "$BENCH_NAMESPACE" --dry-run=client -o yaml | kc apply -f - >/dev/null
  "$helm" template kiln-trainer charts/trainer --namespace "$BENCH_NAMESPACE" \
    --set gpus=1 --set gpuPool="$BENCH_POOL" --set queue="" --set job.ttlSecondsAfterFinished=3600 \
    | kc apply -n "$BENCH_NAMESPACE" -f - >/dev/null
  kc patch cronjob kiln-trainer -n "$BENCH_NAMESPACE" --type merge \
    -p "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"pod-complete.stage.kwok.x-k8s.io/delay\":\"${BENCH_RUN_SECONDS}s\"}}}}}}}" >/dev/null
  # The bench pool is simulated: its runs tolerate the simulated-node taint (scripts/cluster/nodes.ts).
  local toleration
  toleration=$(npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --simulated-toleration)
  kc patch cronjob kiln-trainer -n "$BENCH_NAMESPACE" --type json \
    -p "[{\"op\":\"add\",\"path\":\"/spec/jobTemplate/spec/template/spec/tolerations/-\",\"value\":$toleration}]" >/dev/null

  BENCH_NAMESPACE=$BENCH_NAMESPACE BENCH_RUNS=$BENCH_RUNS BENCH_CONCURRENCY=$BENCH_CONCURRENCY BENCH_TIMEOUT=$BENCH_TIMEOUT \
    BENCH_TOTAL_GPUS=$((BENCH_NODES * BENCH_GPUS)) BENCH_POOL=$BENCH_POOL KUBECONFIG=$KILN_KUBECONFIG \
    KILN_POD_RUN_SECONDS=$BENCH_RUN_SECONDS \
    npx --no-install ts-node --transpile-only scripts/bench/cluster.ts
}

main "$@"; exit $?
