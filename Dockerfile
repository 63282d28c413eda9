# syntax=docker/dockerfile:1
# NexusLog: one image, one binary; the role is the command:
#   docker run ghcr.io/nexuslog/nexuslog                # standalone (every role, embedded storage)
#   docker run ghcr.io/nexuslog/nexuslog gateway        # or processor | sink | api
# Configuration: NEXUSLOG_* variables or a TOML file at NEXUSLOG_CONFIG (see `nexuslog config keys`).

# --- the web console (embedded into the binary) --------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- the binary ------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS build
# librdkafka is built from source by rdkafka's cmake-build feature.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake=3.25.* zlib1g-dev=1:1.2.* \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p nexuslog --bin nexuslog \
 && install -D -m 0755 target/release/nexuslog /out/nexuslog \
 && mkdir -p /out/data

# --- runtime ---------------------------------------------------------------------------------
# distroless cc: glibc, libgcc, OpenSSL's libssl3 (librdkafka's TLS and SCRAM, built against the
# build stage's Debian 12 libssl-dev), CA certificates, no shell or package manager; zlib, the
# other dynamic dependency, is copied from the build stage.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /lib/x86_64-linux-gnu/libz.so.1 /lib/x86_64-linux-gnu/libz.so.1
COPY --from=build /out/nexuslog /usr/local/bin/nexuslog
COPY --from=build --chown=65532:65532 /out/data /var/lib/nexuslog
# Port 8000: HTTP (ingest, API, console, /healthz, /readyz, /metrics). Syslog when configured
# (non-root: use ports above 1024, e.g. 1601/tcp, 1514/udp, 6514/tcp for TLS).
EXPOSE 8000
# Embedded storage (standalone) lives here; mount a volume. Only this one setting is an image
# default: variables outrank the configuration file, so anything set here would silently beat a
# mounted nexuslog.toml (http.addr already defaults to 0.0.0.0:8000).
ENV NEXUSLOG_DATA_DIR=/var/lib/nexuslog
WORKDIR /var/lib/nexuslog
# distroless' `nonroot` user (65532) by number, so Kubernetes' runAsNonRoot can verify it. The
# Helm chart runs it as 10001: nothing in the image depends on the user id.
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/nexuslog", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/nexuslog"]
CMD ["standalone"]
