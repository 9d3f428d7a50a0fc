#!/usr/bin/env bash
# Stop the local cluster started by scripts/cluster/up.sh (npm run cluster:down): SIGTERM each
# recorded component in reverse start order, SIGKILL after STOP_TIMEOUT, then wipe etcd data so the
# next cluster:up starts empty (certificates are kept). Safe to run when nothing is running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$HERE/env.sh"
# Seconds to wait for a component to exit after SIGTERM.
STOP_TIMEOUT=${STOP_TIMEOUT:-15}
# Keep etcd's data directory (the cluster state) for the next start.
KEEP_DATA=${KEEP_DATA:-false}

usage() { echo "usage: $0 [--keep-data]   (stops: ${COMPONENTS[*]})" >&2; }

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
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
  if [[ "$KEEP_DATA" != true && -d "$ETCD_DATA_DIR" ]]; then
    rm -rf "$ETCD_DATA_DIR"
    log "removed etcd data ($ETCD_DATA_DIR)"
  fi
  log "cluster stopped"
}

main "$@"; exit $?
