#!/usr/bin/env bash
# infra/opensearch/service.sh <install|start|stop|health>
#
# A real single-node OpenSearch 2.19 on loopback, run from its Maven Central jars.
# bin/opensearch refuses to run as root (CI is root), so EmbeddedOpenSearch.java constructs the
# Node itself with the distribution's modules given as plugin classes (see pom.xml).
#
#   install  resolve the jars into $M2_REPO and build the launcher jar (cached under
#            $NEXUSLOG_CACHE_DIR/opensearch; redone only when pom.xml or the Java source change)
#   start    fresh data dir, start, wait until the cluster is green/yellow (no-op when healthy)
#   stop     stop the node; no process left behind
#   health   exit 0 only when the cluster answers green or yellow
#
# Environment: OPENSEARCH_PORT (HTTP, default 19200), OPENSEARCH_TRANSPORT_PORT (19300),
# OPENSEARCH_HEAP (default 1g), OPENSEARCH_JAVA_HOME (default: the machine's JDK 17).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

NAME=opensearch
HERE="$INFRA_DIR/opensearch"
CACHE="$NEXUSLOG_CACHE_DIR/opensearch"
CLASSPATH_FILE="$CACHE/classpath.txt"
LAUNCHER_JAR="$CACHE/embedded-opensearch.jar"
STAMP_FILE="$CACHE/build.sha256"   # hash of the inputs the cached classpath + jar were built from
HEAP="${OPENSEARCH_HEAP:-1g}"
BASE_URL="http://127.0.0.1:$OPENSEARCH_PORT"

# OpenSearch 2.19 wants Java 17-21; JAVA_HOME may point at the machine's Java 25 for other tools.
java_home() {
  if [[ -n "${OPENSEARCH_JAVA_HOME:-}" ]]; then echo "$OPENSEARCH_JAVA_HOME"; return; fi
  local d
  for d in /usr/lib/jvm/java-17-openjdk-*; do
    [[ -x "$d/bin/javac" ]] && { echo "$d"; return; }
  done
  dirname "$(dirname "$(readlink -f "$(command -v javac)")")"
}

# Hash of everything the install depends on: a new checkout (new mtimes) stays cached.
inputs_hash() {
  cat "$HERE/pom.xml" $(find "$HERE/src" -name '*.java' | sort) | sha256sum | cut -d' ' -f1
}

# cached_jars_present: every jar the cached classpath names is still in $M2_REPO.
cached_jars_present() {
  local jar jars; IFS=: read -r -a jars <"$CLASSPATH_FILE"
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || return 1; done
}

do_install() {
  local hash; hash="$(inputs_hash)"
  if [[ -s "$LAUNCHER_JAR" && -s "$CLASSPATH_FILE" && "$(cat "$STAMP_FILE" 2>/dev/null)" == "$hash" ]] &&
     cached_jars_present; then
    return 0
  fi
  # A fresh machine may lack the JDK or Maven (both from Debian).
  command -v mvn >/dev/null && ls /usr/lib/jvm/java-17-openjdk-*/bin/javac >/dev/null 2>&1 ||
    apt_install openjdk-17-jdk-headless maven
  local jh; jh="$(java_home)"
  mkdir -p "$CACHE"
  log "resolving OpenSearch jars into $M2_REPO (first run only)"
  JAVA_HOME="$jh" mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" -Dmaven.repo.local="$M2_REPO" \
    dependency:build-classpath -Dmdep.outputFile="$CLASSPATH_FILE.tmp" -Dmdep.includeScope=runtime >&2
  mv "$CLASSPATH_FILE.tmp" "$CLASSPATH_FILE"

  # Plain javac + jar: one source file, no need for Maven's compiler/jar plugins.
  log "building the OpenSearch launcher"
  local build="$CACHE/build"
  rm -rf "$build"; mkdir -p "$build/classes"
  "$jh/bin/javac" --release 17 -nowarn -encoding UTF-8 -cp "$(cat "$CLASSPATH_FILE")" \
    -d "$build/classes" $(find "$HERE/src/main/java" -name '*.java') >&2
  "$jh/bin/jar" --create --file "$LAUNCHER_JAR.tmp" -C "$build/classes" .
  mv "$LAUNCHER_JAR.tmp" "$LAUNCHER_JAR"
  echo "$hash" >"$STAMP_FILE"
}

