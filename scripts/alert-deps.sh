#!/usr/bin/env bash
# Installs what the alerting tests talk to: a real SMTP server (aiosmtpd, from PyPI) into
# $NEXUSLOG_CACHE_DIR/python, run by the tests as `python3 -m aiosmtpd` with that PYTHONPATH.
#
#   bash scripts/alert-deps.sh          # prints nothing more when it is there
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib/common.sh"

target="$NEXUSLOG_CACHE_DIR/python"
if ! PYTHONPATH="$target" python3 -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd into $target"
  python3 -m pip install -q --disable-pip-version-check --target "$target" 'aiosmtpd==1.4.6' >&2
fi
