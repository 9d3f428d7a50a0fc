#!/usr/bin/env bash
# Report the local cluster (npm run cluster:status): each component's PID and health, the nodes
# per pool, and the kubeconfig line. Exit 0 when every component runs, 1 otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$HERE/env.sh"
# shellcheck source=node.sh
source "$HERE/node.sh"

usage() { echo "usage: $0" >&2; }

main() {
  case "${1:-}" in -h | --help) usage; exit 0 ;; "") ;; *) usage; exit 2 ;; esac
  local c down=0
  for c in $(expected_components); do
    if is_running "$c"; then
      printf '%-24s running  pid %-8s log %s\n' "$c" "$(cat "$(pid_file "$c")")" "$LOG_DIR/$c.log"
    else
      printf '%-24s stopped\n' "$c"
      down=1
    fi
  done
  if [[ $down -eq 0 ]]; then
    KUBECTL=$(kubectl_bin)
    # The GPU contract (contract/gpu.ts): resource name and pool label, escaped for jsonpath.
    eval "$(cd "$KILN_REPO_ROOT" && npx --no-install ts-node --transpile-only scripts/cluster/nodes.ts --contract)"
    local pool_col="POOL:.metadata.labels.${GPU_POOL_LABEL//./\\.}" gpus_col="GPUS:.status.allocatable.${GPU_RESOURCE//./\\.}"
    echo
    kc get nodes -o custom-columns="NAME:.metadata.name,READY:.status.conditions[?(@.type==\"Ready\")].status,$pool_col,$gpus_col" \
      | awk 'NR == 1 { print; next } { n[$3]++; g[$3] += ($4 == "<none>" ? 0 : $4); r[$3] += ($2 == "True") } END { for (p in n) printf "%-10s nodes=%d ready=%d gpus=%d\n", (p == "<none>" ? "cpu" : p), n[p], r[p], g[p] }' \
      | sed '1s/.*/POOL       NODES (simulated and real)/'
    if [[ "$KILN_REAL_NODE" == true ]]; then
      echo
      kc get node "$NODE_NAME" -o custom-columns="REAL NODE:.metadata.name,READY:.status.conditions[?(@.type==\"Ready\")].status,IP:.status.addresses[?(@.type==\"InternalIP\")].address,$pool_col,$gpus_col,CPU:.status.allocatable.cpu,KUBELET:.status.nodeInfo.kubeletVersion,RUNTIME:.status.nodeInfo.containerRuntimeVersion" 2>/dev/null ||
        echo "real node $NODE_NAME: not registered"
    fi
    echo
    echo "export KUBECONFIG=$KILN_KUBECONFIG"
  else
    echo
    echo "cluster is not (fully) up: npm run cluster:up"
  fi
  return $down
}

main "$@"; exit $?
