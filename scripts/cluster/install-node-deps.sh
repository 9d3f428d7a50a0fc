#!/usr/bin/env bash
# Debian packages the real node and the image build need (containerd, runc, CNI plugins, iptables,
# podman/buildah, debootstrap, a C compiler for the pause binary, socat for the API server on the node's address),
# and what the trainer's native backend build needs (python3 + pip to fetch the TensorFlow wheel, make, g++). Installs only what is missing; needs root.
#   bash scripts/cluster/install-node-deps.sh [--check]   (--check: list what is missing, exit 1 if anything is)
set -euo pipefail

PACKAGES=(containerd runc containernetworking-plugins iptables conntrack iproute2 util-linux
  podman buildah fuse-overlayfs slirp4netns uidmap debootstrap gcc libc6-dev socat
  make g++ python3 python3-pip)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ "${1:-}" == --check ]]; then
  [[ ${#missing[@]} -eq 0 ]] && { echo "all installed: ${PACKAGES[*]}"; exit 0; }
  echo "missing: ${missing[*]}"; exit 1
fi
[[ ${#missing[@]} -eq 0 ]] && { echo "node deps: all installed" >&2; exit 0; }
[[ $(id -u) -eq 0 ]] || { echo "install-node-deps: needs root to apt-get install: ${missing[*]}" >&2; exit 1; }
echo "node deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
