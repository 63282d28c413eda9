#!/usr/bin/env bash
# PostgreSQL for NexusLog tests: a throwaway cluster on 127.0.0.1:$POSTGRES_PORT with
# role/database nexuslog (password nexuslog, scram-sha-256 over TCP so clients exercise real auth).
#   bash infra/postgres/service.sh <install|start|stop|health>
# Every start initialises a fresh cluster: tests never see data from an earlier run.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DIR="$(svc_dir postgres)"
DATA="$DIR/data"
DB=nexuslog  # role, password and database name

# The postgres binaries live in /usr/lib/postgresql/<major>/bin on Debian; /usr/bin only has
# wrappers for the client tools. Pick the newest installed major.
pg_bin() {
  local d major best="" best_major=0
  for d in /usr/lib/postgresql/*/bin; do
    major="$(basename "$(dirname "$d")")"
    if [[ -x "$d/postgres" && "$major" =~ ^[0-9]+$ ]] && (( major > best_major )); then
      best="$d" best_major="$major"
    fi
  done
  [[ -n "$best" ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (run: infra/services up postgres)"
  echo "$best"
}

# postgres, initdb and pg_ctl refuse to run as root. As root, drop to the Debian package's
# 'postgres' user with setpriv: unlike runuser/su it execs in place (no PAM parent process),
# so the pid start_bg records is the postmaster itself. As any other user run directly.
AS_PG=()
if [[ $(id -u) -eq 0 ]]; then
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env)
fi

# client access: the unix socket (trust, only reachable inside the 0700 data dir) for setup,
# TCP with password for everything else.
psql_admin() { "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$DATA" -p "$POSTGRES_PORT" -U postgres -d postgres "$@"; }
socket_ready() { "$(pg_bin)/pg_isready" -q -h "$DATA" -p "$POSTGRES_PORT" -U postgres -d postgres; }

healthy() {
  local bin; bin="$(pg_bin)"
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$DB" -d "$DB" -t 2 || return 1
  [[ "$(PGPASSWORD="$DB" PGCONNECT_TIMEOUT=2 "$bin/psql" -X -tA -h 127.0.0.1 -p "$POSTGRES_PORT" \
        -U "$DB" -d "$DB" -c 'select 1')" == 1 ]]
}

install() {
  # postgresql pulls in postgresql-<major> and its client; postgresql-common creates the
  # 'postgres' user. (Without a policy-rc.d, Debian also starts its own cluster on 5432; harmless.)
  apt_install postgresql
  pg_bin >/dev/null
  [[ $(id -u) -ne 0 ]] || id postgres >/dev/null 2>&1 || die "user 'postgres' missing after install"
}

start() {
  local bin; bin="$(pg_bin)"
  stop  # an earlier instance would hold the port and the data dir
  rm -rf "$DATA"
  mkdir -p "$DATA"
  chmod 700 "$DATA"  # postgres refuses a group/world-accessible data dir
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$DIR"
    "${AS_PG[@]}" test -w "$DATA" ||
      die "user postgres cannot write $DATA; point NEXUSLOG_SERVICES_DIR somewhere it can reach (e.g. under /tmp)"
  fi
  # unix socket paths are limited to 107 bytes
  (( ${#DATA} + 20 < 108 )) || die "socket path under $DATA too long; use a shorter NEXUSLOG_SERVICES_DIR"

  "${AS_PG[@]}" "$bin/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  # TLS on the same port (clients choose with sslmode): a copy of the test server key that
  # only postgres can read, as the server demands.
  ensure_certs
  cp "$INFRA_TLS_DIR/server.key" "$DATA/server.key"
  cp "$INFRA_TLS_DIR/server.pem" "$DATA/server.crt"
  chmod 600 "$DATA/server.key"
  [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$DATA/server.key" "$DATA/server.crt"
  cat >>"$DATA/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'

# --- NexusLog test instance (infra/postgres/service.sh) ---
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$DATA'
password_encryption = 'scram-sha-256'
max_connections = 200
# Throwaway test instance: durability is traded for speed; a crash loses the data, and that's fine.
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

  start_bg postgres "${AS_PG[@]}" "$bin/postgres" -D "$DATA"
  wait_healthy postgres 60 socket_ready || return 1
  psql_admin <<SQL
CREATE ROLE $DB LOGIN CREATEDB PASSWORD '$DB';
CREATE DATABASE $DB OWNER $DB;
SQL
  wait_healthy postgres 30 healthy
}

stop() {
  # Fast shutdown (SIGINT) through pg_ctl: disconnects clients and waits for every backend.
  # Uses the data dir's own postmaster.pid, so it also works if our pid file went missing.
  if [[ -f "$DATA/postmaster.pid" ]]; then
    "${AS_PG[@]}" "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  stop_pid postgres 10  # no-op after a clean pg_ctl stop; otherwise TERM/KILL the process group
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  health) healthy ;;
  *) die "usage: $0 <install|start|stop|health>" ;;
esac
