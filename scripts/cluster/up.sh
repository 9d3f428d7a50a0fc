#!/usr/bin/env bash
# Start a real local Kubernetes control plane with one real node and simulated ones (npm run cluster:up):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler (real binaries, local processes),
# the KWOK controller (simulated nodes; pods on them go ContainerCreating, Running, then Succeeded
# after KILN_POD_RUN_SECONDS when owned by a Job), the Kueue controller (webhooks not registered), and the
# real worker node (kubelet + containerd, scripts/cluster/node.sh; KILN_REAL_NODE=false skips it).
# Registers ceil(maxGpus/gpusPerNode) GPU nodes per kiln:gpuPools entry of Pulumi.local.yaml (tainted
# as simulated) plus KILN_CPU_NODES CPU nodes. Idempotent: if the cluster is already up it reports and exits 0.
# Settings: see scripts/cluster/env.sh (every one overridable from the environment).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$HERE/env.sh"
# shellcheck source=pki.sh
source "$HERE/pki.sh"
# shellcheck source=node.sh
source "$HERE/node.sh"

usage() {
  cat >&2 <<EOF
usage: $0 [-h]
Starts the local cluster; writes $KILN_KUBECONFIG; logs in $LOG_DIR/<component>.log.
  KILN_POD_RUN_SECONDS=$KILN_POD_RUN_SECONDS  KILN_CPU_NODES=$KILN_CPU_NODES  KILN_KUEUE=$KILN_KUEUE
  KILN_NODES_CONFIG=$KILN_NODES_CONFIG  KILN_EXTRA_POOLS=$KILN_EXTRA_POOLS
  ports: etcd $ETCD_PORT/$ETCD_PEER_PORT apiserver $APISERVER_PORT controller-manager $CONTROLLER_MANAGER_PORT
         scheduler $SCHEDULER_PORT kwok $KWOK_PORT kueue $KUEUE_HEALTH_PORT/$KUEUE_METRICS_PORT/$KUEUE_WEBHOOK_PORT
Build the binaries first with: npm run tools:build
EOF
}

STARTED=()

