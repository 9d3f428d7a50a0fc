#!/usr/bin/env bash
# Build @tensorflow/tfjs-node's (or -gpu's) native addon against the TensorFlow C library of the PyPI wheel,
# instead of the libtensorflow 2.9.1 download its own install script attempts (Google storage, out of reach
# on locked-down networks). Used by the image build (TFJS_NODE=cpu|gpu) and on dev machines:
#   trainer-image/native/build-tfjs-node.sh cpu|gpu [NODE_MODULES_DIR]
# gpu: tfjs-node-gpu against the CUDA build of the wheel (`tensorflow`, CUDA 12: Hopper and later too) with
# the CUDA libraries of its and-cuda extra (TF_CUDA_WHEELS) unpacked beside it; KILN_CUDA_LIBS=0 leaves
# them out (the addon still loads and runs on the CPU: enough to test the build on a machine without a GPU).
# The wheel's libtensorflow_cc.so.2 exports the TF_*/TFE_* C API the addon binds to and ships its headers;
# tfjs-node's npm tarball ships the addon sources (binding/*.cc, binding.gyp). Afterwards
# require("@tensorflow/tfjs-node") registers the `tensorflow` backend.
# Needs python3 with pip (for `pip download`), make, g++, and Node's headers (include/node/node.h).
# Pins: TF_WHEEL_VERSION in scripts/toolchain/versions.sh. Wheels are cached in $TF_WHEEL_CACHE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSIONS=${KILN_VERSIONS_FILE:-"$HERE/../../scripts/toolchain/versions.sh"}
# shellcheck source=../../scripts/toolchain/versions.sh
source "$VERSIONS"

usage() { echo "usage: $0 cpu|gpu [NODE_MODULES_DIR]   (TF_WHEEL_VERSION=$TF_WHEEL_VERSION TF_WHEEL_CACHE=\${TF_WHEEL_CACHE:-~/.cache/kiln/tf-wheels})" >&2; }
variant=${1:-}
case "$variant" in
  cpu) pkg_name=@tensorflow/tfjs-node; wheel=tensorflow-cpu ;;
  gpu) pkg_name=@tensorflow/tfjs-node-gpu; wheel=tensorflow ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
modules=${2:-"$HERE/../../node_modules"}
pkg="$modules/$pkg_name"
[[ -f "$pkg/binding.gyp" ]] || { echo "build-tfjs-node: $pkg_name is not installed in $modules (npm ci --include=optional --ignore-scripts)" >&2; exit 1; }
TF_WHEEL_CACHE=${TF_WHEEL_CACHE:-"$HOME/.cache/kiln/tf-wheels"}
mkdir -p "$TF_WHEEL_CACHE"

log() { echo "[$(date +%H:%M:%S)] build-tfjs-node: $*" >&2; }

