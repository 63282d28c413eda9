//! Runs a role (or all of them): connects backends, bootstraps, spawns the role loops, serves
//! HTTP, and shuts down in order on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use nexuslog_bus::{Bus, Topics};
use nexuslog_common::shutdown::Shutdown;
use nexuslog_config::{Config, LogStoreKind};
use nexuslog_logstore::LogStore;
use nexuslog_metastore::MetaStore;
use nexuslog_schemas::{AlertEvent, DeadLetter, LogRecord, RawEvent};
use nexuslog_state::StateStore;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::backends;
use crate::cli::Role;

/// How often in-process state is written to the data directory.
const STATE_CHECKPOINT_EVERY: Duration = Duration::from_secs(10);

/// How often the log store's retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Attempts at registering the schemas at start-up before giving up.
const SCHEMA_ATTEMPTS: u32 = 5;

/// How long shutdown waits for role loops to finish their current batch.
/// How long in-flight HTTP requests may take to finish after a stop signal.
const HTTP_DRAIN_DEADLINE: Duration = Duration::from_secs(20);
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// The backends a process holds, for readiness checks.
#[derive(Clone, Default)]
struct Deps {
    bus: Option<Arc<dyn Bus>>,
    logstore: Option<Arc<dyn LogStore>>,
    meta: Option<Arc<dyn MetaStore>>,
    state: Option<Arc<dyn StateStore>>,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The directory whose free space `/metrics` reports (embedded backends only).
    data_dir: Option<std::path::PathBuf>,
    /// Triggered when the process begins to stop: `/readyz` then answers 503, so load
    /// balancers stop sending while in-flight requests finish.
    stopping: Shutdown,
}