cleanup() {
  local status=$?
  if [[ $status -ne 0 && ${#STARTED[@]} -gt 0 ]]; then
    log "cluster:up failed (exit $status); stopping what this run started: ${STARTED[*]}"
    local i
    [[ " ${STARTED[*]} " == *" containerd "* ]] && { stop_real_node 2>/dev/null || true; }
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_component "${STARTED[$i]}" 2>/dev/null || true; done
  fi
  exit $status
}

preflight() {
  local b missing=()
  for b in "$ETCD_BIN" "$KUBE_BIN_DIR/kube-apiserver" "$KUBE_BIN_DIR/kube-controller-manager" "$KUBE_BIN_DIR/kube-scheduler" "$KWOK_BIN"; do
    [[ -x "$b" ]] || missing+=("$b")
  done
  if [[ "$KILN_KUEUE" == true ]]; then
    [[ -x "$KUEUE_BIN" ]] || missing+=("$KUEUE_BIN")
    compgen -G "$KUEUE_CRD_DIR/*.yaml" >/dev/null || missing+=("$KUEUE_CRD_DIR/*.yaml")
  fi
  if [[ "$KILN_JOBSET" == true ]]; then
    [[ -x "$JOBSET_BIN" ]] || missing+=("$JOBSET_BIN")
    compgen -G "$JOBSET_CRD_DIR/*.yaml" >/dev/null || missing+=("$JOBSET_CRD_DIR/*.yaml")
  fi
  [[ ${#missing[@]} -eq 0 ]] || die "missing binaries (build them with 'npm run tools:build'):$(printf '\n  %s' "${missing[@]}")"
  [[ "$KILN_REAL_NODE" == true ]] && real_node_preflight
  for b in openssl curl node; do command -v "$b" >/dev/null || die "'$b' not found on PATH"; done
  local entry name var port ports=(etcd:ETCD_PORT etcd-peer:ETCD_PEER_PORT kube-apiserver:APISERVER_PORT
    kube-controller-manager:CONTROLLER_MANAGER_PORT kube-scheduler:SCHEDULER_PORT kwok:KWOK_PORT)
  [[ "$KILN_KUEUE" == true ]] && ports+=(kueue-health:KUEUE_HEALTH_PORT kueue-metrics:KUEUE_METRICS_PORT kueue-webhook:KUEUE_WEBHOOK_PORT)
  [[ "$KILN_JOBSET" == true ]] && ports+=(jobset-health:JOBSET_HEALTH_PORT jobset-metrics:JOBSET_METRICS_PORT jobset-webhook:JOBSET_WEBHOOK_PORT)
  for entry in "${ports[@]}"; do
    name=${entry%%:*} var=${entry##*:} port=${!var}
    port_in_use "$port" && die "port $port (for $name) is already in use on 127.0.0.1; stop whatever listens there (ss -ltnp 'sport = :$port') or set $var"
  done
  return 0
}

# start <component> <command...>: background process in its own session, log + PID recorded.
start() {
  local component=$1
  shift
  log "starting $component (log: $LOG_DIR/$component.log)"
  setsid "$@" >"$LOG_DIR/$component.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$component")"
  STARTED+=("$component")
}

start_etcd() {
  mkdir -p "$ETCD_DATA_DIR" && chmod 700 "$ETCD_DATA_DIR"
  start etcd "$ETCD_BIN" --name kiln --data-dir "$ETCD_DATA_DIR" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kiln=http://127.0.0.1:$ETCD_PEER_PORT" --quota-backend-bytes $((2 * 1024 * 1024 * 1024)) \
    --log-level warn
  wait_for etcd "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
}

start_apiserver() {
  start kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --client-ca-file "$PKI_DIR/ca.crt" \
    --service-account-key-file "$PKI_DIR/sa.pub" --service-account-signing-key-file "$PKI_DIR/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI_DIR/ca.crt" --kubelet-preferred-address-types InternalIP \
    --allow-privileged=true \
    --max-requests-inflight 1000 --max-mutating-requests-inflight 500 \
    --cert-dir "$PKI_DIR/apiserver-generated"
  wait_for kube-apiserver "$READY_TIMEOUT" https_ok "https://127.0.0.1:$APISERVER_PORT/readyz"
}

start_controller_manager() {
  local kcfg="$PKI_DIR/kube-controller-manager.kubeconfig"
  # Client rate: HARNESS_CLIENT_RATE of scripts/cluster/scheduler-config.ts, as JobSet's below (a test ties them).
  start kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$kcfg" --authentication-kubeconfig "$kcfg" --authorization-kubeconfig "$kcfg" \
    --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" \
    --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI_DIR/sa.key" --root-ca-file "$PKI_DIR/ca.crt" \
    --cluster-name kiln-local --kube-api-qps 200 --kube-api-burst 400 \
    --concurrent-job-syncs 20 --concurrent-gc-syncs 20 \
    --node-monitor-grace-period 300s
  wait_for kube-controller-manager "$READY_TIMEOUT" curl -skf --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
}

start_scheduler() {
  local kcfg="$PKI_DIR/kube-scheduler.kubeconfig" cfg="$KILN_DIR/kube-scheduler.yaml"
  (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/scheduler-config.ts --kubeconfig "$kcfg") >"$cfg"
  start kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" --config "$cfg" \
    --authentication-kubeconfig "$kcfg" --authorization-kubeconfig "$kcfg" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT"
  wait_for kube-scheduler "$READY_TIMEOUT" curl -skf --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"
}

# KWOK's own stages (unmodified, from the kwok module) + Kiln's pod-complete with the run time.
# Pods follow KWOK's general profile, the states a kubelet reports: bound -> Pending/ContainerCreating
# (pod-create, 1-5 s) -> Running/Ready (pod-ready, 1-5 s later) -> Succeeded (Kiln's pod-complete).
kwok_stage_dir() {
  local dir
  dir=$(dirname "$KWOK_BIN")/../stages
  if [[ ! -d "$dir" ]]; then
    dir=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" 2>/dev/null | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
  fi
  [[ -d "$dir" ]] || die "KWOK stage files not found (next to $KWOK_BIN or in the Go module cache); run 'npm run tools:build kwok'"
  echo "$dir"
}

start_kwok() {
  local cfg="$KILN_DIR/kwok.yaml" stages f
  stages=$(kwok_stage_dir)
  {
    cat "$HERE/kwok/kwok.yaml"
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml pod/general/pod-create.yaml \
      pod/general/pod-init-container-running.yaml pod/general/pod-init-container-completed.yaml pod/general/pod-ready.yaml \
      pod/fast/pod-delete.yaml; do
      echo "---"
      cat "$stages/$f"
    done
    echo "---"
    sed "s/__RUN_MS__/$((KILN_POD_RUN_SECONDS * 1000))/" "$HERE/kwok/pod-complete.yaml"
  } >"$cfg"
  start kwok "$KWOK_BIN" --config "$cfg" --kubeconfig "$PKI_DIR/kwok.kubeconfig" \
    --server-address "127.0.0.1:$KWOK_PORT" --cidr 10.244.0.0/16 --node-ip 10.0.0.1
  wait_for kwok "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"
}

register_nodes() {
  local args=(--config "$KILN_NODES_CONFIG" --cpu-nodes "$KILN_CPU_NODES") p
  if [[ -n "$KILN_EXTRA_POOLS" ]]; then
    IFS=, read -ra extra <<<"$KILN_EXTRA_POOLS"
    for p in "${extra[@]}"; do args+=(--pool "$p"); done
  fi
  log "registering simulated nodes from $KILN_NODES_CONFIG"
  (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts "${args[@]}") >"$KILN_DIR/nodes.json"
  kc apply --server-side --force-conflicts -f "$KILN_DIR/nodes.json" >/dev/null
  local want
  want=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).items.length)' "$KILN_DIR/nodes.json")
  wait_for kwok "$READY_TIMEOUT" nodes_ready "$want"
  log "$want simulated nodes Ready"
}

# nodes_ready <n>: at least n nodes managed by KWOK report Ready=True.
nodes_ready() {
  local n
  n=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
  [[ "$n" -ge "$1" ]]
}

# crds_established <crd>...: every named CRD reports Established=True.
crds_established() {
  local crd
  for crd in "$@"; do
    [[ "$(kc get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" == True ]] || return 1
  done
}

start_kueue() {
  [[ "$KILN_KUEUE" == true ]] || return 0
  log "installing Kueue CRDs ($KUEUE_VERSION)"
  kc apply --server-side --force-conflicts -f "$KUEUE_CRD_DIR" >/dev/null
  wait_for kube-apiserver 60 crds_established clusterqueues.kueue.x-k8s.io workloads.kueue.x-k8s.io localqueues.kueue.x-k8s.io resourceflavors.kueue.x-k8s.io
  kc create namespace kueue-system --dry-run=client -o yaml | kc apply -f - >/dev/null
  # The cert rotator fills this Secret; it must exist (Kueue's chart creates it empty too).
  kc create secret generic kueue-webhook-server-cert -n kueue-system --dry-run=client -o yaml | kc apply -f - >/dev/null
  local cfg="$KILN_DIR/kueue.yaml"
  (cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/kueue-config.ts \
    --health-port "$KUEUE_HEALTH_PORT" --metrics-port "$KUEUE_METRICS_PORT" --webhook-port "$KUEUE_WEBHOOK_PORT" \
    --cert-dir "$KILN_DIR/kueue-certs" $([[ "$KILN_JOBSET" == true ]] || echo --no-jobset)) >"$cfg"
  start kueue env KUBECONFIG="$PKI_DIR/kueue.kubeconfig" "$KUEUE_BIN" --config "$cfg" --feature-gates VisibilityOnDemand=false
  mkdir -p "$KILN_DIR/kueue-certs" && chmod 700 "$KILN_DIR/kueue-certs"
  wait_for kueue "$READY_TIMEOUT" mount_kueue_certs
  wait_for kueue "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$KUEUE_HEALTH_PORT/readyz"
}

# JobSet's controller as a local process: its CRD, a serving certificate from the harness CA for the
# webhook server it insists on running (no webhook configuration points at it, so its defaulting never
# runs: the plugin writes every JobSet field), loopback ports, the same admin identity as Kueue's.
start_jobset() {
  [[ "$KILN_JOBSET" == true ]] || return 0
  log "installing the JobSet CRD ($JOBSET_VERSION)"
  kc apply --server-side --force-conflicts -f "$JOBSET_CRD_DIR" >/dev/null
  wait_for kube-apiserver 60 crds_established jobsets.jobset.x-k8s.io
  local certs="$KILN_DIR/jobset-certs" cfg="$KILN_DIR/jobset.yaml"
  mkdir -p "$certs" && chmod 700 "$certs"
  serving_cert jobset-webhook jobset-webhook-service "DNS:localhost,IP:127.0.0.1"
  cp "$PKI_DIR/jobset-webhook.crt" "$certs/tls.crt" && (umask 077 && cp "$PKI_DIR/jobset-webhook.key" "$certs/tls.key")
  cat >"$cfg" <<EOF
apiVersion: config.jobset.x-k8s.io/v1alpha1
kind: Configuration
leaderElection:
  leaderElect: false
internalCertManagement:
  enable: false
webhook:
  host: 127.0.0.1
  port: $JOBSET_WEBHOOK_PORT
  certDir: $certs
metrics:
  bindAddress: 127.0.0.1:$JOBSET_METRICS_PORT
health:
  healthProbeBindAddress: 127.0.0.1:$JOBSET_HEALTH_PORT
clientConnection:
  qps: 200
  burst: 400
EOF
  start jobset env KUBECONFIG="$PKI_DIR/jobset.kubeconfig" "$JOBSET_BIN" --config "$cfg"
  wait_for jobset "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$JOBSET_HEALTH_PORT/readyz"
}

# mount_kueue_certs: what the kubelet's Secret volume would do: write tls.crt/tls.key once Kueue filled them.
mount_kueue_certs() {
  local crt key
  crt=$(kc get secret kueue-webhook-server-cert -n kueue-system -o jsonpath='{.data.tls\.crt}' 2>/dev/null)
  key=$(kc get secret kueue-webhook-server-cert -n kueue-system -o jsonpath='{.data.tls\.key}' 2>/dev/null)
  [[ -n "$crt" && -n "$key" ]] || return 1
  echo "$crt" | base64 -d >"$KILN_DIR/kueue-certs/tls.crt"
  (umask 077 && echo "$key" | base64 -d >"$KILN_DIR/kueue-certs/tls.key")
}

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  KUBECONFIG_EXPORT="export KUBECONFIG=$KILN_KUBECONFIG"
  local c running=() stopped=()
  for c in $(expected_components); do
    if is_running "$c"; then running+=("$c"); else stopped+=("$c"); fi
  done
  if [[ ${#stopped[@]} -eq 0 ]]; then
    log "cluster already up (${running[*]}); nothing to do"
    echo "$KUBECONFIG_EXPORT"
    exit 0
  fi
  if [[ ${#running[@]} -gt 0 ]]; then
    die "cluster partly up (running: ${running[*]}; stopped: ${stopped[*]}); run 'npm run cluster:down' first"
  fi
  trap cleanup EXIT INT TERM
  preflight
  KUBECTL=$(kubectl_bin)
  generate_pki
  local t0=$SECONDS
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kwok
  register_nodes
  start_jobset
  start_kueue
  start_real_node
  printf '%s\n' "${STARTED[@]}" >"$RUN_DIR/components"
  STARTED=()
  cat >&2 <<EOF

Local cluster up in $((SECONDS - t0))s: real etcd $ETCD_VERSION + Kubernetes $KUBERNETES_VERSION control plane,
$(kc get nodes -l type=kwok --no-headers | wc -l) simulated nodes (KWOK $KWOK_VERSION; pods that tolerate their taint run ${KILN_POD_RUN_SECONDS}s then succeed)$([[ "$KILN_KUEUE" == true ]] && echo ", Kueue $KUEUE_VERSION (no webhooks)")$([[ "$KILN_JOBSET" == true ]] && echo ", JobSet $JOBSET_VERSION (no webhooks)").
$([[ "$KILN_REAL_NODE" == true ]] && echo "Real node $NODE_NAME ($NODE_IP): kubelet $KUBERNETES_VERSION, containerd, runc, CNI bridge $POD_CIDR; GPU pods run there (CPU backend); CoreDNS $COREDNS_VERSION on $NODE_IP:53 ($CLUSTER_DOMAIN).")
Logs: $LOG_DIR/<component>.log    Stop: npm run cluster:down    Status: npm run cluster:status

  $KUBECONFIG_EXPORT
EOF
  echo "$KUBECONFIG_EXPORT"
}

# One line on purpose: bash reads scripts lazily, so editing this file while it runs stays harmless.
main "$@"; exit $?
