#!/usr/bin/env bash
# Runs NexusLog on the real services it uses in production: installs and starts Kafka,
# OpenSearch, PostgreSQL, Redis and the schema registry on loopback (see infra/README.md), then
# runs `nexuslog` (every role in one process, or the role given as argument) against them.
# Extra arguments go to `nexuslog`. Stop with Ctrl-C; `infra/services down` stops the services.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source infra/lib/common.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NEXUSLOG_CACHE_DIR/target}"

bash scripts/dev-deps.sh
log "building nexuslog (release) while the services start"
( cargo build --release --locked -q -p nexuslog >"$NEXUSLOG_SERVICES_DIR/run-build.log" 2>&1; echo $? >"$NEXUSLOG_SERVICES_DIR/run-build.rc" ) &
build_pid=$!
infra/services up
wait "$build_pid" || true
if [[ "$(cat "$NEXUSLOG_SERVICES_DIR/run-build.rc")" != 0 ]]; then
  cat "$NEXUSLOG_SERVICES_DIR/run-build.log" >&2
  die "build failed"
fi
eval "$(infra/services env)"
export NEXUSLOG_BUS_KIND=kafka NEXUSLOG_BUS_KAFKA_BROKERS="$NEXUSLOG_TEST_KAFKA_BROKERS"
export NEXUSLOG_LOGSTORE_KIND=opensearch NEXUSLOG_LOGSTORE_OPENSEARCH_URL="$NEXUSLOG_TEST_OPENSEARCH_URL"
export NEXUSLOG_METASTORE_KIND=postgres NEXUSLOG_METASTORE_POSTGRES_URL="$NEXUSLOG_TEST_POSTGRES_URL"
export NEXUSLOG_STATE_KIND=redis NEXUSLOG_STATE_REDIS_URL="$NEXUSLOG_TEST_REDIS_URL"
export NEXUSLOG_SCHEMA_REGISTRY_URL="$NEXUSLOG_TEST_SCHEMA_REGISTRY_URL"
export NEXUSLOG_BUS_KAFKA_PARTITIONS="${NEXUSLOG_BUS_KAFKA_PARTITIONS:-3}"
exec "$CARGO_TARGET_DIR/release/nexuslog" "$@"
