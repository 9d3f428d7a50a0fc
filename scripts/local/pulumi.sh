#!/usr/bin/env bash
# Run the cached Pulumi CLI against the local stack with the harness's offline settings
# (scripts/pulumi-env.sh) and the harness stack config copy:
#   scripts/local/pulumi.sh up --yes      ==  pulumi up --stack local --config-file .kiln/Pulumi.local.yaml --yes
# Subcommands that take no --stack/--config-file (version, plugin, login, whoami) are passed through.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../pulumi-env.sh
source "$HERE/../pulumi-env.sh"
# Stack name (the harness only deploys the local platform).
KILN_STACK=${KILN_STACK:-local}
kiln_install_pulumi_plugins
cd "$KILN_REPO_ROOT"
case "${1:-}" in
  "" | -h | --help) echo "usage: $0 <pulumi subcommand> [args...]   (stack $KILN_STACK, config $KILN_STACK_CONFIG)" >&2; exit 2 ;;
  version | plugin | login | logout | whoami | about) exec pulumi "$@" ;;
  stack)
    if [[ "${2:-}" == init || "${2:-}" == select || "${2:-}" == rm || "${2:-}" == ls ]]; then exec pulumi "$@"; fi
    exec pulumi "$@" --stack "$KILN_STACK" ;;
  *) exec pulumi "$@" --stack "$KILN_STACK" --config-file "$KILN_STACK_CONFIG" ;;
esac