pub async fn run(role: Role, config: Config) -> anyhow::Result<()> {
    // Two stages, so a signal never cuts an acknowledged request short: `stop` (the signal)
    // ends accepting and lets in-flight HTTP requests finish; only then `shutdown` drains the
    // roles, which those requests may still be producing through.
    let stop = Shutdown::new();
    stop.trigger_on_signals();
    let shutdown = Shutdown::new();
    let metrics = crate::telemetry::install(role);

    let all = role == Role::Standalone;
    // The API reads the processed-records stream for the live tail.
    let needs_bus = all || matches!(role, Role::Gateway | Role::Processor | Role::Sink | Role::Api);
    let needs_store = all || matches!(role, Role::Sink | Role::Api);
    let needs_meta = all || matches!(role, Role::Gateway | Role::Api | Role::Processor);
    let needs_state = all || matches!(role, Role::Gateway | Role::Api | Role::Processor);

    let mut deps = Deps { metrics, data_dir: crate::telemetry::data_dir(&config), stopping: stop.clone(), ..Deps::default() };
    if needs_meta {
        deps.meta = Some(backends::metastore(&config).await?);
    }
    if needs_bus {
        deps.bus = Some(backends::bus(&config).await?);
    }
    if needs_store {
        deps.logstore = Some(backends::logstore(&config).await?);
    }
    let mut checkpointed = None;
    if needs_state {
        let (state, memory) = backends::state(&config).await?;
        deps.state = Some(state);
        checkpointed = memory;
    }
    let mut codec = backends::codec(&config)?;
    let topics = Topics::with_prefix(&config.bus.topic_prefix);

    if let Some(bus) = &deps.bus {
        let partitions = i32::try_from(config.bus.kafka.partitions).context("bus.kafka.partitions")?;
        for t in topics.partitioned() {
            bus.create_topic(t, partitions).await.with_context(|| format!("creating topic {t}"))?;
        }
        for t in topics.single_partition() {
            bus.create_topic(t, 1).await.with_context(|| format!("creating topic {t}"))?;
        }
        // Replicas starting together race to register the same subjects, and a registry may
        // answer the loser 409; the converter caches that answer, so a retry needs a new codec.
        let mut attempt = 1;
        loop {
            match prepare_schemas(&codec, &topics).await {
                Ok(()) => break,
                Err(e) if attempt < SCHEMA_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "schema registration failed; retrying");
                    tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
                    codec = backends::codec(&config)?;
                    attempt += 1;
                }
                Err(e) => anyhow::bail!("cannot register schemas at `schema_registry.url` = {}: {e}", config.schema_registry.url),
            }
        }
    }
    if let Some(store) = &deps.logstore {
        store.prepare().await.context("installing the log store's index template")?;
    }
    if let Some(meta) = &deps.meta {
        let key = config.bootstrap.api_key.is_set().then(|| config.bootstrap.api_key.expose());
        let password = config.bootstrap.admin_password.is_set().then(|| config.bootstrap.admin_password.expose());
        let boot = nexuslog_metastore::bootstrap::ensure(meta.as_ref(), key, password).await.context("bootstrapping the metadata store")?;
        if let Some(password) = &boot.created_admin_password {
            println!("\nNexusLog first start: created the instance admin `{}` with password (shown once): {password}", nexuslog_metastore::bootstrap::ADMIN_EMAIL);
        }
        if let Some(secret) = boot.created_key {
            print_first_start(&config, &secret);
        }
        let resealed = meta.reseal().await.context("sealing stored credentials with `secrets.key_file`'s first key")?;
        if resealed > 0 {
            tracing::info!(resealed, "stored credentials sealed with the current key");
        }
    }

    let mut tasks = JoinSet::new();
    let http_tls = http_tls(&config, &stop, &mut tasks)?;
    let mut app = Router::new();
    if let Some(bus) = deps.bus.clone() {
        let groups = crate::telemetry::groups(role, &topics);
        if !groups.is_empty() {
            let s = shutdown.clone();
            tasks.spawn(async move {
                crate::telemetry::watch_lag(bus, groups, s).await;
                Ok(())
            });
        }
    }
    // One key cache per process: a revocation through the API is forgotten by this process's
    // gateway at once (other processes learn it through the cache's revocation poll).
    let key_cache = deps.meta.clone().map(nexuslog_metastore::KeyCache::new);
    if matches!(role, Role::Standalone | Role::Gateway) {
        let (Some(bus), Some(meta)) = (deps.bus.clone(), deps.meta.clone()) else { return Err(missing_deps()) };
        let limits = nexuslog_ingest_gateway::GatewayLimits {
            max_body_bytes: config.http.max_body_bytes,
            max_event_bytes: config.http.max_event_bytes,
            events_per_sec_per_key: u32::try_from(config.http.rate_limit_events_per_sec).ok().and_then(std::num::NonZeroU32::new),
            max_in_flight: usize::try_from(config.http.max_in_flight).unwrap_or(usize::MAX),
            body_read_timeout: Duration::from_secs(config.http.body_read_timeout_secs),
        };
        let backlog = nexuslog_ingest_gateway::Backlog::new(config.bus.max_backlog_records);
        if config.bus.max_backlog_records > 0 {
            // The pipeline's two stages: processors on the raw topic, sinks on the logs topic.
            let stages = vec![
                (nexuslog_stream_processors::ProcessorConfig::default().group, topics.raw.clone()),
                (nexuslog_sinks::IndexerConfig::default().group, topics.logs.clone()),
            ];
            let (watcher, bus, s) = (backlog.clone(), bus.clone(), shutdown.clone());
            tasks.spawn(async move {
                watcher.watch(bus, stages, s).await;
                Ok(())
            });
        }
        let ingest = nexuslog_ingest_gateway::Ingest::new(bus, codec.clone(), topics.clone(), usize::try_from(config.bus.max_record_bytes).unwrap_or(usize::MAX))
            .with_backlog(backlog)
            .with_redaction(nexuslog_ingest_gateway::Redactions::new(meta.clone()))
            .with_multiline(nexuslog_ingest_gateway::Multiline::new(meta.clone(), usize::try_from(config.http.max_event_bytes).unwrap_or(usize::MAX)));
        let keys = key_cache.clone().ok_or_else(missing_deps)?;
        crate::syslog::spawn_listeners(&config, ingest.clone(), keys.clone(), meta, &shutdown, &mut tasks).await?;
        // With a state store (always, in these roles) the per-key limit is shared by every
        // replica and idempotent retries keep their first receive time.
        let gw = match deps.state.clone() {
            Some(state) => nexuslog_ingest_gateway::Gateway::with_state(ingest, keys, limits, state),
            None => nexuslog_ingest_gateway::Gateway::new(ingest, keys, limits),
        };
        if !config.http.otlp_grpc_addr.is_empty() {
            spawn_otlp_grpc(&config, gw.clone(), http_tls.clone(), stop.clone(), &mut tasks).await?;
        }
        app = app.merge(nexuslog_ingest_gateway::router(gw));
        if matches!(role, Role::Gateway) {
            // No console in this role: `/` is only the Elasticsearch clients' version probe.
            app = app.route("/", get(|| async { nexuslog_ingest_gateway::es::cluster_info() }));
        }
    }
    if matches!(role, Role::Standalone | Role::Processor) {
        let (Some(bus), Some(meta)) = (deps.bus.clone(), deps.meta.clone()) else { return Err(missing_deps()) };
        let pipelines = nexuslog_stream_processors::PipelineRegistry::new(meta.clone());
        // Start with the pipelines in force, so the first batch already uses them.
        pipelines.refresh().await.context("loading processing pipelines")?;
        let (registry, s) = (pipelines.clone(), shutdown.clone());
        tasks.spawn(async move {
            registry.run(s).await;
            Ok(())
        });
        let alert_rules = nexuslog_stream_processors::alerting::AlertRuleRegistry::new(meta.clone());
        alert_rules.refresh().await.context("loading alert rules")?;
        let (registry, s) = (alert_rules.clone(), shutdown.clone());
        tasks.spawn(async move {
            registry.run(s).await;
            Ok(())
        });
        let p = nexuslog_stream_processors::Processor::new(
            bus.clone(),
            codec.clone(),
            topics.clone(),
            nexuslog_stream_processors::ProcessorConfig {
                limits: nexuslog_stream_processors::OutputLimits {
                    max_record_bytes: usize::try_from(config.bus.max_record_bytes).unwrap_or(usize::MAX),
                    time_window: nexuslog_stream_processors::TimeWindow::new(config.max_event_age_days(), config.logstore.max_event_ahead_secs),
                },
                ..Default::default()
            },
            pipelines,
            alert_rules.clone(),
        );
        let s = shutdown.clone();
        tasks.spawn(async move { p.run(s).await.context("processor") });
        let state = deps.state.clone().ok_or_else(missing_deps)?;
        let evaluator = nexuslog_stream_processors::alerting::AlertEvaluator::new(bus.clone(), codec.clone(), topics.clone(), alert_rules.clone(), state, meta.clone());
        let s = shutdown.clone();
        tasks.spawn(async move {
            evaluator.run(s).await;
            Ok(())
        });
        let settings = nexuslog_stream_processors::alerting::NotifierSettings {
            max_attempts: config.alerting.max_attempts.max(1),
            retry_initial: std::time::Duration::from_millis(config.alerting.retry_initial_ms),
            public_url: config.alerting.public_url.clone(),
            throttle_per_minute: std::num::NonZeroU32::new(config.alerting.throttle_per_minute),
        };
        let notifier = nexuslog_stream_processors::alerting::Notifier::new(bus, codec.clone(), topics.clone(), meta, alert_rules, sender(&config), settings);
        let s = shutdown.clone();
        tasks.spawn(async move {
            notifier.run(s).await;
            Ok(())
        });
    }
    if matches!(role, Role::Standalone | Role::Sink) {
        let (Some(bus), Some(store)) = (deps.bus.clone(), deps.logstore.clone()) else { return Err(missing_deps()) };
        let retained = store.clone();
        let keep_days = config.logstore.retention_days;
        let s = shutdown.clone();
        tasks.spawn(async move {
            // The indexer owns retention: whole daily partitions past the retention go.
            loop {
                match retained.drop_older_than(nexuslog_common::now_micros(), keep_days).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(dropped = n, keep_days, "log store retention"),
                    Err(e) => tracing::warn!(error = %e, "log store retention failed"),
                }
                tokio::select! {
                    () = tokio::time::sleep(RETENTION_EVERY) => {}
                    () = s.wait() => return Ok(()),
                }
            }
        });
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        let batches = match config.logstore.kind {
            LogStoreKind::Opensearch => nexuslog_sinks::IndexerConfig {
                batch_max: size(config.logstore.bulk_max_records),
                batch_max_bytes: size(config.logstore.bulk_max_bytes),
                ..Default::default()
            },
            LogStoreKind::Tantivy => nexuslog_sinks::IndexerConfig {
                batch_max: size(config.logstore.tantivy.commit_max_records),
                batch_max_bytes: size(config.logstore.tantivy.commit_max_bytes),
                linger: Duration::from_millis(config.logstore.tantivy.commit_interval_ms),
                ..Default::default()
            },
        };
        let i = nexuslog_sinks::Indexer::new(bus, store, codec.clone(), topics.clone(), batches);
        let s = shutdown.clone();
        tasks.spawn(async move { i.run(s).await.context("indexer") });
    }
    if matches!(role, Role::Standalone | Role::Api) {
        let (Some(store), Some(meta), Some(state), Some(keys)) = (deps.logstore.clone(), deps.meta.clone(), deps.state.clone(), key_cache.clone()) else {
            return Err(missing_deps());
        };
        let limits = nexuslog_api::tail::TailLimits {
            per_caller: usize::try_from(config.tail.max_per_caller).unwrap_or(usize::MAX),
            per_instance: usize::try_from(config.tail.max_per_instance).unwrap_or(usize::MAX),
            buffer: usize::try_from(config.tail.buffer).unwrap_or(1000),
        };
        let hub = nexuslog_api::tail::TailHub::new(limits);
        let bus = deps.bus.clone().ok_or_else(missing_deps)?;
        // Live tails are endless responses: they end when stopping begins, or the HTTP server
        // would wait for them until its deadline.
        let (reader, logs, c, s) = (hub.clone(), topics.logs.clone(), codec.clone(), stop.clone());
        tasks.spawn(async move {
            reader.run(bus, c, logs, s).await;
            Ok(())
        });
        let api = nexuslog_api::Api::new(store, meta, state, keys, auth_settings(&config), sender(&config), Some(hub)).await.context("starting the API")?;
        // The API role answers Elasticsearch clients' version probe too: behind one Ingress host,
        // `GET /` reaches the API while `/_bulk` reaches the gateways.
        app = app.merge(nexuslog_api::router(api)).merge(crate::web::router());
        let port = config.http.addr.port();
        if crate::web::is_built() {
            tracing::info!(url = %format!("http://127.0.0.1:{port}/"), "web console");
        } else {
            tracing::warn!("this binary was built without the web console (run `npm ci && npm run build` in web/, or scripts/run.sh)");
        }
    }
    if let Some(memory) = checkpointed {
        let s = shutdown.clone();
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(STATE_CHECKPOINT_EVERY) => {}
                    () = s.wait() => break,
                }
                if let Err(e) = memory.checkpoint() {
                    tracing::warn!(error = %e, "state checkpoint failed");
                }
            }
            memory.checkpoint().context("final state checkpoint")
        });
    }
    let app = app
        .merge(Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics_text)).with_state(deps))
        .layer(axum::middleware::from_fn(crate::telemetry::http_metrics))
        .layer(axum::extract::DefaultBodyLimit::max(usize::try_from(config.http.max_body_bytes).unwrap_or(usize::MAX)));
    // A server span per request when tracing is on (`otel.endpoint`); nothing at all otherwise.
    let app = if nexuslog_bus::trace::is_enabled() { app.layer(axum::middleware::from_fn(crate::otel::http_span)) } else { app };

    let listener = tokio::net::TcpListener::bind(config.http.addr).await.with_context(|| format!("cannot bind `http.addr` = {}", config.http.addr))?;
    tracing::info!(role = role.name(), addr = %config.http.addr, https = http_tls.is_some(), "nexuslog started");
    let connections = crate::http_server::ConnectionLimits {
        max_connections: usize::try_from(config.http.max_connections).unwrap_or(usize::MAX),
        header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
    };
    let server = crate::http_server::serve(listener, app, connections, http_tls, stop.clone());
    let mut server = std::pin::pin!(server);
    let mut server_done = false;
    let mut served = loop {
        tokio::select! {
            r = &mut server => {
                server_done = true;
                break r.context("http server");
            }
            Some(r) = tasks.join_next() => match r {
                // What ends with stopping (the live-tail reader) while requests finish.
                Ok(Ok(())) if stop.is_triggered() => {}
                // A role that ends while the process is not stopping is fatal for the process.
                Ok(Ok(())) => break Err(anyhow::anyhow!("a role stopped unexpectedly")),
                Ok(Err(e)) => break Err(e),
                Err(e) => break Err(e.into()),
            }
        }
    };
    // Stop accepting and let in-flight requests finish (with a deadline) before the roles stop.
    stop.trigger();
    if !server_done {
        match tokio::time::timeout(HTTP_DRAIN_DEADLINE, &mut server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => served = served.and(Err(anyhow::Error::from(e).context("http server"))),
            Err(_) => tracing::warn!("in-flight HTTP requests did not finish within {HTTP_DRAIN_DEADLINE:?}; stopping anyway"),
        }
    }
    shutdown.trigger();
    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        while let Some(r) = tasks.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::error!(error = %e, "role stopped with an error");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("roles did not drain within {DRAIN_DEADLINE:?}; exiting anyway (uncommitted work will be replayed)");
    }
    tracing::info!("nexuslog stopped");
    served
}

