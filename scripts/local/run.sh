#!/usr/bin/env bash
# npm run local: the whole local path on a fresh machine.
#  1. build missing tools (Go module proxy -> ~/.cache/kiln/tools)     scripts/toolchain/build.sh
#  2. start the local cluster (real control plane, simulated nodes)    scripts/cluster/up.sh
#  3. start MinIO on loopback (the stack's external object store)      scripts/local/minio.sh
#  4. pulumi up --stack local with the harness's stack config copy     scripts/local/pulumi.sh
#  5. upload the Auto MPG data set to the datasets bucket              scripts/local/seed.ts
#  6. kubectl create job <run> --from=cronjob/kiln-trainer; wait until Kueue admits it and the
#     scheduler places its pod on a simulated GPU node
#  7. kubectl kiln run-local <run>: the real trainer runs here with the Job's env
#  8. print what was simulated, what was real, and where the model and report are
# The cluster and MinIO keep running afterwards (npm run cluster:down stops both).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"

# Team whose namespace runs the job (default: the first team of the stack config).
KILN_TEAM_NAMESPACE=${KILN_TEAM_NAMESPACE:-}
# Name of the training run (a Job name).
KILN_RUN_NAME=${KILN_RUN_NAME:-"run-$(date +%Y%m%d-%H%M%S)"}
# Seconds to wait for the Job's pod to be admitted and scheduled.
SCHEDULE_TIMEOUT=${SCHEDULE_TIMEOUT:-180}
# Skip the real training step (only deploy and schedule).
KILN_SKIP_TRAIN=${KILN_SKIP_TRAIN:-false}

usage() {
  cat >&2 <<EOF
usage: npm run local   (scripts/local/run.sh; no arguments)
  KILN_RUN_NAME=$KILN_RUN_NAME KILN_TEAM_NAMESPACE=${KILN_TEAM_NAMESPACE:-<first team>} KILN_SKIP_TRAIN=$KILN_SKIP_TRAIN
  KILN_POD_RUN_SECONDS=$KILN_POD_RUN_SECONDS (how long the simulated pod runs before it succeeds)
EOF
}

on_exit() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    echo >&2
    echo "npm run local failed (exit $status). Logs: $LOG_DIR/ (cluster components, minio, pulumi-up.log)." >&2
    echo "The cluster is left running for inspection: npm run cluster:status / npm run cluster:down" >&2
  fi
  exit $status
}

step() { echo >&2; echo "==> $*" >&2; }

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  trap on_exit EXIT
  cd "$KILN_REPO_ROOT"
  [[ -d node_modules ]] || die "node_modules missing: run 'npm ci' first"
  local t0=$SECONDS

  step "1/8 toolchain (cached builds are instant; a cold build takes tens of minutes)"
  "$KILN_REPO_ROOT/scripts/toolchain/build.sh"

  step "2/8 local cluster"
  "$KILN_REPO_ROOT/scripts/cluster/up.sh" >/dev/null
  KUBECTL=$(kubectl_bin)
  export KUBECONFIG=$KILN_KUBECONFIG

  step "3/8 object store (MinIO on loopback)"
  "$HERE/minio.sh" start
  eval "$("$HERE/minio.sh" env)"

  step "4/8 pulumi up --stack local"
  (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/local/stack-config.ts \
    --endpoint "$KILN_S3_ENDPOINT" --access-key-id "$AWS_ACCESS_KEY_ID")
  "$HERE/pulumi.sh" stack select --create local >/dev/null
  printf '%s' "$AWS_SECRET_ACCESS_KEY" | "$HERE/pulumi.sh" config set --secret --path kiln:objectStore.secretAccessKey >/dev/null
  if ! "$HERE/pulumi.sh" up --yes --skip-preview --non-interactive >"$LOG_DIR/pulumi-up.log" 2>&1; then
    tail -n 40 "$LOG_DIR/pulumi-up.log" >&2
    die "pulumi up failed; full output in $LOG_DIR/pulumi-up.log"
  fi
  sed -n '/^Resources:/,/^Duration/p' "$LOG_DIR/pulumi-up.log" >&2

  local ns datasets artifacts
  ns=${KILN_TEAM_NAMESPACE:-$(kc get namespaces -l kiln.dev/team -o jsonpath='{.items[0].metadata.name}')}
  [[ -n "$ns" ]] || die "no team namespace (label kiln.dev/team) found after pulumi up; is kiln:teams set in Pulumi.local.yaml?"
  datasets=$(stack_config_value datasetsBucket datasets)
  artifacts=$(stack_config_value artifactsBucket artifacts)

  step "5/8 data set"
  npx --no-install ts-node --transpile-only scripts/local/seed.ts --endpoint "$KILN_S3_ENDPOINT" --datasets "$datasets" --artifacts "$artifacts"

  step "6/8 launch the default training run: kubectl create job $KILN_RUN_NAME --from=cronjob/kiln-trainer -n $ns"
  kc create job "$KILN_RUN_NAME" --from=cronjob/kiln-trainer -n "$ns"
  local node
  node=$(wait_scheduled "$ns" "$KILN_RUN_NAME") || die "the Job's pod was not scheduled within ${SCHEDULE_TIMEOUT}s: kubectl describe job/$KILN_RUN_NAME -n $ns; kubectl get workloads -n $ns"
  local pool
  pool=$(kc get node "$node" -o jsonpath='{.metadata.labels.kiln\.dev/gpu-pool}')
  echo "pod scheduled on simulated node $node (pool ${pool:-cpu})" >&2

  local trained=false
  if [[ "$KILN_SKIP_TRAIN" != true ]]; then
    step "7/8 kubectl kiln run-local $KILN_RUN_NAME -n $ns (the real trainer, here)"
    [[ -f trainer-image/dist/main.js ]] || npm run build -w trainer-image >"$LOG_DIR/trainer-build.log" 2>&1 || die "trainer build failed: $LOG_DIR/trainer-build.log"
    PATH="$KILN_REPO_ROOT/cli/bin:$PATH" kubectl_plugin run-local "$KILN_RUN_NAME" -n "$ns"
    trained=true
  fi

  step "8/8 summary"
  # The simulated pod finishes on its own clock (KILN_POD_RUN_SECONDS); report its final state.
  local i
  for ((i = 0; i < KILN_POD_RUN_SECONDS + 60; i++)); do
    [[ "$(kc get job "$KILN_RUN_NAME" -n "$ns" -o jsonpath='{.status.succeeded}')" == 1 ]] && break
    sleep 1
  done
  summary "$ns" "$node" "$pool" "$artifacts" "$trained" "$((SECONDS - t0))"
}

