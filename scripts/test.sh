#!/usr/bin/env bash
# The whole test suite against real services: installs what is missing, starts Kafka,
# OpenSearch, PostgreSQL, Redis and the schema registry on loopback, runs every workspace test,
# and stops the services again (also on failure).
#
#   bash scripts/test.sh              # everything
#   bash scripts/test.sh -p nexuslog-bus   # extra arguments go to `cargo test`
#
# Set KEEP_SERVICES=1 to leave the services running afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/lib/common.sh

# Builds and their caches live under ~/.cache so a repeat run is warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NEXUSLOG_CACHE_DIR/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-shot build gains nothing from incremental state, which doubled the target folder.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

start=$SECONDS
bash scripts/dev-deps.sh
bash scripts/syslog-deps.sh  # rsyslog, syslog-ng, logger, openssl for nexuslog/tests/syslog.rs
bash scripts/browser-deps.sh  # Chromium and a CJK font for the console's end-to-end test (nexuslog/tests/console.rs)
bash scripts/python-deps.sh  # aiosmtpd (mail for nexuslog/tests/alerts.rs), openapi-spec-validator (api/tests/openapi.rs)
bash scripts/ops-deps.sh  # helm, kubernetes-validate, hadolint, opscheck, promtool and prometheus for scripts/ops-test.sh
bash scripts/web-build.sh --test  # the console's unit tests, and web/dist for the binary the tests run

if [[ "${KEEP_SERVICES:-0}" != 1 ]]; then
  trap 'infra/services down >/dev/null 2>&1 || true' EXIT
fi
# Compile while the services start: both take a while and use different resources.
log "building tests"
( cargo test --workspace --no-run --locked -q >"$NEXUSLOG_SERVICES_DIR/build.log" 2>&1; echo $? >"$NEXUSLOG_SERVICES_DIR/build.rc" ) &
build_pid=$!
infra/services up
wait "$build_pid" || true
if [[ "$(cat "$NEXUSLOG_SERVICES_DIR/build.rc")" != 0 ]]; then
  cat "$NEXUSLOG_SERVICES_DIR/build.log" >&2
  die "build failed"
fi
infra/services status
eval "$(infra/services env)"

log "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -q -- -D warnings

log "running tests (setup took $((SECONDS - start))s)"
cargo test --workspace --locked "$@"
# The Helm chart, the image's entrypoint, the Compose file and the observability files (pytest),
# with the binary the cargo tests built; only for the whole suite (or OPS_TESTS=1).
if [[ $# -eq 0 || "${OPS_TESTS:-0}" == 1 ]]; then
  log "operations tests (helm/tests, infra/tests, infra/observability/tests)"
  NEXUSLOG_BIN="$CARGO_TARGET_DIR/debug/nexuslog" bash scripts/ops-test.sh
fi
# Every landing re-proves the delivery promise: a short chaos run in each mode (SIGKILLs under
# load; one Kafka restart where there is Kafka) must end with lost 0 and duplicated 0:
# the embedded default, one process on the services, and the roles apart. The test build's
# binary is used: chaos checks correctness, not speed. Only for the whole suite (or
# CHAOS_TESTS=1).
if [[ $# -eq 0 || "${CHAOS_TESTS:-0}" == 1 ]]; then
  cargo build --locked -q -p loadtest
  for mode in embedded standalone distributed; do
    log "chaos ($mode, 20000 events, SIGKILLs): lost and duplicated must be 0"
    summary="$("$CARGO_TARGET_DIR/debug/loadtest" chaos --mode "$mode" --events 20000 --nexuslog-bin "$CARGO_TARGET_DIR/debug/nexuslog" --json | tail -n 1)"
    echo "$summary"
    python3 - "$summary" <<'PY' || die "chaos ($mode) lost or duplicated events"
import json, shutil, sys
s = json.loads(sys.argv[1])
if not s.get("ok") or s.get("lost") or s.get("duplicated"):
    # CI keeps only this output: show what each role complained about (librdkafka's
    # connection-refused chatter during the Kafka restart left out).
    for path in s.get("role_logs", []):
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        noisy = ("librdkafka: FAIL", "Global error", "PartitionEOF")
        keep = [l for l in lines if (" WARN " in l or " ERROR " in l) and not any(n in l for n in noisy)]
        print(f"--- {path}: last warnings of {len(keep)}")
        for l in keep[-40:]:
            print(l[:400])
    sys.exit(1)
shutil.rmtree(s["run_dir"], ignore_errors=True)  # a passing run's logs and data are not needed
PY
  done
fi
log "all tests passed in $((SECONDS - start))s"