# health_check [WAIT]: green/yellow answer from _cluster/health; WAIT lets the server hold the
# request up to that long for yellow (start-up), without it the check is quick.
health_check() {
  local url="$BASE_URL/_cluster/health" max=2
  if [[ -n "${1:-}" ]]; then url+="?wait_for_status=yellow&timeout=$1"; max=$((${1%s} + 3)); fi
  curl -sS -m "$max" "$url" 2>/dev/null | grep -Eq '"status" *: *"(green|yellow)"'
}

do_start() {
  if health_check; then log "$NAME already healthy on $BASE_URL"; return 0; fi
  do_install
  stop_pid "$NAME"   # a stale, unhealthy node would hold the ports
  local dir jh; dir="$(svc_dir "$NAME")"; jh="$(java_home)"

  # Fresh node every start. modules/ and plugins/ stay empty: plugins come from the classpath
  # (PluginsService would jar-hell-check anything found there).
  rm -rf "$dir"
  mkdir -p "$dir/home/config" "$dir/home/modules" "$dir/home/plugins" "$dir/data" "$dir/logs" "$dir/tmp"
  cp "$HERE/log4j2.properties" "$dir/home/config/log4j2.properties"

  # JVM flags: the parts of the distribution's jvm.options that matter here.
  #  - available.processors=false: netty must not set it again (OpenSearch already did)
  #  - log4j shutdown hook off: OpenSearch's own shutdown hook still wants to log
  #  - locale providers SPI,COMPAT: as OpenSearch 2.x runs on Java 17 (date formats)
  local jvm=(
    -Xms512m "-Xmx$HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow
    -Dfile.encoding=UTF-8 -Djava.io.tmpdir="$dir/tmp" -Djava.locale.providers=SPI,COMPAT
    -Dopensearch.set.netty.runtime.available.processors=false
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true
  )
  local settings=(
    cluster.name=nexuslog node.name=nexuslog-1
    path.home="$dir/home" path.data="$dir/data" path.logs="$dir/logs"
    discovery.type=single-node
    network.host=127.0.0.1 http.port="$OPENSEARCH_PORT" transport.port="$OPENSEARCH_TRANSPORT_PORT"
    transport.type=netty4 http.type=netty4
    # a test box's disk may be nearly full: do not turn indices read-only for that
    cluster.routing.allocation.disk.threshold_enabled=false
  )
  start_bg "$NAME" "$jh/bin/java" "${jvm[@]}" -cp "$LAUNCHER_JAR:$(cat "$CLASSPATH_FILE")" \
    dev.nexuslog.infra.EmbeddedOpenSearch "${settings[@]}"
  wait_healthy "$NAME" 180 health_check 5s || { stop_pid "$NAME" 10; return 1; }

  # One node cannot hold replicas: indices created without an explicit count get 0 and stay
  # green. Index creation reads this from the cluster state, so a node setting would not do.
  curl -fsS -m 10 -X PUT "$BASE_URL/_cluster/settings" -H 'Content-Type: application/json' \
    -d '{"persistent":{"cluster.default_number_of_replicas":0}}' | grep -q '"acknowledged":true' ||
    { log "could not set cluster.default_number_of_replicas"; stop_pid "$NAME" 10; return 1; }
  log "$NAME up on $BASE_URL (log: $(log_file "$NAME"))"
}

case "${1:-}" in
  install) do_install ;;
  start) do_start ;;
  stop) stop_pid "$NAME" 40 ;;
  health) health_check ;;
  *) die "usage: $0 <install|start|stop|health>" ;;
esac
