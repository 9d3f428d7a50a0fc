#!/usr/bin/env bash
# npm run local: the whole local path on a fresh machine.
#  1. build missing tools (Go module proxy -> ~/.cache/kiln/tools)            scripts/toolchain/build.sh
#  2. build the trainer image from trainer-image/Dockerfile (no registry)     scripts/image/build.sh
#  3. start the local cluster: real control plane, KWOK nodes, one real node   scripts/cluster/up.sh
#  4. import the image into the real node's containerd                        scripts/image/load.sh
#  5. start MinIO on the real node's address (the stack's external store)     scripts/local/minio.sh
#  6. pulumi up --stack local with the harness's stack config copy            scripts/local/pulumi.sh
#  7. upload the Auto MPG data set to the datasets bucket                     scripts/local/seed.ts
#  8. kubectl create job <run> --from=cronjob/kiln-trainer: Kueue admits it, its pod runs the trainer
#     image on the real node, reads the data from MinIO and writes the model, metrics, report and
#     checkpoints back; its log is followed with kubectl logs -f
#  9. print what was real, what was simulated, and the run's objects in the store
# The cluster and MinIO keep running afterwards (npm run cluster:down stops both).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"
# shellcheck source=../cluster/node.sh
source "$HERE/../cluster/node.sh"

# Team whose namespace runs the job (default: the first team of the stack config).
KILN_TEAM_NAMESPACE=${KILN_TEAM_NAMESPACE:-}
# Name of the training run (a Job name).
KILN_RUN_NAME=${KILN_RUN_NAME:-"run-$(date +%Y%m%d-%H%M%S)"}
# Seconds to wait for the Job's pod to be admitted and scheduled.
SCHEDULE_TIMEOUT=${SCHEDULE_TIMEOUT:-180}
# The kube-system UID of the cluster the local stack was last deployed to (shared with the e2e harness).
STACK_CLUSTER_FILE="$RUN_DIR/stack-cluster"
# Seconds to wait for the run to finish once its log ends.
RUN_TIMEOUT=${RUN_TIMEOUT:-1200}

usage() {
  cat >&2 <<EOF
usage: npm run local   (scripts/local/run.sh; no arguments)
  KILN_RUN_NAME=$KILN_RUN_NAME KILN_TEAM_NAMESPACE=${KILN_TEAM_NAMESPACE:-<first team>}
  SCHEDULE_TIMEOUT=$SCHEDULE_TIMEOUT RUN_TIMEOUT=$RUN_TIMEOUT KILN_EXTRA_CA_CERTS=<PEM file for the image build>
EOF
}

