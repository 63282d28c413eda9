//! NexusLog's own metrics: the Prometheus recorder with histogram buckets, the catalogue of
//! every metric the workspace exports (name, type, help), HTTP request metrics, consumer lag per
//! partition, and the process and data-directory gauges refreshed at each scrape.
//!
//! Naming follows Prometheus conventions: `nexuslog_` prefix, base units in the name
//! (`_seconds`, `_bytes`), `_total` on counters, no unit on plain counts of things
//! (`_records`, `_subscribers` say what is counted). `tests::every_metric_in_the_code_is_in_the_catalogue`
//! holds the code to this list, and the README's metric table is this list.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nexuslog_bus::{Bus, Topics};
use nexuslog_common::shutdown::Shutdown;

use crate::cli::Role;

/// How often consumer lag is read from the bus. Each read is a metadata and offsets round
/// trip per group; lag alerts look at minutes, so 15 s (one scrape interval) is plenty.
const LAG_EVERY: Duration = Duration::from_secs(15);

/// Buckets of latency histograms, in seconds: 1 ms (an embedded batch) to 60 s (a bulk
/// request retried against a struggling store).
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Buckets of batch sizes in bytes: 4 KiB to 64 MiB.
const BATCH_BYTES_BUCKETS: &[f64] = &[4096.0, 16384.0, 65536.0, 131072.0, 262144.0, 1048576.0, 4194304.0, 8388608.0, 16777216.0, 67108864.0];

/// Buckets of the ingest → indexed delay, in seconds: 50 ms to 1 h (a sink catching up).
const DELAY_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

