#!/usr/bin/env bash
# Stop the local cluster started by scripts/cluster/up.sh (npm run cluster:down): SIGTERM each
# recorded component in reverse start order, SIGKILL after STOP_TIMEOUT, then wipe etcd data so the
# next cluster:up starts empty (certificates are kept). Safe to run when nothing is running. Exits 1
# when the real node left a mount, link, iptables chain, cgroup or shim behind (and names it).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$HERE/env.sh"
# shellcheck source=node.sh
source "$HERE/node.sh"
# Keep etcd's data directory (the cluster state) for the next start.
KEEP_DATA=${KEEP_DATA:-false}

usage() { echo "usage: $0 [--keep-data]   (stops: ${COMPONENTS[*]})" >&2; }

main() {
  case "${1:-}" in
    --keep-data) KEEP_DATA=true ;;
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) usage; exit 2 ;;
  esac
  local i
  # The loopback MinIO of `npm run local` goes down with the cluster.
  "$KILN_REPO_ROOT/scripts/local/minio.sh" stop
  # The real node first: its pods, containerd's shims, mounts, netns, links, iptables chains, cgroups.
  stop_real_node
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
  local left
  left=$(real_node_leftovers)
  if [[ -n "$left" ]]; then
    echo "error: the real node left behind:" >&2
    echo "$left" >&2
    exit 1
  fi
  rm -f "$RUN_DIR/components"
  if [[ "$KEEP_DATA" != true && -d "$ETCD_DATA_DIR" ]]; then
    rm -rf "$ETCD_DATA_DIR"
    log "removed etcd data ($ETCD_DATA_DIR)"
  fi
  log "cluster stopped"
}

main "$@"; exit $?