# stack_config_value <objectStore key> <default>
stack_config_value() {
  node -e '
    const YAML = require("yaml");
    const doc = YAML.parse(require("fs").readFileSync(process.argv[1], "utf8")) ?? {};
    const v = (doc.config?.["kiln:objectStore"] ?? {})[process.argv[2]];
    console.log(typeof v === "string" ? v : process.argv[3]);' "$KILN_DIR/project/Pulumi.local.yaml" "$1" "$2"
}

# wait_scheduled <ns> <job> -> prints the node name once the Job's pod is bound to one.
wait_scheduled() {
  local ns=$1 job=$2 i node
  for ((i = 0; i < SCHEDULE_TIMEOUT; i++)); do
    node=$(kc get pods -n "$ns" -l "batch.kubernetes.io/job-name=$job" -o jsonpath='{.items[0].spec.nodeName}' 2>/dev/null || true)
    if [[ -n "$node" ]]; then echo "$node"; return 0; fi
    sleep 1
  done
  return 1
}

kubectl_plugin() {
  command -v kubectl-kiln >/dev/null || die "kubectl-kiln not found (expected $KILN_REPO_ROOT/cli/bin/kubectl-kiln)"
  # kubectl refuses global flags before a plugin name: the kubeconfig goes in the environment.
  KUBECONFIG=$KILN_KUBECONFIG "$KUBECTL" kiln "$@"
}

summary() {
  local ns=$1 node=$2 pool=$3 artifacts=$4 trained=$5 secs=$6 phase
  phase=$(kc get job "$KILN_RUN_NAME" -n "$ns" -o jsonpath='{.status.succeeded}')
  cat <<EOF

Done in ${secs}s.
REAL       etcd, kube-apiserver, kube-controller-manager, kube-scheduler, Kueue controller: local processes
           (logs $LOG_DIR); pulumi up of the local stack against them (state .kiln/state);
           MinIO at $KILN_S3_ENDPOINT (data .kiln/minio/data).
SIMULATED  the nodes (KWOK): Job $ns/$KILN_RUN_NAME was admitted by Kueue and its pod scheduled on
           $node (pool ${pool:-cpu}); KWOK marked it Running, then Succeeded after ${KILN_POD_RUN_SECONDS}s
           (Job succeeded pods: ${phase:-0}). No container ran on a node.
EOF
  if [[ "$trained" == true ]]; then
    cat <<EOF
REAL       the training: kubectl kiln run-local ran the trainer on this machine with the Job's env
           (spec from ConfigMap kiln-run-spec, credentials from Secret kiln-object-store).
Results in MinIO ($KILN_S3_ENDPOINT, credentials in .kiln/minio/credentials):
EOF
    npx --no-install ts-node --transpile-only scripts/local/results.ts --endpoint "$KILN_S3_ENDPOINT" \
      --bucket "$artifacts" --prefix "runs/$KILN_RUN_NAME/" 2>/dev/null || echo "  (nothing under s3://$artifacts/runs/$KILN_RUN_NAME/: the trainer wrote no output)"
  fi
  cat <<EOF

  export KUBECONFIG=$KILN_KUBECONFIG
  kubectl get jobs,pods -n $ns -o wide
  npm run cluster:down    # stops the cluster and MinIO
EOF
}

main "$@"; exit $?
