#!/usr/bin/env bash
# Run the cached Pulumi CLI on the local stack with the harness's offline settings (scripts/pulumi-env.sh),
# from the harness project directory .kiln/project (its own Pulumi.local.yaml; main -> ../../infra):
#   scripts/local/pulumi.sh up --yes        ==  pulumi up --stack local --yes   (on the harness config)
# `stack init|select|ls|rm`, version, plugin, about ... are passed through without --stack.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../pulumi-env.sh
source "$HERE/../pulumi-env.sh"
# Stack name (the harness only deploys the local platform).
KILN_STACK=${KILN_STACK:-local}
kiln_install_pulumi_plugins
kiln_prepare_project_dir
cd "$KILN_PROJECT_DIR"
case "${1:-}" in
  "" | -h | --help) echo "usage: $0 <pulumi subcommand> [args...]   (stack $KILN_STACK in $KILN_PROJECT_DIR)" >&2; exit 2 ;;
  version | plugin | login | logout | whoami | about) exec pulumi "$@" ;;
  stack)
    case "${2:-}" in init | select | ls | rm) exec pulumi "$@" ;; esac
    exec pulumi "$@" --stack "$KILN_STACK" ;;
  *) exec pulumi "$@" --stack "$KILN_STACK" ;;
esac
