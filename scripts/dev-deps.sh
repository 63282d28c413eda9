#!/usr/bin/env bash
# Installs what building NexusLog needs beyond the machine's Rust toolchain: librdkafka is built
# from source by the rdkafka crate (cmake), and its sources include curl's headers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib/common.sh"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"
apt_install cmake build-essential pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev libsasl2-dev curl
