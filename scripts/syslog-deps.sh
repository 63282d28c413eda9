#!/usr/bin/env bash
# Installs the real syslog senders the syslog integration tests and `loadtest syslog-bench`
# drive: rsyslog (with its GnuTLS driver), syslog-ng, logger(1) and openssl (test certificates).
#
# rsyslog and syslog-ng-core conflict in Debian (both provide system-log-daemon), so rsyslog is
# installed normally and syslog-ng-core is only unpacked, with its library dependencies
# installed through apt, into $NEXUSLOG_CACHE_DIR/syslog-ng (cached). Its binary runs from
# there: $NEXUSLOG_CACHE_DIR/syslog-ng/run.sh wraps it with the right LD_LIBRARY_PATH and
# --module-path. Neither daemon is started by the install (we run our own instances).
#
#   bash scripts/syslog-deps.sh          # prints nothing more when everything is there
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib/common.sh"

# Package scripts must not start the system daemons: they would take port 514 and /dev/log and
# race the tests. Debian's invoke-rc.d asks /usr/sbin/policy-rc.d; exit 101 means "don't".
# A policy file of our own is put in place only for the install, and only if none exists.
own_policy=""
if [[ ! -e /usr/sbin/policy-rc.d && $(id -u) -eq 0 ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  own_policy=/usr/sbin/policy-rc.d
fi
cleanup() { [[ -n "$own_policy" ]] && rm -f "$own_policy"; return 0; }
trap cleanup EXIT

apt_install rsyslog rsyslog-gnutls bsdutils openssl

sng_dir="$NEXUSLOG_CACHE_DIR/syslog-ng"
if [[ ! -x "$sng_dir/root/usr/sbin/syslog-ng" || ! -x "$sng_dir/run.sh" ]]; then
  # Direct dependencies, without virtual packages (<...>) and the alternatives apt-cache lists
  # indented under a dependency (we take the first choice, as apt would).
  mapfile -t deps < <(apt-cache depends syslog-ng-core \
    | sed -n -E 's/^ {2}\|?(Pre)?Depends: ([^<][^ ]*)$/\2/p' | sort -u)
  (( ${#deps[@]} > 0 )) || die "apt-cache depends syslog-ng-core listed nothing: run apt-get update"
  apt_install "${deps[@]}"
  log "unpacking syslog-ng-core into $sng_dir (rsyslog conflicts with installing it)"
  rm -rf "$sng_dir.tmp" && mkdir -p "$sng_dir.tmp/root"
  (cd "$sng_dir.tmp" && apt-get download -qq syslog-ng-core >&2)
  dpkg -x "$sng_dir.tmp"/syslog-ng-core_*.deb "$sng_dir.tmp/root"
  modules="$(dirname "$(find "$sng_dir.tmp/root" -name 'libafsocket.so' | head -n 1)")"
  [[ -d "$modules" ]] || die "syslog-ng-core has no afsocket module (layout changed?)"
  libdirs="$(find "$sng_dir.tmp/root" -name 'libsyslog-ng*.so*' -printf '%h\n' | sort -u | tr '\n' ':')"
  rm -rf "$sng_dir" && mv "$sng_dir.tmp" "$sng_dir"
  modules="${modules/#$sng_dir.tmp/$sng_dir}"
  libdirs="${libdirs//$sng_dir.tmp/$sng_dir}"
  cat >"$sng_dir/run.sh" <<EOF
#!/bin/sh
# syslog-ng unpacked by scripts/syslog-deps.sh; arguments go to syslog-ng.
export LD_LIBRARY_PATH="${libdirs}\${LD_LIBRARY_PATH:-}"
exec "$sng_dir/root/usr/sbin/syslog-ng" --module-path="$modules" "\$@"
EOF
  chmod +x "$sng_dir/run.sh"
  rm -f "$sng_dir"/syslog-ng-core_*.deb
fi
"$sng_dir/run.sh" --version >/dev/null 2>&1 || {
  "$sng_dir/run.sh" --version >&2 || true
  die "the unpacked syslog-ng in $sng_dir does not run; delete it and re-run this script"
}
command -v rsyslogd >/dev/null || [[ -x /usr/sbin/rsyslogd ]] || die "rsyslogd missing after install"
