#!/usr/bin/env bash
# Shared helpers for infra/<service>/service.sh scripts.
#
# Layout on disk:
#   $NEXUSLOG_CACHE_DIR  (default ~/.cache/nexuslog)   installs that survive runs: Maven repo, classpaths
#   $NEXUSLOG_SERVICES_DIR (default /tmp/nexuslog-services)  throwaway data, logs and pid files
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NEXUSLOG_CACHE_DIR="${NEXUSLOG_CACHE_DIR:-$HOME/.cache/nexuslog}"
export NEXUSLOG_SERVICES_DIR="${NEXUSLOG_SERVICES_DIR:-${TMPDIR:-/tmp}/nexuslog-services}"
export M2_REPO="${M2_REPO:-$NEXUSLOG_CACHE_DIR/m2}"
mkdir -p "$NEXUSLOG_CACHE_DIR" "$NEXUSLOG_SERVICES_DIR"

# Loopback ports, overridable so two checkouts can run side by side.
export KAFKA_PORT="${KAFKA_PORT:-19092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
export KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-19094}"
export KAFKA_SASL_USER="${KAFKA_SASL_USER:-nexuslog}"
export KAFKA_SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-nexuslog-sasl-secret}"
export OPENSEARCH_PORT="${OPENSEARCH_PORT:-19200}"
export OPENSEARCH_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-19300}"
export POSTGRES_PORT="${POSTGRES_PORT:-15432}"
export REDIS_PORT="${REDIS_PORT:-16379}"
export REGISTRY_PORT="${REGISTRY_PORT:-18081}"
# TLS beside each plain port (the plain ones stay for the tests that do not test TLS):
# Kafka SSL (client certificate required) and SASL_SSL (SCRAM); Redis tls-port; TLS proxies in
# front of OpenSearch and the registry (infra/tlsproxy). PostgreSQL takes TLS on its one port.
export KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-19095}"
export KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-19096}"
export REDIS_TLS_PORT="${REDIS_TLS_PORT:-16380}"
export OPENSEARCH_TLS_PORT="${OPENSEARCH_TLS_PORT:-19201}"
export REGISTRY_TLS_PORT="${REGISTRY_TLS_PORT:-18082}"
export INFRA_TLS_DIR="${INFRA_TLS_DIR:-$NEXUSLOG_SERVICES_DIR/tls}"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

svc_dir() { echo "$NEXUSLOG_SERVICES_DIR/$1"; }
pid_file() { echo "$NEXUSLOG_SERVICES_DIR/$1.pid"; }
log_file() { echo "$NEXUSLOG_SERVICES_DIR/$1.log"; }

# pid_alive PID: true if PID is a live process. A process that has exited but is not yet reaped
# (a zombie) counts as dead: start_bg's children are reparented to PID 1, and an init that reaps
# lazily would otherwise make kill -0 succeed for seconds after exit (or forever).
pid_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local st; st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0  # no /proc: trust kill -0
  st="${st##*) }"; [[ "${st:0:1}" != Z ]]
}

# is_running NAME: true if the pid file names a live process.
is_running() {
  local pf; pf="$(pid_file "$1")"
  [[ -f "$pf" ]] && pid_alive "$(cat "$pf")"
}

# start_bg NAME CMD...: start CMD detached in its own session, pid to NAME.pid, output to NAME.log.
start_bg() {
  local name="$1"; shift
  local lf; lf="$(log_file "$name")"
  : >"$lf"
  setsid "$@" >>"$lf" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
}

# stop_pid NAME [TIMEOUT]: TERM the process group, then KILL after TIMEOUT seconds.
stop_pid() {
  local name="$1" timeout="${2:-30}" pf pid
  pf="$(pid_file "$name")"
  [[ -f "$pf" ]] || return 0
  pid="$(cat "$pf")"
  if pid_alive "$pid"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i=0
    while pid_alive "$pid" && (( i < timeout * 10 )); do sleep 0.1; i=$((i + 1)); done
    if pid_alive "$pid"; then
      log "$name did not stop within ${timeout}s, killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pf"
}

# wait_healthy NAME TIMEOUT CHECK...: poll CHECK until it succeeds; on timeout or early
# process death print the log tail and fail.
wait_healthy() {
  local name="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  while (( SECONDS < deadline )); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -f "$(pid_file "$name")" ]] && ! is_running "$name"; then
      log "$name exited during start-up; last lines of $(log_file "$name"):"
      tail -n 40 "$(log_file "$name")" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  log "$name not healthy after ${timeout}s; last lines of $(log_file "$name"):"
  tail -n 40 "$(log_file "$name")" >&2 || true
  return 1
}

# mvn_classpath POM_DIR OUT_FILE: resolve a pom's runtime classpath into OUT_FILE (cached).
mvn_classpath() {
  local pom_dir="$1" out="$2"
  if [[ -s "$out" && "$out" -nt "$pom_dir/pom.xml" ]]; then return 0; fi
  log "resolving Maven dependencies for $pom_dir (first run only)"
  mvn -q -B -f "$pom_dir/pom.xml" -Dmaven.repo.local="$M2_REPO" \
    dependency:build-classpath -Dmdep.outputFile="$out.tmp" -Dmdep.includeScope=runtime >&2
  mv "$out.tmp" "$out"
}

# apt_install PKG...: install Debian packages that are missing (needs root).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  (( ${#missing[@]} == 0 )) && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  # wait for a concurrent apt/dpkg (another service's install) instead of failing on its lock
  local lock=(-o DPkg::Lock::Timeout=300)
  if [[ ! -f "$NEXUSLOG_CACHE_DIR/.apt-updated" ]] || [[ -n "$(find "$NEXUSLOG_CACHE_DIR/.apt-updated" -mmin +720 2>/dev/null)" ]]; then
    $sudo apt-get "${lock[@]}" update -qq >&2 && touch "$NEXUSLOG_CACHE_DIR/.apt-updated"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# http_ok URL: true when URL answers 2xx.
http_ok() { curl -fsS -m 2 -o /dev/null "$1"; }

# ensure_certs: a throwaway test CA and, signed by it, a server certificate for 127.0.0.1 and
# localhost and a client certificate (CN nexuslog), PEM in $INFRA_TLS_DIR; plus an unrelated CA
# (other-ca.pem) for wrong-CA tests. Made once per services directory; every service that speaks
# TLS calls it, so any start order works.
ensure_certs() {
  local d="$INFRA_TLS_DIR"
  [[ -s "$d/client.key" ]] && return 0
  command -v openssl >/dev/null || apt_install openssl
  mkdir -p "$d"
  (
    cd "$d"
    gen_ca() {
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
      openssl req -x509 -new -key "$1.key" -days 3650 -subj "/CN=$2" -out "$1.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    }
    gen_leaf() {  # name, CN, extensions
      openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
      openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    gen_ca ca "NexusLog test CA"
    gen_ca other-ca "Some other CA"
    gen_leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
    gen_leaf client nexuslog "extendedKeyUsage=clientAuth"
    cat server.key server.pem >server-keystore.pem  # Kafka's PEM keystore: key, then chain
    chmod 644 ./*.pem ./*.key  # services run as other users (postgres) and copy what they need
  ) || die "cannot generate test certificates in $d"
}
