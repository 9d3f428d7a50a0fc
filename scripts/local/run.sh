#!/usr/bin/env bash
# npm run local: the whole local path on a fresh machine.
#  0. check every prerequisite in its first seconds; as root, install missing Debian packages   scripts/preflight.sh
#  1. build missing tools (Go module proxy -> ~/.cache/kiln/tools)            scripts/toolchain/build.sh
#  2. build the trainer image from trainer-image/Dockerfile (no registry)     scripts/image/build.sh
#     (with a cold toolchain it builds in the background during step 1: KILN_OVERLAP_IMAGE_BUILD)
#  3. start the local cluster: real control plane, KWOK nodes, one real node   scripts/cluster/up.sh
#  4. import the image into the real node's containerd                        scripts/image/load.sh
#  5. start MinIO on the real node's address (the stack's external store)     scripts/local/minio.sh
#  6. pulumi up --stack local with the harness's stack config copy            scripts/local/pulumi.sh
#  7. upload the Auto MPG data set to the datasets bucket                     scripts/local/seed.ts
#  8. kubectl create job <run> --from=cronjob/kiln-trainer: Kueue admits it, its pod runs the trainer
#     image on the real node, reads the data from MinIO and writes the model, metrics, report and
#     checkpoints back; its log is followed with kubectl kiln logs -f (waits for the container, resumes)
#  9. print what was real, what was simulated, the run's objects in the store and each step's time
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
# Build the images in the background while a cold toolchain builds (independent inputs; the image build
# is mostly downloads and podman, the Go builds are CPU-bound). false: one after the other.
KILN_OVERLAP_IMAGE_BUILD=${KILN_OVERLAP_IMAGE_BUILD:-true}

usage() {
  cat >&2 <<EOF
usage: npm run local   (scripts/local/run.sh; no arguments)
  KILN_RUN_NAME=$KILN_RUN_NAME KILN_TEAM_NAMESPACE=${KILN_TEAM_NAMESPACE:-<first team>}
  SCHEDULE_TIMEOUT=$SCHEDULE_TIMEOUT RUN_TIMEOUT=$RUN_TIMEOUT KILN_EXTRA_CA_CERTS=<PEM file for the image build>
  KILN_OVERLAP_IMAGE_BUILD=$KILN_OVERLAP_IMAGE_BUILD
EOF
}

# PID (and session) of the image build running beside the toolchain build; "" when none.
IMAGE_BUILD_PID=""

on_exit() {
  local status=$?
  if [[ -n "$IMAGE_BUILD_PID" ]] && kill -0 "$IMAGE_BUILD_PID" 2>/dev/null; then
    kill -TERM -- "-$IMAGE_BUILD_PID" 2>/dev/null || true
  fi
  if [[ $status -ne 0 ]]; then
    step_times
    echo >&2
    echo "npm run local failed (exit $status). Logs: $LOG_DIR/ (cluster components, kubelet, containerd, minio, pulumi-up.log, image-build.log)." >&2
    echo "The cluster is left running for inspection: npm run cluster:status / npm run cluster:down" >&2
  fi
  exit $status
}

# Each step's label and start (SECONDS), for the closing table of step times.
STEP_LABELS=()
STEP_STARTS=()
step() {
  STEP_LABELS+=("${1%% (*}")
  STEP_STARTS+=("$SECONDS")
  echo >&2
  echo "==> $*" >&2
}