/// Registers (or finds) the schema of every topic's records.
async fn prepare_schemas(codec: &nexuslog_schemas::wire::Codec, topics: &Topics) -> Result<(), nexuslog_schemas::SchemaError> {
    codec.prepare::<RawEvent>(&topics.raw).await?;
    codec.prepare::<LogRecord>(&topics.logs).await?;
    codec.prepare::<AlertEvent>(&topics.alerts).await?;
    codec.prepare::<DeadLetter>(&topics.deadletter).await
}

/// What sends notifications: the notifier's and the API's (channel tests) from one configuration.
fn sender(config: &Config) -> nexuslog_notify::Sender {
    nexuslog_notify::Sender::new(smtp_settings(&config.alerting.smtp), config.alerting.allow_private_targets)
}

fn smtp_settings(c: &nexuslog_config::SmtpConfig) -> Option<nexuslog_notify::SmtpSettings> {
    use nexuslog_notify::SmtpSecurity;
    (!c.host.is_empty()).then(|| nexuslog_notify::SmtpSettings {
        host: c.host.clone(),
        port: c.port,
        security: match c.tls {
            nexuslog_config::SmtpTls::Starttls => SmtpSecurity::Starttls,
            nexuslog_config::SmtpTls::Tls => SmtpSecurity::Tls,
            nexuslog_config::SmtpTls::None => SmtpSecurity::None,
        },
        user: c.user.clone(),
        password: c.password.expose().to_owned(),
        from: c.from.clone(),
    })
}

