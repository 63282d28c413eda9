#!/usr/bin/env bash
# Confluent-compatible schema registry for tests: Apicurio Registry 2.6.13.Final (the in-memory
# "app" build, H2 in memory) on loopback, run on the machine's Java 17. The runnable assembly
# (classifier `all`, tar.gz: a Quarkus runner jar plus lib/) comes from Maven Central via mvn.
# No Docker, no tarball from anywhere else. State is in memory: every start is a fresh registry.
#
#   service.sh install   fetch + unpack the assembly into $NEXUSLOG_CACHE_DIR/registry (cached)
#   service.sh start     start on 127.0.0.1:$REGISTRY_PORT, wait until the ccompat API answers
#   service.sh stop      stop it (TERM, then KILL after 30s); no process left behind
#   service.sh health    GET <base>/subjects answers 2xx
#
# Confluent API base: http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7 (v6 also served).
# Why 2.6.x and not 3.x: apicurio-registry-app 3.x assemblies are compiled for Java 21
# (class file 65) and do not start on Java 17; 2.6.13.Final is the newest 2.x on Central.
#
# Known differences from Confluent's registry (Rust clients tolerate them; see the commit):
#  - ids are Apicurio content ids: the same schema text under two subjects gets the same id
#    (as in Confluent), but ids can skip numbers (a registration rejected by a compatibility
#    rule still consumes an id).
#  - responses carry an extra "references":[] field; POST /compatibility returns
#    {"is_compatible":bool,"reason":null}.
#  - JSON Schema content needs a "$schema" key, else 422 "Failed to discover artifact type".
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NAME=registry
VERSION="${REGISTRY_APICURIO_VERSION:-2.6.13.Final}"
ARTIFACT="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all"
CACHE="$NEXUSLOG_CACHE_DIR/registry"
HOME_DIR="$CACHE/apicurio-registry-$VERSION"
RUNNER="$HOME_DIR/apicurio-registry-app-$VERSION-runner.jar"
DATA="$(svc_dir "$NAME")"
BASE_URL="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
JAVA="${JAVA:-java}"
# Small heap, serial GC and C1 only: tests need little, and the 2-core machine is shared.
REGISTRY_JAVA_OPTS="${REGISTRY_JAVA_OPTS:--Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

cmd_install() {
  [[ -f "$RUNNER" && -d "$HOME_DIR/lib" ]] && return 0
  mkdir -p "$CACHE"
  log "fetching $ARTIFACT from Maven Central (first run only, ~140 MB)"
  mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$M2_REPO" dependency:get -Dtransitive=false -Dartifact="$ARTIFACT" >&2 \
    || die "could not fetch $ARTIFACT"
  local tgz="$M2_REPO/io/apicurio/apicurio-registry-app/$VERSION/apicurio-registry-app-$VERSION-all.tar.gz"
  [[ -s "$tgz" ]] || die "expected $tgz after mvn dependency:get"
  # Unpack beside the target and rename, so an interrupted install never looks complete.
  local tmp="$HOME_DIR.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -xzf "$tgz" -C "$tmp"
  [[ -f "$tmp/apicurio-registry-app-$VERSION-runner.jar" ]] || { rm -rf "$tmp"; die "no runner jar in $tgz"; }
  rm -rf "$HOME_DIR" && mv "$tmp" "$HOME_DIR"
  # The tarball has served its purpose; keep the Maven repo lean.
  rm -f "$tgz"
}

cmd_health() { http_ok "$BASE_URL/subjects"; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

cmd_start() {
  cmd_health 2>/dev/null && return 0
  if ! is_running "$NAME"; then
    [[ -f "$RUNNER" ]] || die "registry is not installed (run: infra/services up registry)"
    port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by another process (set REGISTRY_PORT)"
    # Fresh working dir each start: Narayana's ObjectStore lands in the cwd; data is in memory.
    rm -rf "$DATA" && mkdir -p "$DATA"
    cd "$DATA"
    # shellcheck disable=SC2086
    start_bg "$NAME" "$JAVA" $REGISTRY_JAVA_OPTS \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
      -Djava.io.tmpdir="$DATA" \
      -jar "$RUNNER"
  fi
  wait_healthy "$NAME" 120 cmd_health
}

cmd_stop() { stop_pid "$NAME" 30; }

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  health) cmd_health ;;
  *) die "usage: $0 install|start|stop|health" ;;
esac
