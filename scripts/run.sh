#!/usr/bin/env bash
# Runs NexusLog standalone: every role in one process on embedded storage under ./nexuslog-data
# (durable log, Tantivy index, SQLite, checkpointed state), HTTP on port 8000. Installs the
# build dependencies it lacks, builds in release mode, and runs. Extra arguments go to
# `nexuslog` (try --help). For the distributed backends, see scripts/run-distributed.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/lib/common.sh"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NEXUSLOG_CACHE_DIR/target}"

bash "$root/scripts/dev-deps.sh"
bash "$root/scripts/web-build.sh"   # the console, embedded in the binary
log "building nexuslog (release; the first build takes a few minutes)"
cargo build --release --locked -q --manifest-path "$root/Cargo.toml" -p nexuslog
exec "$CARGO_TARGET_DIR/release/nexuslog" "$@"