fn auth_settings(config: &Config) -> nexuslog_api::AuthSettings {
    let a = &config.auth;
    nexuslog_api::AuthSettings {
        jwt_secret: a.jwt_secret.is_set().then(|| a.jwt_secret.expose().to_owned()),
        access_token_ttl: Duration::from_secs(a.access_token_ttl_secs),
        session_ttl: Duration::from_secs(a.session_ttl_days.saturating_mul(86_400)),
        max_failed_logins: a.max_failed_logins,
        max_failed_logins_per_ip: a.max_failed_logins_per_ip,
        lockout: Duration::from_secs(a.lockout_secs),
        invitation_ttl: Duration::from_secs(a.invitation_ttl_hours.saturating_mul(3600)),
        max_password_checks: match a.max_password_checks {
            0 => nexuslog_api::default_max_password_checks(),
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
        password_check_wait: Duration::from_millis(a.password_check_wait_ms),
        refresh_grace: Duration::from_secs(a.refresh_grace_secs),
    }
}

fn missing_deps() -> anyhow::Error {
    anyhow::anyhow!("internal: a role was started without the backends it needs")
}

fn print_first_start(config: &Config, key: &str) {
    let port = config.http.addr.port();
    println!(
        "\nNexusLog first start: created project `default` and an ingest API key (shown once, store it now):\n\n    {key}\n\n\
         Send a log and search it:\n\n    \
         curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/x-ndjson' \\\n      \
         --data-binary '{{\"message\":\"hello from curl\",\"level\":\"info\",\"service\":\"demo\"}}' \\\n      \
         http://127.0.0.1:{port}/v1/logs/bulk\n    \
         curl -s -H 'Authorization: Bearer {key}' 'http://127.0.0.1:{port}/v1/search?q=hello&from=now-15m'\n\n\
         Web console: http://127.0.0.1:{port}/ (sign in as `{admin}`)\n",
        admin = nexuslog_metastore::bootstrap::ADMIN_EMAIL
    );
}

async fn healthz() -> &'static str {
    "ok"
}

