#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests (driven by playwright-core with the system
# executable: playwright's own browser download cannot work without internet). Needs root; a no-op
# when /usr/bin/chromium exists.   bash scripts/test/install-browser.sh [--check]
set -euo pipefail
CHROMIUM=${KILN_CHROMIUM:-/usr/bin/chromium}
if [[ -x "$CHROMIUM" ]]; then echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2; exit 0; fi
[[ "${1:-}" == --check ]] && { echo "browser: $CHROMIUM is missing (apt-get install chromium)"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "install-browser: needs root to apt-get install chromium" >&2; exit 1; }
echo "browser: apt-get install chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "browser: $("$CHROMIUM" --version)" >&2
