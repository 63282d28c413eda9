#!/usr/bin/env bash
# The operations tests: the Helm chart (lint, render, Kubernetes schemas, properties), the
# container image (hadolint; its entrypoint run here with the environment the chart gives each
# role, against the real services), the Compose file, and self-observability (promtool rule
# tests; a real Prometheus scraping NexusLog; the dashboard's queries), and the drop-in ingest
# endpoints driven by their ecosystems' client libraries. scripts/test.sh runs it
# after the cargo tests, with the services up and the binary built.
#
#   bash scripts/ops-test.sh [pytest args]    # NEXUSLOG_BIN: the nexuslog binary to run
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/lib/common.sh
bash scripts/ops-deps.sh
export PATH="$NEXUSLOG_CACHE_DIR/bin:$NEXUSLOG_CACHE_DIR/ops-python/bin:$PATH"
export PYTHONPATH="$NEXUSLOG_CACHE_DIR/ops-python${PYTHONPATH:+:$PYTHONPATH}"
export NEXUSLOG_BIN="${NEXUSLOG_BIN:-${CARGO_TARGET_DIR:-$NEXUSLOG_CACHE_DIR/target}/debug/nexuslog}"
[[ -x "$NEXUSLOG_BIN" ]] || die "no nexuslog binary at $NEXUSLOG_BIN (cargo build -p nexuslog first)"
eval "$(infra/services env)"
export PYTHONDONTWRITEBYTECODE=1
exec python3 -m pytest -q -p no:cacheprovider helm/tests infra/tests infra/observability/tests ingest-gateway/tests/clients "$@"
