#!/usr/bin/env bash
# Installs what the web console's browser tests drive, from Debian: Chromium (run by
# playwright-core; Playwright's own browser downloads cannot be used here) and a CJK font, without
# which every Chinese character renders as a box in the screenshots.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib/common.sh"
apt_install chromium fonts-noto-cjk