# step_times: how long each step took (the last one until now).
step_times() {
  local i end
  [[ ${#STEP_LABELS[@]} -gt 0 ]] || return 0
  echo >&2
  echo "Step times:" >&2
  for ((i = 0; i < ${#STEP_LABELS[@]}; i++)); do
    end=${STEP_STARTS[$((i + 1))]:-$SECONDS}
    printf '  %-48s %5ss\n' "${STEP_LABELS[$i]:0:48}" "$((end - STEP_STARTS[i]))" >&2
  done
}

# start_image_build: scripts/image/build.sh in a session of its own in the background, output in its log.
start_image_build() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  echo "the trainer and accountant images build meanwhile, in the background (log: $LOG_DIR/image-build.log)" >&2
  setsid "$KILN_REPO_ROOT/scripts/image/build.sh" >"$RUN_DIR/image-ref" 2>"$LOG_DIR/image-build.log" </dev/null &
  IMAGE_BUILD_PID=$!
}

# finish_image_build: waits for the background image build (dies if it failed); its reference is in $RUN_DIR/image-ref.
finish_image_build() {
  local status=0
  kill -0 "$IMAGE_BUILD_PID" 2>/dev/null && echo "waiting for the background image build (log: $LOG_DIR/image-build.log)" >&2
  wait "$IMAGE_BUILD_PID" || status=$?
  if [[ $status -ne 0 ]]; then
    tail -n 20 "$LOG_DIR/image-build.log" >&2
    die "the image build failed (exit $status); full output in $LOG_DIR/image-build.log"
  fi
  tail -n 3 "$LOG_DIR/image-build.log" >&2
}

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  cd "$KILN_REPO_ROOT"
  # Every prerequisite in the first seconds (root, Go, Debian packages, disk, ports, kernel); as root it
  # installs missing packages itself, else it stops here naming the command to run.
  bash "$KILN_REPO_ROOT/scripts/preflight.sh" local
  trap on_exit EXIT
  local t0=$SECONDS image

  step "1/9 toolchain (cached builds are instant; a cold build takes tens of minutes)"
  # (awk reads the whole list: `grep -q` could exit first and fail the pipeline with SIGPIPE under pipefail.)
  if [[ "$KILN_OVERLAP_IMAGE_BUILD" == true && -n "$("$KILN_REPO_ROOT/scripts/toolchain/build.sh" --list | awk '$NF == "missing"')" ]]; then
    start_image_build
  fi
  "$KILN_REPO_ROOT/scripts/toolchain/build.sh"

  step "2/9 trainer image (rebuilt only when its inputs change)"
  # Not in $(...): the background build is a child of this shell only, and `wait` must run here.
  if [[ -n "$IMAGE_BUILD_PID" ]]; then
    finish_image_build
    IMAGE_BUILD_PID=""
    image=$(tail -n 1 "$RUN_DIR/image-ref")
  else
    image=$("$KILN_REPO_ROOT/scripts/image/build.sh")
  fi

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
    --accountant-image "$("$KILN_REPO_ROOT/scripts/image/build.sh" --print-accountant-ref)" \
    --api-server "$(cat "$RUN_DIR/node-ip"):$APISERVER_PORT"
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
  # GPU_RESOURCE and GPU_POOL_LABEL from the GPU contract (contract/gpu.ts).
  eval "$(npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --contract)"
  pool=$(kc get node "$node" -o jsonpath="{.metadata.labels.${GPU_POOL_LABEL//./\\.}}")
  [[ "$node" == "$NODE_NAME" ]] || die "the run's pod was scheduled on $node, which is not the real node $NODE_NAME"
  echo "admitted by Kueue; pod scheduled on the real node $node (pool ${pool:-cpu}); its log (kubectl kiln logs -f --raw):" >&2
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

# follow_run <ns> <job>: streams the trainer's log through the kubelet to stderr until the Job finishes
# (kubectl kiln logs -f: it waits until the container runs or has ended, resumes a broken stream without
# repeating a line and follows a retried pod); prints the Job's end state: Complete, Failed or Timeout.
follow_run() {
  local ns=$1 job=$2 i state
  # Bounded: a container that never starts (an image pull that fails) would otherwise be waited on for ever.
  timeout "$RUN_TIMEOUT" env KILN_CLI_FROM_SOURCE=1 "$KILN_REPO_ROOT/cli/bin/kubectl-kiln" logs "$job" -f --raw -n "$ns" --kubeconfig "$KILN_KUBECONFIG" 2>&1 |
    sed 's/^/  | /' >&2 || echo "  (following the log failed; the run goes on: kubectl kiln logs $job -n $ns)" >&2
  for ((i = 0; i < RUN_TIMEOUT; i++)); do
    state=$(kc get job "$job" -n "$ns" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' | grep -xE 'Complete|Failed' | head -1 || true)
    if [[ -n "$state" ]]; then echo "$state"; return 0; fi
    sleep 1
  done
  echo Timeout
}

summary() {
  local ns=$1 node=$2 pool=$3 artifacts=$4 status=$5 image=$6 secs=$7 pod
  pod=$(kc get pods -n "$ns" -l "batch.kubernetes.io/job-name=$KILN_RUN_NAME" -o jsonpath='{.items[-1:].metadata.name}')
  cat <<EOF

Run $ns/$KILN_RUN_NAME: $status; ${secs}s for the whole of npm run local.
REAL       etcd, kube-apiserver, kube-controller-manager, kube-scheduler, Kueue, JobSet: local processes (logs $LOG_DIR);
           CoreDNS on the node's address (cluster DNS: Service names, a multi-node run's rank host names)
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
  step_times
}

main "$@"; exit $?
