#!/usr/bin/env bash
# A MinIO server on loopback: the local stack's external object store (kiln:objectStore.mode external).
#   scripts/local/minio.sh start   idempotent; prints the endpoint
#   scripts/local/minio.sh stop
#   scripts/local/minio.sh env     prints export lines (endpoint + credentials) for the harness
# Credentials are generated once into .kiln/minio/credentials (mode 600).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"

# S3 API port and console port on 127.0.0.1.
MINIO_PORT=${MINIO_PORT:-9000}
MINIO_CONSOLE_PORT=${MINIO_CONSOLE_PORT:-9001}
# Data and credentials directory.
MINIO_DIR=${MINIO_DIR:-"$KILN_DIR/minio"}
MINIO_BIN=${MINIO_BIN:-"$(tool_bin_dir minio)/minio"}

usage() { echo "usage: $0 start|stop|env|status" >&2; }

credentials() {
  local f="$MINIO_DIR/credentials"
  if [[ ! -f "$f" ]]; then
    mkdir -p "$MINIO_DIR" && chmod 700 "$MINIO_DIR"
    umask 077
    printf 'MINIO_ROOT_USER=kiln%s\nMINIO_ROOT_PASSWORD=%s\n' "$(openssl rand -hex 6)" "$(openssl rand -hex 24)" >"$f"
  fi
  # shellcheck disable=SC1090
  source "$f"
}

print_env() {
  credentials
  echo "export KILN_S3_ENDPOINT=http://127.0.0.1:$MINIO_PORT"
  echo "export AWS_ACCESS_KEY_ID=$MINIO_ROOT_USER"
  echo "export AWS_SECRET_ACCESS_KEY=$MINIO_ROOT_PASSWORD"
  echo "export AWS_REGION=us-east-1"
}

start_minio() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  if is_running minio; then
    log "minio already running (pid $(cat "$(pid_file minio)")) at http://127.0.0.1:$MINIO_PORT"
    return 0
  fi
  [[ -x "$MINIO_BIN" ]] || die "missing $MINIO_BIN; run 'npm run tools:build minio'"
  local p
  for p in "$MINIO_PORT" "$MINIO_CONSOLE_PORT"; do
    port_in_use "$p" && die "port $p (for minio) is already in use on 127.0.0.1; set MINIO_PORT / MINIO_CONSOLE_PORT"
  done
  credentials
  mkdir -p "$MINIO_DIR/data"
  log "starting minio (log: $LOG_DIR/minio.log)"
  MINIO_ROOT_USER=$MINIO_ROOT_USER MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid "$MINIO_BIN" server "$MINIO_DIR/data" --address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" --quiet \
    >"$LOG_DIR/minio.log" 2>&1 </dev/null &
  echo $! >"$(pid_file minio)"
  wait_for minio "$READY_TIMEOUT" curl -sf --max-time 2 "http://127.0.0.1:$MINIO_PORT/minio/health/ready"
  log "minio ready at http://127.0.0.1:$MINIO_PORT"
}

stop_minio() {
  local f pid i
  f=$(pid_file minio)
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping minio (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case "${1:-}" in
  start) start_minio ;;
  stop) stop_minio ;;
  env) print_env ;;
  status) if is_running minio; then echo "minio running at http://127.0.0.1:$MINIO_PORT"; else echo "minio stopped"; exit 1; fi ;;
  -h | --help) usage ;;
  *) usage; exit 2 ;;
esac
