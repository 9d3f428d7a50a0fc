#!/usr/bin/env bash
# Installs the trainer's `tensorflow` backend on a dev machine or CI: tfjs-node from the lockfile (without
# its install script, which downloads libtensorflow from Google storage), its addon built by
# build-tfjs-node.sh against the TensorFlow C library of the pinned PyPI wheel, and the result cached, so
# a second install (another worktree, a fresh `npm ci`) takes seconds instead of minutes.
#   trainer-image/native/install.sh [cpu|gpu] [NODE_MODULES_DIR]      (npm run native -w trainer-image)
# Without it the trainer runs on wasm/cpu, and the tests skip the tensorflow backend saying why.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VERSIONS=${KILN_VERSIONS_FILE:-"$REPO/scripts/toolchain/versions.sh"}
# shellcheck source=../../scripts/toolchain/versions.sh
source "$VERSIONS"
# Built addons (+ the wheel's libraries they link), one directory per (variant, tfjs-node, TF, N-API, arch).
TFJS_NODE_CACHE=${TFJS_NODE_CACHE:-"$HOME/.cache/kiln/tfjs-node"}

usage() { echo "usage: $0 [cpu|gpu] [NODE_MODULES_DIR]   (TF_WHEEL_VERSION=$TF_WHEEL_VERSION, cache $TFJS_NODE_CACHE)" >&2; }
log() { echo "[$(date +%H:%M:%S)] native/install: $*" >&2; }

variant=${1:-cpu}
case "$variant" in
  cpu) pkg_name=@tensorflow/tfjs-node ;;
  # The CUDA build of TensorFlow plus its CUDA 12 libraries (~4 GB unpacked; KILN_CUDA_LIBS=0: without them).
  gpu) pkg_name=@tensorflow/tfjs-node-gpu ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
modules=${2:-"$REPO/node_modules"}
pkg="$modules/$pkg_name"

if [[ ! -f "$pkg/binding.gyp" ]]; then
  log "$pkg_name is not in $modules: installing the lockfile's optional packages (no install scripts)"
  (cd "$(dirname "$modules")" && npm install --no-save --ignore-scripts --include=optional --no-audit --no-fund >&2)
fi
[[ -f "$pkg/binding.gyp" ]] || { echo "native/install: $pkg_name still missing from $modules" >&2; exit 1; }

version=$(node -p "require('$pkg/package.json').version")
napi=$(node -p 'Math.min(8, Number(process.versions.napi))')
key="$variant-tfjs-node-$version-tf-$TF_WHEEL_VERSION-napi$napi-$(uname -m)"
[[ "$variant" == gpu && "${KILN_CUDA_LIBS:-1}" == 0 ]] && key="$key-without-cuda-libs"
cache="$TFJS_NODE_CACHE/$key"

# Hard links when the cache is on the same filesystem (no second copy of the 800 MB library), else a copy.
copy_tree() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }

if [[ -f "$cache/lib/napi-v$napi/tfjs_binding.node" ]]; then
  log "using the cached build $cache"
  rm -rf "$pkg/deps" "$pkg/lib/napi-v$napi"
  mkdir -p "$pkg/lib"
  copy_tree "$cache/deps" "$pkg/deps"
  copy_tree "$cache/lib/napi-v$napi" "$pkg/lib/napi-v$napi"
else
  bash "$HERE/build-tfjs-node.sh" "$variant" "$modules"
  log "caching the build in $cache"
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp/lib"
  copy_tree "$pkg/deps" "$cache.tmp/deps"
  copy_tree "$pkg/lib/napi-v$napi" "$cache.tmp/lib/napi-v$napi"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi

backend=$(cd "$modules/.." && node -e '
  require(process.argv[1]);
  const tf = require("@tensorflow/tfjs");
  tf.setBackend("tensorflow").then((ok) => { if (!ok) process.exit(1); console.log(tf.getBackend()); });' "$pkg_name" 2>/dev/null)
selects=$([[ "$variant" == gpu ]] && echo tensorflow-gpu || echo tensorflow)
log "ok: backend $backend ($pkg_name $version, TensorFlow $TF_WHEEL_VERSION); KILN_BACKEND=$selects selects it"
