#!/usr/bin/env bash
# Installs the Python tools the tests run, from PyPI, into $NEXUSLOG_CACHE_DIR/python (used
# with that PYTHONPATH):
#   - aiosmtpd: a real SMTP server nexuslog/tests/alerts.rs sends mail to;
#   - openapi-spec-validator: checks the OpenAPI document (api/tests/openapi.rs).
#
#   bash scripts/python-deps.sh          # prints nothing more when they are there
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib/common.sh"

target="$NEXUSLOG_CACHE_DIR/python"
if ! PYTHONPATH="$target" python3 -c 'import aiosmtpd, openapi_spec_validator' 2>/dev/null; then
  log "installing aiosmtpd and openapi-spec-validator into $target"
  python3 -m pip install -q --disable-pip-version-check --upgrade --target "$target" 'aiosmtpd==1.4.6' 'openapi-spec-validator==0.7.1' >&2
fi