# The wheel for this machine's Python ABI (its C library does not depend on Python, but pip picks by tag).
whl=$(ls "$TF_WHEEL_CACHE"/"${wheel//-/_}"-"$TF_WHEEL_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [[ -z "$whl" ]]; then
  log "pip download --no-deps $wheel==$TF_WHEEL_VERSION"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$TF_WHEEL_CACHE" "$wheel==$TF_WHEEL_VERSION"
  whl=$(ls "$TF_WHEEL_CACHE"/"${wheel//-/_}"-"$TF_WHEEL_VERSION"-*.whl | head -1)
fi

log "unpacking the C library and headers of $(basename "$whl") into $pkg/deps"
rm -rf "$pkg/deps" && mkdir -p "$pkg/deps/lib" "$pkg/deps/include"
python3 - "$whl" "$pkg/deps" <<'PY'
import os, shutil, sys, zipfile
whl, deps = sys.argv[1], sys.argv[2]
libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}
found = set()
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            target = os.path.join(deps, "lib", os.path.basename(name))
            found.add(name)
        elif name.startswith("tensorflow/include/") and not info.is_dir():
            target = os.path.join(deps, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
missing = libs - found
if missing:
    sys.exit(f"{whl}: missing {sorted(missing)}")
PY
(
  cd "$pkg/deps/lib"
  # -ltensorflow resolves through libtensorflow.so; the addon then records libtensorflow_cc.so.2 (the SONAME).
  ln -sf libtensorflow_cc.so.2 libtensorflow.so
  ln -sf libtensorflow_cc.so.2 libtensorflow.so.2
  ln -sf libtensorflow_framework.so.2 libtensorflow_framework.so
)

if [[ "$variant" == gpu && "${KILN_CUDA_LIBS:-1}" != 0 ]]; then
  log "CUDA libraries: pip download --no-deps ${TF_CUDA_WHEELS[*]}"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$TF_WHEEL_CACHE" "${TF_CUDA_WHEELS[@]}"
  cuda_whls=()
  for req in "${TF_CUDA_WHEELS[@]}"; do
    name=${req%%==*} version=${req##*==}
    f=$(ls "$TF_WHEEL_CACHE"/"${name//-/_}"-"$version"-*.whl | head -1)
    cuda_whls+=("$f")
  done
  log "unpacking nvidia/*/lib (and nvcc's ptxas) of ${#cuda_whls[@]} wheels into $pkg/deps/nvidia"
  python3 - "$pkg/deps" "${cuda_whls[@]}" <<'PY'
import os, shutil, sys, zipfile
deps, wheels = sys.argv[1], sys.argv[2:]
for whl in wheels:
    n = 0
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            parts = info.filename.split("/")
            if info.is_dir() or len(parts) < 4 or parts[0] != "nvidia":
                continue
            if parts[2] != "lib" and not (parts[1] == "cuda_nvcc" and parts[2] == "bin" and parts[3] == "ptxas"):
                continue
            target = os.path.join(deps, info.filename)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if parts[2] == "bin":
                os.chmod(target, 0o755)
            n += 1
    if n == 0:
        sys.exit(f"{whl}: no nvidia/*/lib files")
PY
  # What TensorFlow dlopens must be where its RUNPATH looks, and resolve everything but the driver's libcuda.
  for so in cudart/libcudart.so.12 cublas/libcublas.so.12 cublas/libcublasLt.so.12 cudnn/libcudnn.so.9 cufft/libcufft.so.11 \
    curand/libcurand.so.10 cusolver/libcusolver.so.11 cusparse/libcusparse.so.12 nccl/libnccl.so.2 cuda_cupti/libcupti.so.12 \
    cuda_nvrtc/libnvrtc.so.12 nvjitlink/libnvJitLink.so.12; do
    lib="$pkg/deps/nvidia/${so%%/*}/lib/${so#*/}"
    [[ "$so" == cudart/* ]] && lib="$pkg/deps/nvidia/cuda_runtime/lib/${so#*/}"
    [[ -f "$lib" ]] || { echo "build-tfjs-node: $lib is missing (TensorFlow loads it from \$ORIGIN/../nvidia/*/lib)" >&2; exit 1; }
  done
  unresolved=$(for f in "$pkg"/deps/nvidia/*/lib/*.so*; do ldd "$f" 2>/dev/null | awk -v f="$(basename "$f")" '/not found/ && $1 != "libcuda.so.1" {print f": "$1}'; done | sort -u)
  [[ -z "$unresolved" ]] || { echo "build-tfjs-node: CUDA libraries with unresolved dependencies:"$'\n'"$unresolved" >&2; exit 1; }
  log "CUDA libraries: $(du -sh "$pkg/deps/nvidia" | cut -f1) in $pkg/deps/nvidia; all resolve but libcuda.so.1 (the node's driver)"
fi

# Node's headers: next to the running node (official tarball layout), else the distribution's /usr.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[[ -f "$node_prefix/include/node/node.h" ]] || node_prefix=/usr
[[ -f "$node_prefix/include/node/node.h" ]] || { echo "build-tfjs-node: Node headers not found (include/node/node.h under $(dirname "$(dirname "$(command -v node)")") or /usr)" >&2; exit 1; }
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[[ -f "$gyp" ]] || { echo "build-tfjs-node: node-gyp (shipped with npm) not found at $gyp" >&2; exit 1; }
napi=$(node -p 'process.versions.napi >= 8 ? 8 : process.versions.napi')
log "node-gyp rebuild (headers $node_prefix/include/node, N-API v$napi; about 2 minutes on 2 cores)"
(cd "$pkg" && node "$gyp" rebuild --silent --nodedir="$node_prefix" --module_name=tfjs_binding --module_path="$(cd "$pkg" && pwd)/lib/napi-v$napi" >&2)
rm -rf "$pkg/build"

backend=$(cd "$modules/.." && node -e '
  require(process.argv[1]);
  const tf = require("@tensorflow/tfjs");
  tf.setBackend("tensorflow").then((ok) => { if (!ok) process.exit(1); console.log(tf.getBackend() + " " + tf.version_core); });' "$pkg_name")
log "ok: $pkg_name loads, backend $backend (TensorFlow $TF_WHEEL_VERSION from $wheel)"
