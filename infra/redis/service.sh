#!/usr/bin/env bash
# Redis for NexusLog tests: a throwaway, memory-only redis-server on 127.0.0.1:$REDIS_PORT.
#   bash infra/redis/service.sh <install|start|stop|health>
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR="$(svc_dir redis)"

healthy() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

install() {
  # redis-tools provides redis-cli. On a machine without a policy-rc.d (Docker images have
  # one that says "don't start services"), Debian also starts its own redis on 6379; we never
  # use it, our instance runs on $REDIS_PORT.
  apt_install redis-server redis-tools
  command -v redis-server >/dev/null || die "redis-server not on PATH after install"
}

start() {
  stop  # an earlier instance would hold the port
  rm -rf "$DIR"
  mkdir -p "$DIR"
  # Foreground (start_bg tracks the pid), no persistence (--save '' and no AOF): throwaway data.
  ensure_certs
  # A TLS port beside the plain one; clients need no certificate of their own.
  start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
    --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$INFRA_TLS_DIR/server.pem" \
    --tls-key-file "$INFRA_TLS_DIR/server.key" --tls-ca-cert-file "$INFRA_TLS_DIR/ca.pem" \
    --tls-auth-clients no \
    --save '' --appendonly no --dir "$DIR" --daemonize no --logfile ''
  wait_healthy redis 30 healthy
}

stop() { stop_pid redis 10; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  health) healthy ;;
  *) die "usage: $0 <install|start|stop|health>" ;;
esac
