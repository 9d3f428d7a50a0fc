#!/usr/bin/env bash
# A MinIO server on this machine: the local stack's external object store (kiln:objectStore.mode external).
# It listens on the real node's address when that node is up (pods on the CNI bridge cannot reach the
# host's 127.0.0.1), else on 127.0.0.1; either way nothing outside this machine can reach it.
#   scripts/local/minio.sh start   idempotent; prints the endpoint
#   scripts/local/minio.sh stop
#   scripts/local/minio.sh env     prints export lines (endpoint + credentials) for the harness
# Credentials are generated once into .kiln/minio/credentials (mode 600).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"

# Address to listen on: the real node's IP (scripts/cluster/node.sh records it) or loopback.
MINIO_HOST=${MINIO_HOST:-$(cat "$RUN_DIR/node-ip" 2>/dev/null || echo 127.0.0.1)}
# S3 API port and console port.
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
  echo "export KILN_S3_ENDPOINT=http://$(running_host):$MINIO_PORT"
  echo "export AWS_ACCESS_KEY_ID=$MINIO_ROOT_USER"
  echo "export AWS_SECRET_ACCESS_KEY=$MINIO_ROOT_PASSWORD"
  echo "export AWS_REGION=us-east-1"
}

# running_host -> the address the running MinIO listens on (MINIO_HOST when it is not running).
running_host() { if is_running minio && [[ -f "$RUN_DIR/minio-host" ]]; then cat "$RUN_DIR/minio-host"; else echo "$MINIO_HOST"; fi; }

start_minio() {
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  if is_running minio; then
    if [[ "$(running_host)" == "$MINIO_HOST" ]]; then
      log "minio already running (pid $(cat "$(pid_file minio)")) at http://$MINIO_HOST:$MINIO_PORT"
      return 0
    fi
    log "minio runs on $(running_host), wanted on $MINIO_HOST: restarting it (data is kept)"
    stop_minio
  fi
  [[ -x "$MINIO_BIN" ]] || die "missing $MINIO_BIN; run 'npm run tools:build minio'"
  local p
  for p in "$MINIO_PORT" "$MINIO_CONSOLE_PORT"; do
    port_in_use "$p" && die "port $p (for minio) is already in use on 127.0.0.1; set MINIO_PORT / MINIO_CONSOLE_PORT"
    [[ "$MINIO_HOST" == 127.0.0.1 ]] || ! (exec 3<>"/dev/tcp/$MINIO_HOST/$p") 2>/dev/null || die "port $p (for minio) is already in use on $MINIO_HOST"
  done
  credentials
  mkdir -p "$MINIO_DIR/data"
  log "starting minio (log: $LOG_DIR/minio.log)"
  MINIO_ROOT_USER=$MINIO_ROOT_USER MINIO_ROOT_PASSWORD=$MINIO_ROOT_PASSWORD MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid "$MINIO_BIN" server "$MINIO_DIR/data" --address "$MINIO_HOST:$MINIO_PORT" --console-address "$MINIO_HOST:$MINIO_CONSOLE_PORT" --quiet \
    >"$LOG_DIR/minio.log" 2>&1 </dev/null &
  echo $! >"$(pid_file minio)"
  echo "$MINIO_HOST" >"$RUN_DIR/minio-host"
  wait_for minio "$READY_TIMEOUT" curl -sf --max-time 2 "http://$MINIO_HOST:$MINIO_PORT/minio/health/ready"
  log "minio ready at http://$MINIO_HOST:$MINIO_PORT"
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
  rm -f "$f" "$RUN_DIR/minio-host"
}

case "${1:-}" in
  start) start_minio ;;
  stop) stop_minio ;;
  env) print_env ;;
  status) if is_running minio; then echo "minio running at http://$(running_host):$MINIO_PORT"; else echo "minio stopped"; exit 1; fi ;;
  -h | --help) usage ;;
  *) usage; exit 2 ;;
esac
