#!/usr/bin/env bash
# podman with Kiln's settings: containers.conf next to this script, and an image store of Kiln's own under
# $KILN_IMAGE_CACHE/storage (not the user's podman store; a fresh HOME means a cold build).
#   scripts/image/podman.sh <podman arguments...>
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../toolchain/versions.sh
source "$HERE/../toolchain/versions.sh"
mkdir -p "$KILN_IMAGE_CACHE"
conf="$KILN_IMAGE_CACHE/storage.conf"
want=$(printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$KILN_IMAGE_CACHE/storage" "$KILN_IMAGE_CACHE/run")
[[ -f "$conf" && "$(cat "$conf")" == "$want" ]] || printf '%s\n' "$want" >"$conf"
CONTAINERS_CONF="$HERE/containers.conf" CONTAINERS_STORAGE_CONF="$conf" exec podman "$@"
