#!/usr/bin/env bash
# Everything npm run local, npm test and npm run test:e2e need, checked in their first seconds, before
# any long build starts. Run as root, it installs the missing Debian packages (and Chromium) itself and
# says so; otherwise it stops at once, lists every problem and prints the command that fixes it.
#   bash scripts/preflight.sh local|test|e2e
#     local  npm run local: root, Go (when a tool must be built), the node and image packages, free disk,
#            free ports, the kernel features the real node needs
#     test   npm test: Go (when MinIO or actionlint must be built), free disk; warns when the dashboard's
#            browser suite will be skipped for want of Chromium (installs it when root)
#     e2e    npm run test:e2e: everything local checks, and Chromium
# Exit status: 0 ready (warnings allowed), 1 a problem, 2 usage.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/env.sh
source "$HERE/cluster/env.sh"
# shellcheck source=cluster/node.sh
source "$HERE/cluster/node.sh"

# Free GiB needed where the tool, Go and image caches live on a cold machine (Go module + build caches
# ~2 GiB, tools ~0.5 GiB, podman's images ~3 GiB, the node's containerd copy ~1 GiB, with headroom).
KILN_MIN_FREE_GIB=${KILN_MIN_FREE_GIB:-10}
# Free GiB needed once every tool is built (the image, the cluster's state, logs).
KILN_MIN_FREE_GIB_WARM=${KILN_MIN_FREE_GIB_WARM:-3}
# Where the kernel is read (tests point these at fakes).
KILN_PROC_DIR=${KILN_PROC_DIR:-/proc}
KILN_SYS_DIR=${KILN_SYS_DIR:-/sys}
# Debian's Chromium, for the dashboard's browser tests (same setting as scripts/test/install-browser.sh).
KILN_CHROMIUM=${KILN_CHROMIUM:-/usr/bin/chromium}
# MinIO's ports (scripts/local/minio.sh).
MINIO_PORT=${MINIO_PORT:-9000}
MINIO_CONSOLE_PORT=${MINIO_CONSOLE_PORT:-9001}

NODE_DEPS="scripts/cluster/install-node-deps.sh"
BROWSER="scripts/test/install-browser.sh"

usage() {
  cat >&2 <<EOF
usage: $0 local|test|e2e
  local  what npm run local needs; e2e: what npm run test:e2e needs; test: what npm test needs
  env: KILN_MIN_FREE_GIB=$KILN_MIN_FREE_GIB KILN_MIN_FREE_GIB_WARM=$KILN_MIN_FREE_GIB_WARM KILN_CHROMIUM=$KILN_CHROMIUM
EOF
}

MODE=""
COMMAND=""
PROBLEMS=()
FIXES=()
WARNINGS=()

say() { echo "preflight: $*" >&2; }
# problem <what is wrong> <the command that fixes it>
problem() { PROBLEMS+=("$1"); FIXES+=("$2"); }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
# The command the user typed, as root with their PATH (sudo resets PATH, which would lose node and go).
as_root() { echo "sudo env \"PATH=\$PATH\" $COMMAND"; }

check_node_modules() {
  [[ -d "$KILN_REPO_ROOT/node_modules" ]] || problem "node_modules is missing" "npm ci"
}

# missing_tools <tool...|all> -> the named tools (all: every tool) that are not in the tool cache.
missing_tools() {
  local want=" $* "
  bash "$KILN_REPO_ROOT/scripts/toolchain/build.sh" --list | awk -v want="$want" '$NF == "missing" && (want == " all " || index(want, " " $1 " ")) { print $1 }'
}

