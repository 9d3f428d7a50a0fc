# Helpers shared by scripts/image/*.sh (sourced after scripts/toolchain/versions.sh).
# shellcheck shell=bash

log() { echo "[$(date +%H:%M:%S)] image: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

base_image_ref() { echo "localhost/kiln/debian:$DEBIAN_SUITE"; }
node_image_ref() { echo "localhost/kiln/node:$IMAGE_NODE_VERSION"; }

# trainer_image_ref <variant> -> localhost/kiln/trainer:<trainer version>, with -cpu/-gpu for native backends.
trainer_image_ref() {
  local version suffix=""
  version=$(node -p "require('$REPO_ROOT/trainer-image/package.json').version")
  [[ "$1" == none ]] || suffix="-$1"
  echo "localhost/kiln/trainer:$version$suffix"
}

# accountant_image_ref -> localhost/kiln/accountant:<kiln version> (the root package.json's).
accountant_image_ref() {
  echo "localhost/kiln/accountant:$(node -p "require('$REPO_ROOT/package.json').version")"
}

# example_image_ref -> localhost/kiln/example-jax:<kiln version>: the JAX multi-node example (examples/jax-multinode).
example_image_ref() {
  echo "localhost/kiln/example-jax:$(node -p "require('$REPO_ROOT/package.json').version")"
}

# apt_mirror -> the first Debian mirror apt on this machine uses (debootstrap takes the same one).
apt_mirror() {
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  [[ -n "$m" ]] || m=$(grep -hsE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

# extra_ca_bundle <out> -> writes the extra CA certificates for the build to <out> and prints its path
# (prints nothing when there are none).
extra_ca_bundle() {
  local out=$1 f found=()
  if [[ -n "${KILN_EXTRA_CA_CERTS:-}" ]]; then
    [[ -s "$KILN_EXTRA_CA_CERTS" ]] || die "KILN_EXTRA_CA_CERTS=$KILN_EXTRA_CA_CERTS: not a readable, non-empty PEM file"
    grep -q 'BEGIN CERTIFICATE' "$KILN_EXTRA_CA_CERTS" || die "KILN_EXTRA_CA_CERTS=$KILN_EXTRA_CA_CERTS: no PEM certificate in it"
    found=("$KILN_EXTRA_CA_CERTS")
  else
    for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
      [[ -f "$f" ]] && grep -q 'BEGIN CERTIFICATE' "$f" && found+=("$f")
    done
  fi
  [[ ${#found[@]} -gt 0 ]] || return 0
  (umask 077 && cat "${found[@]}" >"$out")
  echo "$out"
}