/// The kind of a metric, as Prometheus shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric NexusLog exports: (name, kind, labels, help). The README's table shows it.
pub const CATALOGUE: &[(&str, Kind, &str, &str)] = &[
    // HTTP (every role)
    ("nexuslog_http_requests_total", Kind::Counter, "route, method, status", "HTTP requests answered, by route template and status code"),
    ("nexuslog_http_request_duration_seconds", Kind::Histogram, "route, method", "time to answer an HTTP request (for streams: until the response starts)"),
    ("nexuslog_http_open_connections", Kind::Gauge, "", "HTTP connections open now; at `http.max_connections` new ones wait to be accepted"),
    ("nexuslog_http_tls_handshake_failures_total", Kind::Counter, "", "HTTPS connections closed before a request: failed or timed-out TLS handshakes (no or untrusted client certificate, old TLS versions)"),
    ("nexuslog_build_info", Kind::Gauge, "version, role", "always 1; the version and role of this process"),
    // Gateway
    ("nexuslog_gateway_events_accepted_total", Kind::Counter, "source", "events acknowledged by the bus and answered as accepted (http, syslog)"),
    ("nexuslog_gateway_events_rejected_total", Kind::Counter, "source", "events refused line by line (invalid, too large), sent to the dead-letter topic"),
    ("nexuslog_gateway_shed_total", Kind::Counter, "", "ingest requests answered 503 because `http.max_in_flight` requests were in progress"),
    ("nexuslog_gateway_backlog_records", Kind::Gauge, "", "records on the bus not yet committed by the processors and sinks, as the gateway last sampled it"),
    ("nexuslog_bus_cap_deleted_records_total", Kind::Counter, "consumed", "records the embedded log deleted to stay under `bus.embedded_max_bytes`; consumed=false: no consumer had processed them (lost)"),
    ("nexuslog_bus_compactions_total", Kind::Counter, "", "times the embedded log returned its free pages to the file system (a file of 64 MiB or more, half of it free pages after deletes); each pauses its writes and reads for the time logged (about 70 ms for 56 MB of records here)"),
    ("nexuslog_gateway_backlog_holds_total", Kind::Counter, "source", "HTTP requests answered 503 (source=http) and syslog connections paused (source=syslog) because the backlog was over `bus.max_backlog_records`"),
    ("nexuslog_gateway_dead_letter_errors_total", Kind::Counter, "", "requests whose events were written but whose refused lines could not be dead-lettered"),
    ("nexuslog_gateway_quota_unavailable_total", Kind::Counter, "", "requests admitted without the shared per-key rate limit because the state store did not answer"),
    ("nexuslog_gateway_produce_errors_total", Kind::Counter, "", "ingest requests answered 503 because the bus did not acknowledge"),
    ("nexuslog_gateway_body_timeouts_total", Kind::Counter, "", "ingest requests answered 408 because the body did not arrive within `http.body_read_timeout_secs`"),
    ("nexuslog_syslog_messages_total", Kind::Counter, "listener", "syslog frames received (tcp, tls, udp)"),
    ("nexuslog_syslog_bytes_total", Kind::Counter, "listener", "syslog bytes received"),
    ("nexuslog_syslog_batch_bytes", Kind::Histogram, "listener", "bytes of the syslog messages written to the bus at once (bounded by `syslog.max_batch_bytes`)"),
    ("nexuslog_syslog_parse_failures_total", Kind::Counter, "listener", "syslog frames that are not syslog, dead-lettered"),
    ("nexuslog_syslog_refused_total", Kind::Counter, "listener", "syslog messages without a project (no key, CN or default), dead-lettered"),
    ("nexuslog_syslog_connections_total", Kind::Counter, "listener", "syslog TCP/TLS connections accepted"),
    ("nexuslog_syslog_connections_refused_total", Kind::Counter, "listener", "syslog connections refused above `syslog.max_connections`"),
    // Processor
    ("nexuslog_processor_records_total", Kind::Counter, "", "raw events processed (committed with their outputs)"),
    ("nexuslog_processor_batch_retries_total", Kind::Counter, "", "batches processed again from the committed offsets because an output could not be made (schema registry unavailable)"),
    ("nexuslog_processor_batch_duration_seconds", Kind::Histogram, "", "time from a polled batch to its committed transaction"),
    ("nexuslog_processor_records_truncated_total", Kind::Counter, "", "processed records cut to fit `bus.max_record_bytes` (marked in `parse_errors`)"),
    ("nexuslog_processor_timestamps_out_of_window_total", Kind::Counter, "", "events whose own time was outside `logstore.max_event_age_days`/`max_event_ahead_secs`, indexed at receipt time"),
    ("nexuslog_processor_dead_letters_total", Kind::Counter, "kind", "raw events the processor dead-lettered, by error kind"),
    ("nexuslog_pipeline_reloads_total", Kind::Counter, "", "reloads of the compiled project pipelines"),
    ("nexuslog_pipeline_dropped_total", Kind::Counter, "", "events a pipeline `drop` step removed"),
    ("nexuslog_pipeline_auto_rechosen_total", Kind::Counter, "", "sources auto mode sampled again because the preset it had chosen stopped parsing their lines"),
    ("nexuslog_gateway_multiline_joined_lines_total", Kind::Counter, "", "continuation lines a `multiline` step joined into the event they continue"),
    ("nexuslog_gateway_multiline_revisions_total", Kind::Counter, "", "new versions of open multiline events written because a later request continued them"),
    ("nexuslog_pipeline_step_failures_total", Kind::Counter, "step", "pipeline steps that failed on an event, by step kind"),
    ("nexuslog_consumer_lag_records", Kind::Gauge, "group, topic, partition", "records written to a partition and not yet committed by the consumer group"),
    // Sink
    ("nexuslog_sink_indexed_total", Kind::Counter, "", "log records indexed into the log store"),
    ("nexuslog_sink_batch_duration_seconds", Kind::Histogram, "", "time from a full batch to its committed offsets (bulk index, retries, dead letters)"),
    ("nexuslog_sink_event_delay_seconds", Kind::Histogram, "", "freshness: time from the gateway's acceptance of a batch's oldest record to its indexing"),
    ("nexuslog_sink_retries_total", Kind::Counter, "reason", "records sent again to the log store: `item` (429/5xx items), `request` (the bulk request failed), `refused` (the store refused the request as a whole, e.g. 401/403: readiness reports `logstore`)"),
    ("nexuslog_sink_dead_letters_total", Kind::Counter, "", "log records the store refused for good, dead-lettered"),
    // Alerting
    ("nexuslog_alert_rules_enabled", Kind::Gauge, "", "enabled alert rules in force"),
    ("nexuslog_alert_rule_reloads_total", Kind::Counter, "", "reloads of the alert rules"),
    ("nexuslog_alert_evaluation_duration_seconds", Kind::Histogram, "", "time the evaluator takes per batch of partials"),
    ("nexuslog_alert_open_windows", Kind::Gauge, "", "alert windows the evaluator holds"),
    ("nexuslog_alert_watermark_lag_seconds", Kind::Gauge, "", "how far the evaluator's event-time watermark is behind the clock"),
    ("nexuslog_alert_late_events_total", Kind::Counter, "", "events that arrived after their window closed"),
    ("nexuslog_alert_partials_unreadable_total", Kind::Counter, "", "partials records the evaluator could not read"),
    ("nexuslog_alert_transitions_total", Kind::Counter, "to", "alert state transitions, by new state"),
    ("nexuslog_alert_transitions_recorded_total", Kind::Counter, "", "transitions the notifier recorded in the metadata store"),
    ("nexuslog_alert_notifications_sent_total", Kind::Counter, "type", "notifications delivered, by channel type"),
    ("nexuslog_alert_notifications_failed_total", Kind::Counter, "type", "notifications given up after `alerting.max_attempts`, by channel type"),
    ("nexuslog_alert_notifications_retried_total", Kind::Counter, "type", "notification attempts that will be retried, by channel type"),
    ("nexuslog_alert_notifications_throttled_total", Kind::Counter, "", "notifications not sent because of `alerting.throttle_per_minute`"),
    // API
    ("nexuslog_auth_logins_total", Kind::Counter, "outcome", "sign-in attempts by outcome (success, bad_credentials, locked_out, overloaded)"),
    ("nexuslog_audit_write_failures_total", Kind::Counter, "", "audit entries that could not be written"),
    ("nexuslog_tail_subscribers", Kind::Gauge, "", "open live-tail streams on this API instance"),
    ("nexuslog_tail_skipped_total", Kind::Counter, "", "live-tail records skipped for subscribers slower than the stream"),
    // Process
    ("nexuslog_data_dir_available_bytes", Kind::Gauge, "", "free space for NexusLog in the filesystem of `data_dir` (embedded backends only)"),
    ("nexuslog_data_dir_size_bytes", Kind::Gauge, "", "size of the filesystem of `data_dir` (embedded backends only)"),
    ("process_cpu_seconds_total", Kind::Counter, "", "user and system CPU time of the process"),
    ("process_resident_memory_bytes", Kind::Gauge, "", "resident memory of the process"),
    ("process_virtual_memory_bytes", Kind::Gauge, "", "virtual memory of the process"),
    ("process_open_fds", Kind::Gauge, "", "open file descriptors"),
    ("process_max_fds", Kind::Gauge, "", "the open file descriptor limit"),
    ("process_threads", Kind::Gauge, "", "threads of the process"),
    ("process_start_time_seconds", Kind::Gauge, "", "start time of the process, seconds since the Unix epoch"),
];

