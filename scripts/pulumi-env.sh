# Pulumi offline settings for the local stack (sourced by scripts/local/*, the e2e tests and
# bench): the CLI, language host and Kubernetes provider come from the tool cache, state lives in
# a file backend under .kiln/state, nothing is downloaded and no update check runs.
#   source scripts/pulumi-env.sh && pulumi stack ls
# shellcheck shell=bash

KILN_REPO_ROOT=${KILN_REPO_ROOT:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
# shellcheck source=toolchain/versions.sh
source "$KILN_REPO_ROOT/scripts/toolchain/versions.sh"

# Plugins and Pulumi's own settings for this checkout only (never ~/.pulumi).
export PULUMI_HOME=${PULUMI_HOME:-"$KILN_REPO_ROOT/.kiln/pulumi-home"}
# File backend (= `pulumi login file://$KILN_REPO_ROOT/.kiln/state`, without writing credentials).
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-"file://$KILN_REPO_ROOT/.kiln/state"}
mkdir -p "${PULUMI_BACKEND_URL#file://}" 2>/dev/null || true
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# The aws/random plugins are not needed by the local stack in external object-store mode and cannot be downloaded.
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
# Passphrase of the local stack's secrets (throwaway harness state; set your own to override).
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-kiln-local-harness}
# The harness cluster (the local platform's provider reads $KUBECONFIG).
export KUBECONFIG=${KILN_KUBECONFIG:-"$KILN_REPO_ROOT/.kiln/kubeconfig"}
# The harness's own Pulumi project directory: a copy of Pulumi.yaml whose main points back at infra/,
# with its own Pulumi.local.yaml. Pulumi writes the passphrase salt (encryptionsalt) into the stack
# config file on `stack init` / `up`; working here keeps the committed Pulumi.local.yaml untouched.
KILN_PROJECT_DIR=${KILN_PROJECT_DIR:-"$KILN_REPO_ROOT/.kiln/project"}
KILN_STACK_CONFIG=${KILN_STACK_CONFIG:-"$KILN_PROJECT_DIR/Pulumi.local.yaml"}

# pulumi, pulumi-language-nodejs, kubectl/helm on PATH.
PATH="$(tool_bin_dir pulumi):$(tool_bin_dir pulumi-language-nodejs):$PATH"
if [[ -x "$KILN_REPO_ROOT/scripts/kube-tools.sh" ]]; then PATH="$("$KILN_REPO_ROOT/scripts/kube-tools.sh"):$PATH"; fi
export PATH

# Lay out $KILN_PROJECT_DIR (idempotent): Pulumi.yaml with main rewritten, links to node_modules,
# package.json and tsconfig.json so the language host and ts-node resolve exactly as from the root.
kiln_prepare_project_dir() {
  mkdir -p "$KILN_PROJECT_DIR"
  local rel f
  rel=$(realpath --relative-to="$KILN_PROJECT_DIR" "$KILN_REPO_ROOT")
  sed -E "s#^main:[[:space:]]*(.*)\$#main: $rel/\\1#" "$KILN_REPO_ROOT/Pulumi.yaml" >"$KILN_PROJECT_DIR/Pulumi.yaml"
  for f in node_modules package.json tsconfig.json; do ln -sfn "$rel/$f" "$KILN_PROJECT_DIR/$f"; done
}

# Install the Kubernetes provider plugin where the engine looks for it (no download).
kiln_install_pulumi_plugins() {
  local ver=${PULUMI_KUBERNETES_VERSION#v} src dir
  src="$(tool_bin_dir pulumi-kubernetes)"
  dir="$PULUMI_HOME/plugins/resource-kubernetes-v$ver"
  [[ -x "$src/pulumi-resource-kubernetes" ]] || { echo "pulumi-env: $src/pulumi-resource-kubernetes missing; run 'npm run tools:build'" >&2; return 1; }
  mkdir -p "$dir"
  ln -sf "$src/pulumi-resource-kubernetes" "$dir/pulumi-resource-kubernetes"
  [[ -f "$src/PulumiPlugin.yaml" ]] && cp "$src/PulumiPlugin.yaml" "$dir/PulumiPlugin.yaml"
  rm -f "$dir.partial"
  return 0
}