/// 200 when every backend this process uses answers, 503 with the failing ones otherwise.
async fn readyz(State(deps): State<Deps>) -> (StatusCode, Json<Value>) {
    const T: Duration = Duration::from_secs(2);
    // Anyone may ask, so the answer names the backend and never its error text (addresses,
    // user names): that goes to the log.
    async fn check<E: std::fmt::Display>(name: &str, f: impl std::future::Future<Output = Result<(), E>>) -> &'static str {
        match tokio::time::timeout(T, f).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::warn!(backend = name, error = %e, "readiness check failed");
                "unavailable"
            }
            Err(_) => {
                tracing::warn!(backend = name, "readiness check timed out");
                "timeout"
            }
        }
    }
    let mut checks = serde_json::Map::new();
    if let Some(b) = &deps.bus {
        checks.insert("bus".into(), check("bus", b.health()).await.into());
    }
    if let Some(s) = &deps.logstore {
        checks.insert("logstore".into(), check("logstore", s.health()).await.into());
    }
    if let Some(m) = &deps.meta {
        checks.insert("metastore".into(), check("metastore", m.health()).await.into());
    }
    if let Some(s) = &deps.state {
        checks.insert("state".into(), check("state", s.health()).await.into());
    }
    for dependency in nexuslog_common::health::waiting() {
        checks.insert(dependency.into(), "unavailable".into());
    }
    if deps.stopping.is_triggered() {
        checks.insert("process".into(), "stopping".into());
    }
    let ready = checks.values().all(|v| v == "ok");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "ready": ready, "checks": checks })))
}