/// Installs the Prometheus recorder (latency histograms with buckets, so dashboards can use
/// `histogram_quantile` and aggregate across replicas) and describes every metric.
pub fn install(role: Role) -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("nexuslog_sink_event_delay_seconds".into()), DELAY_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), LATENCY_BUCKETS))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full("nexuslog_syslog_batch_bytes".into()), BATCH_BYTES_BUCKETS));
    let handle = match builder.and_then(PrometheusBuilder::install_recorder) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "no Prometheus recorder: /metrics stays empty");
            return None;
        }
    };
    for (name, kind, _, help) in CATALOGUE {
        match kind {
            Kind::Counter => metrics::describe_counter!(*name, *help),
            Kind::Gauge => metrics::describe_gauge!(*name, *help),
            Kind::Histogram => metrics::describe_histogram!(*name, *help),
        }
    }
    metrics::gauge!("nexuslog_build_info", "version" => env!("CARGO_PKG_VERSION"), "role" => role.name()).set(1.0);
    Some(handle)
}

/// Middleware counting every answer by route template (never the raw path: bounded labels).
pub async fn http_metrics(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("nexuslog_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone()).record(started.elapsed().as_secs_f64());
    metrics::counter!("nexuslog_http_requests_total", "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// The consumer groups a role runs, with the topic each reads.
pub fn groups(role: Role, topics: &Topics) -> Vec<(String, String)> {
    let processor = matches!(role, Role::Standalone | Role::Processor);
    let sink = matches!(role, Role::Standalone | Role::Sink);
    let mut out = Vec::new();
    if processor {
        out.push((nexuslog_stream_processors::ProcessorConfig::default().group, topics.raw.clone()));
        out.push((nexuslog_stream_processors::alerting::EVALUATOR_GROUP.to_owned(), topics.alert_partials.clone()));
        out.push((nexuslog_stream_processors::alerting::NOTIFIER_GROUP.to_owned(), topics.alerts.clone()));
    }
    if sink {
        out.push((nexuslog_sinks::IndexerConfig::default().group, topics.logs.clone()));
    }
    out
}

/// Publishes `nexuslog_consumer_lag_records` for `groups` every [`LAG_EVERY`] until shutdown.
/// Every replica of a role reports the same numbers: dashboards take `max by (group, topic,
/// partition)`.
pub async fn watch_lag(bus: Arc<dyn Bus>, groups: Vec<(String, String)>, shutdown: Shutdown) {
    loop {
        for (group, topic) in &groups {
            match bus.lag(group, topic).await {
                Ok(parts) => {
                    for p in parts {
                        metrics::gauge!("nexuslog_consumer_lag_records", "group" => group.clone(), "topic" => topic.clone(), "partition" => p.partition.to_string())
                            .set(p.records as f64);
                    }
                }
                Err(e) => tracing::debug!(error = %e, group, topic, "cannot read consumer lag"),
            }
        }
        tokio::select! {
            () = tokio::time::sleep(LAG_EVERY) => {}
            () = shutdown.wait() => return,
        }
    }
}

/// Refreshes the process gauges (Linux `/proc`) and, when given, the data directory's
/// filesystem gauges. Called at each scrape: cheap, and exact at the moment of the scrape.
pub fn refresh(data_dir: Option<&Path>) {
    if let Some(p) = read_process() {
        metrics::counter!("process_cpu_seconds_total").absolute(p.cpu_centis / 100);
        metrics::gauge!("process_resident_memory_bytes").set(p.resident_bytes as f64);
        metrics::gauge!("process_virtual_memory_bytes").set(p.virtual_bytes as f64);
        metrics::gauge!("process_threads").set(p.threads as f64);
        metrics::gauge!("process_start_time_seconds").set(p.start_time_seconds);
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        metrics::gauge!("process_open_fds").set(fds.count() as f64);
    }
    if let Some(max) = max_fds() {
        metrics::gauge!("process_max_fds").set(max as f64);
    }
    if let Some(dir) = data_dir {
        if let Ok(s) = rustix::fs::statvfs(dir) {
            metrics::gauge!("nexuslog_data_dir_available_bytes").set((s.f_bavail * s.f_frsize) as f64);
            metrics::gauge!("nexuslog_data_dir_size_bytes").set((s.f_blocks * s.f_frsize) as f64);
        }
    }
}

/// The data directory to watch: only when an embedded backend keeps data there.
pub fn data_dir(config: &nexuslog_config::Config) -> Option<PathBuf> {
    use nexuslog_config::{BusKind, LogStoreKind, MetaStoreKind, StateKind};
    let embedded = config.bus.kind == BusKind::Embedded
        || config.logstore.kind == LogStoreKind::Tantivy
        || config.metastore.kind == MetaStoreKind::Sqlite
        || config.state.kind == StateKind::Memory;
    embedded.then(|| config.data_dir.clone())
}

struct ProcessStat {
    /// CPU time in clock ticks; Linux's USER_HZ is 100 on every architecture it exports.
    cpu_centis: u64,
    resident_bytes: u64,
    virtual_bytes: u64,
    threads: u64,
    start_time_seconds: f64,
}

fn read_process() -> Option<ProcessStat> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: fields are counted after its closing paren.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): field n is f[n - 3].
    let num = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let (utime, stime, threads, start_ticks, vsize, rss_pages) = (num(14)?, num(15)?, num(20)?, num(22)?, num(23)?, num(24)?);
    let boot = std::fs::read_to_string("/proc/stat").ok()?.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<u64>().ok()))?;
    Some(ProcessStat {
        cpu_centis: utime + stime,
        resident_bytes: rss_pages * page_size(),
        virtual_bytes: vsize,
        threads,
        start_time_seconds: boot as f64 + start_ticks as f64 / 100.0,
    })
}

