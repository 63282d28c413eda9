#!/usr/bin/env bash
# Builds the web console (web/ → web/dist), which the `nexuslog` binary embeds and serves at `/`.
# Needs Node and npm (on the machine); installs the packages from web/package-lock.json, again
# only when the lock file changed. With --test, also runs the unit tests (Vitest).
#
#   bash scripts/web-build.sh           # build
#   bash scripts/web-build.sh --test    # unit tests, then build
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/lib/common.sh"
web="$root/web"

if [[ ! -f "$web/package.json" ]]; then
  log "no web/ console in this checkout; skipping the UI build"
  exit 0
fi
command -v npm >/dev/null || die "npm not found: install Node.js 20 or later to build the web console"
cd "$web"
stamp="node_modules/.nexuslog-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "installing the web console's packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
if [[ "${1:-}" == "--test" ]]; then
  log "web console unit tests"
  npm test --silent >&2
fi
log "building the web console"
npm run build --silent >&2