# go_older_than <have> <min>: 0 when version <have> (1.26.8) is older than <min> (1.26).
go_older_than() {
  local IFS=. have min i
  read -r -a have <<<"$1"
  read -r -a min <<<"$2"
  for ((i = 0; i < ${#min[@]}; i++)); do
    ((${have[i]:-0} > min[i])) && return 1
    ((${have[i]:-0} < min[i])) && return 0
  done
  return 1
}

# check_go <tool...|all>: Go >= GO_MIN_VERSION when any of those tools must be built.
check_go() {
  local missing version
  missing=$(missing_tools "$@" | paste -sd ' ')
  [[ -n "$missing" ]] || return 0
  local fix="install Go >= $GO_MIN_VERSION from https://go.dev/dl/ and put it on PATH (Debian's golang package is older)"
  if ! command -v go >/dev/null; then
    problem "'go' not found on PATH; it builds the missing tools: $missing" "$fix"
    return 0
  fi
  version=$(go env GOVERSION 2>/dev/null || true)
  version=${version#go}
  version=${version%%[!0-9.]*}
  if [[ -z "$version" ]] || go_older_than "$version" "$GO_MIN_VERSION"; then
    problem "Go ${version:-(unknown version)} is older than $GO_MIN_VERSION, which the tools need: $missing" "$fix"
  else
    say "Go $version builds the missing tools: $missing"
  fi
}

# check_root: the real node (kubelet, containerd, CNI) and apt need root.
check_root() {
  is_root || problem "not root: the real node (kubelet, containerd, CNI) and apt-get need root" "$(as_root)"
}

# missing_packages -> the node and image packages dpkg does not list as installed ("" when none).
missing_packages() {
  local out
  out=$(bash "$KILN_REPO_ROOT/$NODE_DEPS" --check 2>&1) && return 0
  echo "${out#missing: }"
}

# check_packages: installs the missing ones when root, saying so; else one problem naming them.
check_packages() {
  if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
    problem "no dpkg-query/apt-get: the real node and the image build need a Debian or Ubuntu host" "run on Debian 12 or Ubuntu 24.04"
    return 0
  fi
  local missing
  missing=$(missing_packages)
  [[ -n "$missing" ]] || return 0
  if is_root; then
    say "installing the missing Debian packages as root (about 75 s): $missing"
    bash "$KILN_REPO_ROOT/$NODE_DEPS" || true
    missing=$(missing_packages)
    [[ -z "$missing" ]] && { say "Debian packages installed"; return 0; }
    problem "apt-get could not install: $missing" "sudo bash $NODE_DEPS   (read apt's errors above)"
    return 0
  fi
  problem "missing Debian packages: $missing (run as root, $COMMAND installs them; alone: sudo bash $NODE_DEPS)" "$(as_root)"
}

# check_chromium <required|optional>: installs it when root; else a problem (required) or a warning.
check_chromium() {
  [[ -x "$KILN_CHROMIUM" ]] && return 0
  if is_root && [[ "$KILN_CHROMIUM" == /usr/bin/chromium ]]; then
    say "installing Chromium as root for the dashboard's browser tests: bash $BROWSER"
    bash "$KILN_REPO_ROOT/$BROWSER" || true
    [[ -x "$KILN_CHROMIUM" ]] && return 0
  fi
  if [[ "$1" == required ]] && is_root; then
    problem "no Chromium at $KILN_CHROMIUM, and apt-get could not install it: the dashboard tests drive it" "sudo bash $BROWSER   (read apt's errors above)"
  elif [[ "$1" == required ]]; then
    problem "no Chromium at $KILN_CHROMIUM: the dashboard tests drive it (run as root, $COMMAND installs it; alone: sudo bash $BROWSER)" "$(as_root)"
  else
    WARNINGS+=("no Chromium at $KILN_CHROMIUM: the dashboard's browser tests will be SKIPPED; enable them with: sudo bash $BROWSER")
  fi
}

# check_disk <GiB>: every file system the caches and the cluster's state live on has that much free.
check_disk() {
  local need=$1 dir seen=" " fs avail
  for dir in "$HOME/.cache" "$KILN_DIR" /var/lib/containers; do
    while [[ ! -d "$dir" ]]; do dir=$(dirname "$dir"); done
    fs=$(df -Pk "$dir" | awk 'NR == 2 { print $6 }')
    [[ "$seen" == *" $fs "* ]] && continue
    seen+="$fs "
    avail=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }')
    ((avail >= need)) || problem "only $avail GiB free on $fs ($dir); $need GiB are needed (KILN_MIN_FREE_GIB)" "free space on $fs"
  done
}

# check_ports: every loopback port the cluster, the node and MinIO bind is free, unless the cluster
# (or MinIO) already runs (then they are its own and cluster:up / minio.sh start are no-ops).
check_ports() {
  local entry name var port ports=()
  is_running etcd || is_running kube-apiserver || ports+=(etcd:ETCD_PORT etcd-peer:ETCD_PEER_PORT
    kube-apiserver:APISERVER_PORT kube-controller-manager:CONTROLLER_MANAGER_PORT kube-scheduler:SCHEDULER_PORT
    kwok:KWOK_PORT kueue-health:KUEUE_HEALTH_PORT kueue-metrics:KUEUE_METRICS_PORT kueue-webhook:KUEUE_WEBHOOK_PORT
    jobset-health:JOBSET_HEALTH_PORT jobset-metrics:JOBSET_METRICS_PORT jobset-webhook:JOBSET_WEBHOOK_PORT
    coredns-health:COREDNS_HEALTH_PORT coredns-ready:COREDNS_READY_PORT
    kubelet:KUBELET_PORT kubelet-healthz:KUBELET_HEALTHZ_PORT)
  is_running minio || ports+=(minio:MINIO_PORT minio-console:MINIO_CONSOLE_PORT)
  for entry in "${ports[@]}"; do
    name=${entry%%:*} var=${entry##*:} port=${!var}
    port_in_use "$port" && problem "port $port (for $name) is already in use on 127.0.0.1" "stop what listens there (ss -ltnp 'sport = :$port') or set $var"
  done
  return 0
}

# kernel_config <CONFIG_X> -> 0 when /proc/config.gz says y or m, 1 when it says neither, 2 when unreadable.
kernel_config() {
  [[ -r "$KILN_PROC_DIR/config.gz" ]] || return 2
  # grep reads to the end (no -q): an early exit would kill gzip with SIGPIPE, a failure under pipefail.
  gzip -dc "$KILN_PROC_DIR/config.gz" 2>/dev/null | grep -E "^$1=(y|m)$" >/dev/null
}

# has_kernel_feature <CONFIG_X> <evidence test...>: the running kernel shows it, or its config has it.
has_kernel_feature() {
  local config=$1
  shift
  "$@" 2>/dev/null && return 0
  kernel_config "$config"
}

cgroup_controller() {
  local c=$1 v2="$KILN_SYS_DIR/fs/cgroup/cgroup.controllers"
  if [[ -r "$v2" ]]; then grep -qw "$c" "$v2"; else [[ -d "$KILN_SYS_DIR/fs/cgroup/$c" ]]; fi
}

# check_kernel: what containerd, runc, the CNI bridge plugin and kubelet use on the real node.
check_kernel() {
  local missing=() c
  [[ -e "$KILN_PROC_DIR/self/ns/net" ]] || missing+=("network namespaces (CONFIG_NET_NS)")
  for c in cpu memory pids; do cgroup_controller "$c" || missing+=("the $c cgroup controller"); done
  has_kernel_feature CONFIG_OVERLAY_FS grep -qw overlay "$KILN_PROC_DIR/filesystems" || missing+=("overlayfs (CONFIG_OVERLAY_FS; containerd's snapshotter)")
  has_kernel_feature CONFIG_BRIDGE test -d "$KILN_SYS_DIR/module/bridge" || missing+=("bridge links (CONFIG_BRIDGE; the node's address and the CNI bridge)")
  has_kernel_feature CONFIG_VETH test -d "$KILN_SYS_DIR/module/veth" || missing+=("veth pairs (CONFIG_VETH; each pod's link to the bridge)")
  has_kernel_feature CONFIG_NF_NAT test -d "$KILN_SYS_DIR/module/nf_nat" || missing+=("NAT (CONFIG_NF_NAT; pods' traffic is masqueraded)")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local list
  list=$(printf '%s; ' "${missing[@]}")
  problem "this kernel lacks what the real node needs: ${list%; }" "use a kernel with those features (a stock Debian or Ubuntu kernel has them), or load their modules (modprobe overlay bridge veth nf_nat)"
}

report() {
  local w i
  for w in "${WARNINGS[@]+"${WARNINGS[@]}"}"; do echo "WARNING: $w" >&2; done
  if [[ ${#PROBLEMS[@]} -eq 0 ]]; then
    say "$COMMAND: ready ($((SECONDS))s)"
    return 0
  fi
  echo >&2
  echo "error: $COMMAND cannot start (${#PROBLEMS[@]} problem$([[ ${#PROBLEMS[@]} -gt 1 ]] && echo s), found in ${SECONDS}s):" >&2
  for ((i = 0; i < ${#PROBLEMS[@]}; i++)); do echo "  - ${PROBLEMS[$i]}" >&2; done
  # The fixes, in order, each once: usually exactly one command.
  local fixes=() f
  for f in "${FIXES[@]}"; do [[ " ${fixes[*]+"${fixes[*]}"} " == *" $f "* ]] || fixes+=("$f"); done
  if [[ ${#fixes[@]} -eq 1 ]]; then echo "Run this one command:" >&2; else echo "Run:" >&2; fi
  for f in "${fixes[@]}"; do echo "  $f" >&2; done
  return 1
}

main() {
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    local) COMMAND="npm run local" ;;
    test) COMMAND="npm test" ;;
    e2e) COMMAND="npm run test:e2e" ;;
    *) usage; exit 2 ;;
  esac
  MODE=$1
  [[ $# -eq 1 ]] || { usage; exit 2; }
  check_node_modules
  case "$MODE" in
    local | e2e)
      [[ "$KILN_REAL_NODE" == true ]] || problem "$COMMAND runs on the real node, but KILN_REAL_NODE is '$KILN_REAL_NODE'" "unset KILN_REAL_NODE"
      check_root
      check_go all
      check_packages
      [[ "$MODE" == e2e ]] && check_chromium required
      if [[ -n "$(missing_tools all)" ]]; then check_disk "$KILN_MIN_FREE_GIB"; else check_disk "$KILN_MIN_FREE_GIB_WARM"; fi
      check_ports
      check_kernel
      ;;
    test)
      check_go minio actionlint
      check_chromium optional
      check_disk 2
      ;;
  esac
  report
}

main "$@"