on_exit() {
  local status=$?
  if [[ $status -ne 0 ]]; then
    echo >&2
    echo "npm run local failed (exit $status). Logs: $LOG_DIR/ (cluster components, kubelet, containerd, minio, pulumi-up.log)." >&2
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
  [[ "$KILN_REAL_NODE" == true ]] || die "npm run local trains on the real node; unset KILN_REAL_NODE (it is '$KILN_REAL_NODE')"
  local t0=$SECONDS image

  step "1/9 toolchain (cached builds are instant; a cold build takes tens of minutes)"
  "$KILN_REPO_ROOT/scripts/toolchain/build.sh"

  step "2/9 trainer image (rebuilt only when its inputs change)"
  image=$("$KILN_REPO_ROOT/scripts/image/build.sh")

  step "3/9 local cluster"
  "$KILN_REPO_ROOT/scripts/cluster/up.sh" >/dev/null
  KUBECTL=$(kubectl_bin)
  export KUBECONFIG=$KILN_KUBECONFIG

  step "4/9 images into the real node: $image and the accountant"
  "$KILN_REPO_ROOT/scripts/image/load.sh" "$image" "$("$KILN_REPO_ROOT/scripts/image/build.sh" --print-accountant-ref)" >/dev/null

  step "5/9 object store (MinIO on the real node's address)"
  "$HERE/minio.sh" start
  eval "$("$HERE/minio.sh" env)"

  step "6/9 pulumi up --stack local"
  npx --no-install ts-node --transpile-only scripts/local/stack-config.ts \
    --endpoint "$KILN_S3_ENDPOINT" --access-key-id "$AWS_ACCESS_KEY_ID" --trainer-image "$image" \
    --accountant-image "$("$KILN_REPO_ROOT/scripts/image/build.sh" --print-accountant-ref)"
  "$HERE/pulumi.sh" stack select --create local >/dev/null
  printf '%s' "$AWS_SECRET_ACCESS_KEY" | "$HERE/pulumi.sh" config set --secret --path kiln:objectStore.secretAccessKey >/dev/null
  # cluster:down wipes the cluster's etcd, not the stack's state: on a cluster the stack was not
  # deployed to (its kube-system UID differs), refresh first so that what is gone gets created again.
  # (Not on the same cluster: a refresh there reads back Kueue's defaults and the next apply conflicts.)
  local uid refresh=()
  uid=$(kc get namespace kube-system -o jsonpath='{.metadata.uid}')
  [[ "$(cat "$STACK_CLUSTER_FILE" 2>/dev/null)" == "$uid" ]] || refresh=(--refresh)
  if ! "$HERE/pulumi.sh" up --yes --skip-preview "${refresh[@]}" --non-interactive >"$LOG_DIR/pulumi-up.log" 2>&1; then
    tail -n 40 "$LOG_DIR/pulumi-up.log" >&2
    die "pulumi up failed; full output in $LOG_DIR/pulumi-up.log"
  fi
  echo "$uid" >"$STACK_CLUSTER_FILE"
  sed -n '/^Resources:/,/^Duration/p' "$LOG_DIR/pulumi-up.log" >&2

  local ns datasets artifacts
  ns=${KILN_TEAM_NAMESPACE:-$(kc get namespaces -l kiln.dev/team -o jsonpath='{.items[0].metadata.name}')}
  [[ -n "$ns" ]] || die "no team namespace (label kiln.dev/team) found after pulumi up; is kiln:teams set in Pulumi.local.yaml?"
  datasets=$(stack_config_value datasetsBucket datasets)
  artifacts=$(stack_config_value artifactsBucket artifacts)

  step "7/9 data set"
  npx --no-install ts-node --transpile-only scripts/local/seed.ts --endpoint "$KILN_S3_ENDPOINT" --datasets "$datasets" --artifacts "$artifacts"

  step "8/9 the default training run: kubectl create job $KILN_RUN_NAME --from=cronjob/kiln-trainer -n $ns"
  kc create job "$KILN_RUN_NAME" --from=cronjob/kiln-trainer -n "$ns"
  local node pool status
  node=$(wait_scheduled "$ns" "$KILN_RUN_NAME") || die "the Job's pod was not scheduled within ${SCHEDULE_TIMEOUT}s: kubectl describe job/$KILN_RUN_NAME -n $ns; kubectl get workloads -n $ns"
  # GPU_RESOURCE and GPU_POOL_LABEL from the GPU contract (infra/contract/gpu.ts).
  eval "$(npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --contract)"
  pool=$(kc get node "$node" -o jsonpath="{.metadata.labels.${GPU_POOL_LABEL//./\\.}}")
  [[ "$node" == "$NODE_NAME" ]] || die "the run's pod was scheduled on $node, which is not the real node $NODE_NAME"
  echo "admitted by Kueue; pod scheduled on the real node $node (pool ${pool:-cpu}); its log (kubectl logs -f):" >&2
  status=$(follow_run "$ns" "$KILN_RUN_NAME")

  step "9/9 summary"
  summary "$ns" "$node" "$pool" "$artifacts" "$status" "$image" "$((SECONDS - t0))"
  [[ "$status" == Complete ]] || die "run $KILN_RUN_NAME ended $status: PATH=\"\$PWD/cli/bin:\$PATH\" kubectl kiln status $KILN_RUN_NAME -n $ns"
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

# follow_run <ns> <job>: streams the pod's log through the kubelet (kubectl logs -f) to stderr until the
# Job finishes; prints its end state: Complete, Failed or Timeout.
follow_run() {
  local ns=$1 job=$2 i state
  kc logs -f "job/$job" -n "$ns" --pod-running-timeout=120s 2>&1 | sed 's/^/  | /' >&2 || true
  for ((i = 0; i < RUN_TIMEOUT; i++)); do
    state=$(kc get job "$job" -n "$ns" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' | grep -xE 'Complete|Failed' | head -1 || true)
    if [[ -n "$state" ]]; then echo "$state"; return 0; fi
    # A retried pod (after a pod loss) has a log of its own.
    if ((i % 15 == 14)); then kc logs -f "job/$job" -n "$ns" --pod-running-timeout=60s 2>&1 | sed 's/^/  | /' >&2 || true; fi
    sleep 1
  done
  echo Timeout
}

summary() {
  local ns=$1 node=$2 pool=$3 artifacts=$4 status=$5 image=$6 secs=$7 pod
  pod=$(kc get pods -n "$ns" -l "batch.kubernetes.io/job-name=$KILN_RUN_NAME" -o jsonpath='{.items[-1:].metadata.name}')
  cat <<EOF

Run $ns/$KILN_RUN_NAME: $status; ${secs}s for the whole of npm run local.
REAL       etcd, kube-apiserver, kube-controller-manager, kube-scheduler, Kueue: local processes (logs $LOG_DIR)
REAL       pulumi up of the local stack against them (state .kiln/state)
REAL       node $node: kubelet $KUBERNETES_VERSION, containerd, runc, CNI bridge; pod $pod ran the image
           $image, built here from trainer-image/Dockerfile, as uid 10001 with a read-only root filesystem
REAL       MinIO at $KILN_S3_ENDPOINT (data .kiln/minio/data): the pod read the data set and wrote the run
SIMULATED  the GPU: $node advertises $GPU_RESOURCE (pool ${pool:-cpu}) with no GPU behind it; the trainer
           trained on the CPU (its "backend" log line names the backend and why)
SIMULATED  $(kc get nodes -l type=kwok --no-headers 2>/dev/null | wc -l | tr -d ' ') KWOK nodes (for scale tests and the bench; pods land there only if they tolerate their taint)
Results in MinIO ($KILN_S3_ENDPOINT, credentials in .kiln/minio/credentials):
EOF
  npx --no-install ts-node --transpile-only scripts/local/results.ts --endpoint "$KILN_S3_ENDPOINT" \
    --bucket "$artifacts" --prefix "runs/$KILN_RUN_NAME/" 2>/dev/null || echo "  (nothing under s3://$artifacts/runs/$KILN_RUN_NAME/: the trainer wrote no output)"
  cat <<EOF

  export KUBECONFIG=$KILN_KUBECONFIG
  kubectl get jobs,pods -n $ns -o wide
  PATH="\$PWD/cli/bin:\$PATH" kubectl kiln logs $KILN_RUN_NAME -n $ns
  npm run cluster:down    # stops the cluster, the real node and MinIO
EOF
}

main "$@"; exit $?
