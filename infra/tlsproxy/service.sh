#!/usr/bin/env bash
# TLS in front of OpenSearch and the schema registry, for the tests of NexusLog's https
# clients. Neither runs TLS itself here: OpenSearch's security plugin needs its own
# certificates, users and an admin tool run after start, and the registry is a Quarkus jar;
# socat (Debian) terminates TLS with the test CA's server certificate and forwards to each
# plain port, per connection. The OpenSearch proxy also demands a client certificate, so the
# client-certificate settings are exercised.
#
#   service.sh install|start|stop|health
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

proxy() {  # name, TLS port, target port, extra socat options
  local d="$INFRA_TLS_DIR"
  start_bg "$1" socat \
    "OPENSSL-LISTEN:$2,bind=127.0.0.1,reuseaddr,fork,cert=$d/server.pem,key=$d/server.key,cafile=$d/ca.pem,$4" \
    "TCP:127.0.0.1:$3"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

healthy() {
  is_running tlsproxy-opensearch && is_running tlsproxy-registry &&
    port_open "$OPENSEARCH_TLS_PORT" && port_open "$REGISTRY_TLS_PORT"
}

install() {
  command -v socat >/dev/null || apt_install socat
  command -v socat >/dev/null || die "socat not on PATH after install"
}

start() {
  stop
  ensure_certs
  proxy tlsproxy-opensearch "$OPENSEARCH_TLS_PORT" "$OPENSEARCH_PORT" verify=1
  proxy tlsproxy-registry "$REGISTRY_TLS_PORT" "$REGISTRY_PORT" verify=0
  wait_healthy tlsproxy 15 healthy
}

stop() {
  stop_pid tlsproxy-opensearch 5
  stop_pid tlsproxy-registry 5
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  health) healthy ;;
  *) die "usage: $0 <install|start|stop|health>" ;;
esac