async fn metrics_text(State(deps): State<Deps>) -> String {
    crate::telemetry::refresh(deps.data_dir.as_deref());
    deps.metrics.map(|h| h.render()).unwrap_or_default()
}

/// The OTLP gRPC listener (`http.otlp_grpc_addr`): only `LogsService/Export`, with the HTTP
/// port's connection limits, metrics and trace spans; it stops accepting with the HTTP server.
async fn spawn_otlp_grpc(
    config: &Config,
    gw: Arc<nexuslog_ingest_gateway::Gateway>,
    tls: Option<Arc<nexuslog_tls::ReloadingAcceptor>>,
    stop: Shutdown,
    tasks: &mut JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let addr = &config.http.otlp_grpc_addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot bind `http.otlp_grpc_addr` = {addr}"))?;
    let app = nexuslog_ingest_gateway::otlp_grpc::router(gw).layer(axum::middleware::from_fn(crate::telemetry::http_metrics));
    let app = if nexuslog_bus::trace::is_enabled() { app.layer(axum::middleware::from_fn(crate::otel::http_span)) } else { app };
    let limits = crate::http_server::ConnectionLimits {
        max_connections: usize::try_from(config.http.max_connections).unwrap_or(usize::MAX),
        header_read_timeout: Duration::from_secs(config.http.header_read_timeout_secs),
    };
    tracing::info!(%addr, tls = tls.is_some(), "OTLP gRPC listener started");
    tasks.spawn(async move { crate::http_server::serve(listener, app, limits, tls, stop).await.context("OTLP gRPC server") });
    Ok(())
}

/// The HTTPS acceptor of the HTTP (and OTLP gRPC) port when `http.tls_cert` is set, with a task
/// that reloads it when the files change, until the HTTP server stops.
fn http_tls(config: &Config, stop: &Shutdown, tasks: &mut JoinSet<anyhow::Result<()>>) -> anyhow::Result<Option<Arc<nexuslog_tls::ReloadingAcceptor>>> {
    let h = &config.http;
    if h.tls_cert.is_empty() {
        return Ok(None);
    }
    let files = nexuslog_tls::TlsFiles {
        prefix: "http",
        cert: h.tls_cert.clone(),
        key: h.tls_key.clone(),
        client_ca: (!h.tls_client_ca.is_empty()).then(|| h.tls_client_ca.clone()),
    };
    let acceptor = nexuslog_tls::ReloadingAcceptor::new(files, nexuslog_tls::HTTP_ALPN).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (watched, stop) = (acceptor.clone(), stop.clone());
    tasks.spawn(async move {
        watched.watch(nexuslog_tls::RELOAD_CHECK_EVERY, stop).await;
        Ok(())
    });
    Ok(Some(acceptor))
}
