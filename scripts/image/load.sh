#!/usr/bin/env bash
# Import a locally built image into the real node's containerd (npm run image:load), so pods with
# imagePullPolicy IfNotPresent start from it with no registry. Skipped when the node already holds
# that image ID.  scripts/image/load.sh [REF...]   (default: the trainer image of scripts/image/build.sh)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../cluster/env.sh
source "$HERE/../cluster/env.sh"
# shellcheck source=../cluster/node.sh
source "$HERE/../cluster/node.sh"

case "${1:-}" in -h | --help) echo "usage: $0 [REF...]" >&2; exit 0 ;; esac
[[ -S "$CONTAINERD_SOCK" ]] && is_running containerd || die "the real node is not running (no $CONTAINERD_SOCK); start it with 'npm run cluster:up'"
refs=("$@")
[[ ${#refs[@]} -gt 0 ]] || refs=("$("$HERE/build.sh" --print-ref)")
for ref in "${refs[@]}"; do
  import_image "$ref"
  echo "$ref"
done