fn page_size() -> u64 {
    u64::try_from(rustix::param::page_size()).unwrap_or(4096)
}

fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in the code, found as string literals after `counter!(`, `gauge!(` and
    /// `histogram!(` in every Rust file of the workspace.
    fn names_in_code() -> std::collections::BTreeMap<String, (Kind, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() {
                    if !matches!(name.as_str(), "target" | "node_modules" | ".git" | "web" | "loadtest") && !name.starts_with('.') {
                        stack.push(path);
                    }
                } else if name.ends_with(".rs") && !path.ends_with("telemetry.rs") {
                    let text = std::fs::read_to_string(&path).expect("read source");
                    for (macro_name, kind) in [("counter!(\"", Kind::Counter), ("gauge!(\"", Kind::Gauge), ("histogram!(\"", Kind::Histogram)] {
                        for (i, _) in text.match_indices(macro_name) {
                            let start = i + macro_name.len();
                            let end = start + text[start..].find('"').expect("closing quote");
                            out.insert(text[start..end].to_owned(), (kind, path.display().to_string()));
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_metric_in_the_code_is_in_the_catalogue() {
        let found = names_in_code();
        assert!(found.len() > 20, "the scan found the workspace's metrics: {found:?}");
        for (name, (kind, file)) in &found {
            let entry = CATALOGUE.iter().find(|(n, ..)| n == name);
            let Some((_, listed, ..)) = entry else { panic!("{name} ({file}) is not in telemetry::CATALOGUE") };
            assert_eq!(listed, kind, "{name} ({file}) is a {kind:?} in the code");
        }
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, kind, labels, help) in CATALOGUE {
            assert!(seen.insert(*name), "{name} listed twice");
            assert!(name.starts_with("nexuslog_") || name.starts_with("process_"), "{name}: prefix");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "{name}: snake case");
            assert!(!help.is_empty(), "{name}: help");
            match kind {
                Kind::Counter => assert!(name.ends_with("_total"), "{name}: a counter ends in _total"),
                Kind::Gauge | Kind::Histogram => assert!(!name.ends_with("_total"), "{name}: only counters end in _total"),
            }
            if *kind == Kind::Histogram {
                assert!(name.ends_with("_seconds") || name.ends_with("_bytes"), "{name}: a histogram names its base unit");
            }
            for unit in ["_milliseconds", "_ms", "_micros", "_kb", "_mb", "_minutes", "_hours"] {
                assert!(!name.contains(unit), "{name}: base units only (seconds, bytes)");
            }
            for label in labels.split(", ").filter(|l| !l.is_empty()) {
                assert!(!matches!(label, "le" | "quantile" | "instance" | "job"), "{name}: label {label} is reserved");
            }
        }
    }

    #[test]
    fn process_stat_is_read() {
        let p = read_process().expect("/proc/self/stat");
        assert!(p.resident_bytes > 0 && p.threads >= 1 && p.start_time_seconds > 1.0e9);
        assert!(max_fds().is_some_and(|m| m > 0));
    }
}
