//! `alert-bench`: how fast an alert reaches its channel, and what rules cost the processor.
//!
//! 1. Latency (starts its own NexusLog: `standalone` = one process on embedded storage, no
//!    services; `distributed` = gateway, processor, sink and api as separate processes on Kafka,
//!    OpenSearch, PostgreSQL (a database of the run's own) and Redis). A webhook receiver runs
//!    in this process; one webhook channel and N count rules (`<unique token>`, window 1m,
//!    `> 4`) are created through the API as the instance admin. A steady background load of
//!    events matching no rule runs throughout. Then, one rule every `--interval-ms`: 4 matching
//!    events in one request (not crossing), then the 5th, crossing event alone in its own
//!    request; the time its 200 (the ingest acknowledgment) arrived is the start, the receiver
//!    getting that rule's `firing` notification the end. All 5 events carry the same explicit
//!    timestamp, so they are in one window whatever minute boundary the sends straddle.
//!    Reported: p50/p99/max over the rules, and the aim p99 ≤ 2 s.
//! 2. Throughput (in process, one core, no bus): `process_record` per event, as the processor
//!    calls it, with 0, 10 and 100 realistic rules in force (queries on level, service and free
//!    text; some grouped by host; counts, averages, percentiles), including per batch of 5 000
//!    the processor's merge of its 512-record chunks, `Collector::finish` and the JSON encoding
//!    of the partials. Printed as ratios to 0 rules (the ceiling); aim ≥ 0.8 at 100 rules.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use clap::Args;
use nexuslog_alerting::{Collector, Rule, RuleSet, RuleSpec};
use nexuslog_bus::{InRecord, Topics};
use nexuslog_schemas::wire::{Codec, EmbeddedCodec};
use nexuslog_schemas::{RawEvent, SourceKind};
use nexuslog_stream_processors::alerting::AlertRules;
use serde_json::{json, Value};

use crate::instance::{self, background, secret, Api, Background, Target};
use crate::load::wall_ms;
use crate::report::{percentile, round1};

/// The aims of the issue.
const AIM_P99_MS: f64 = 2_000.0;
const AIM_RATIO_100: f64 = 0.8;
/// Events per rule before the crossing one; the rules fire on `> BELOW`.
const BELOW: usize = 4;
/// The processor's batch and chunk sizes (`ProcessorConfig::batch_max`, `processor::CHUNK`).
const BATCH: usize = 5_000;
const CHUNK: usize = 512;
/// Rule counts of the throughput part.
const RULE_COUNTS: [usize; 3] = [0, 10, 100];
/// One more workload: 100 rules of which a fifth search free text only, so the rule index
/// cannot skip them and every record tries them (what such rules cost).

#[derive(Debug, Args)]
pub struct AlertBenchArgs {
    /// Which deployment the latency part starts.
    #[arg(long, value_enum, default_value = "standalone")]
    mode: instance::Mode,
    /// Rules, each crossed once (one latency sample each).
    #[arg(long, default_value_t = 100)]
    rules: usize,
    /// Background events per second (matching no rule) during the latency part.
    #[arg(long, default_value_t = 2_000)]
    background_rate: u64,
    /// Milliseconds between the starts of two rules' event sequences.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Seconds to wait, after the last crossing, for notifications still missing.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Events per throughput workload.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Rounds per throughput workload; the best is reported (the machine is shared).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Only the in-process throughput part (starts nothing).
    #[arg(long, conflicts_with = "latency_only")]
    throughput_only: bool,
    /// Only the latency part.
    #[arg(long)]
    latency_only: bool,
    /// The nexuslog binary (default: built in release mode from this checkout).
    #[arg(long)]
    nexuslog_bin: Option<PathBuf>,
    /// Print the summary as JSON (last line of stdout; the human lines go to stderr).
    #[arg(long)]
    json: bool,
}

// ---------------------------------------------------------------------------------------------
// Throughput

const LEVELS: [&str; 5] = ["info", "info", "info", "warn", "error"];
const SERVICES: usize = 20;
const HOSTS: usize = 8;

fn throughput_line(i: usize) -> String {
    let status = [200, 200, 404, 503][i % 4];
    let what = if i.is_multiple_of(7) { "upstream timeout after retry" } else { "request answered" };
    json!({
        "level": LEVELS[i % LEVELS.len()],
        "service": format!("svc-{}", i % SERVICES),
        "host": format!("web-{}", i / SERVICES % HOSTS),
        "message": format!("GET /api/v1/orders/{} {what}", i % 5000),
        "latency_ms": (i * 37) % 1500,
        "status": status,
        "user": { "id": format!("u{}", i % 1000) },
    })
    .to_string()
}

/// `n` rules of a mix of kinds, spread over the services.
fn throughput_rules(n: usize, free_text: bool) -> anyhow::Result<AlertRules> {
    let mut rules = AlertRules { revision: 1, ..AlertRules::default() };
    for i in 0..n {
        let svc = format!("svc-{}", i % SERVICES);
        let spec = match i % 5 {
            0 => json!({"name": format!("errors {svc}"), "query": format!("level:error service:{svc}"), "window": "1m",
                        "condition": {"op": ">", "threshold": 50}}),
            1 => json!({"name": format!("warnings {svc} per host"), "query": format!("level:warn service:{svc}"), "window": "1m",
                        "group_by": ["host"], "condition": {"op": ">", "threshold": 20}}),
            2 => json!({"name": format!("latency {svc}"), "query": format!("service:{svc}"), "window": "1m",
                        "aggregation": {"avg": {"field": "latency_ms"}}, "condition": {"op": ">", "threshold": 900}}),
            // Requires no single value, so the rule index cannot skip it: tried on every record.
            // One of two values: filed under both in the rule index. With `free_text`, no value
            // at all: tried on every record.
            3 if free_text => json!({"name": format!("timeouts {i}"), "query": "\"upstream timeout\"", "window": "5m", "every": "1m",
                        "condition": {"op": ">=", "threshold": 10}}),
            3 => json!({"name": format!("timeouts {svc}"), "query": format!("timeout (service:{svc} OR host:web-{})", i % HOSTS), "window": "5m", "every": "1m",
                        "condition": {"op": ">=", "threshold": 10}}),
            _ => json!({"name": format!("p99 {svc} per host"), "query": format!("service:{svc} status:>=500"), "window": "1m",
                        "aggregation": {"p99": {"field": "latency_ms"}}, "group_by": ["host"], "condition": {"op": ">", "threshold": 1200}}),
        };
        let spec: RuleSpec = serde_json::from_value(spec)?;
        let rule = Arc::new(spec.compile(&format!("rule-{i}"), "bench").map_err(|e| anyhow::anyhow!("rule {i}: {e}"))?);
        rules.by_id.insert(rule.id.clone(), rule);
    }
    let mut list: Vec<Arc<Rule>> = rules.by_id.values().cloned().collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    if !list.is_empty() {
        rules.by_project.insert("bench".into(), RuleSet::new(list));
    }
    Ok(rules)
}

/// Raw events as the processor consumes them: 1 ms apart in receive time (no timestamp in the
/// payload), so the run spans a few windows.
fn throughput_records(n: usize) -> anyhow::Result<Vec<InRecord>> {
    const START_US: i64 = 1_710_238_500_000_000;
    (0..n)
        .map(|i| {
            let raw = RawEvent {
                ingest_id: format!("bench-{i}"),
                project_id: "bench".into(),
                source: SourceKind::Http,
                received_at: START_US + i as i64 * 1_000,
                remote_addr: None,
                payload: throughput_line(i).into_bytes(),
                metadata: BTreeMap::default(),
            };
            Ok(InRecord { topic: "bench.raw".into(), partition: 0, offset: i as i64, key: None, payload: EmbeddedCodec.encode(&raw)?, headers: Vec::new() })
        })
        .collect()
}

/// One pass over the records as `process_batch` does it on one core; returns the time, the
/// partials written and the matching events counted in them (so rules silently matching
/// nothing cannot pass for fast).
async fn throughput_pass(records: &[InRecord], rules: &AlertRules) -> anyhow::Result<(Duration, usize, u64)> {
    let codec = Codec::Embedded(EmbeddedCodec);
    let topics = Topics::with_prefix("bench.");
    let pipelines = nexuslog_stream_processors::Snapshot::default();
    let alerting = !rules.is_empty();
    let (mut partials, mut partials_bytes) = (0, 0u64);
    let start = Instant::now();
    for batch in records.chunks(BATCH) {
        let mut merged = Collector::default();
        for chunk in batch.chunks(CHUNK) {
            let mut collector = Collector::default();
            for rec in chunk {
                let alerts = alerting.then_some((rules, &mut collector));
                let out = nexuslog_stream_processors::process_record(&codec, &topics, &Default::default(), &pipelines, rec, alerts).await?;
                ensure!(out.as_ref().is_some_and(|o| o.topic == topics.logs), "record {} did not become a log record", rec.offset);
                std::hint::black_box(out);
            }
            merged.merge(collector);
        }
        if alerting {
            let batch = merged.finish();
            partials += batch.partials.len();
            let bytes = serde_json::to_vec(&batch)?;
            partials_bytes += bytes.len() as u64;
            std::hint::black_box(bytes);
        }
    }
    Ok((start.elapsed(), partials, partials_bytes))
}

#[derive(Debug, serde::Serialize)]
struct ThroughputRow {
    rules: usize,
    /// Rules the index cannot skip.
    free_text_rules: usize,
    events_per_sec_per_core: f64,
    ratio_to_no_rules: f64,
    partials_per_batch: f64,
    partials_bytes_per_batch: f64,
}

fn throughput(events: usize, rounds: usize) -> anyhow::Result<Vec<ThroughputRow>> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let records = throughput_records(events)?;
        let batches = events.div_ceil(BATCH).max(1) as f64;
        let mut rows: Vec<ThroughputRow> = Vec::new();
        let workloads = RULE_COUNTS.iter().map(|&n| (n, false)).chain([(100, true)]);
        for (n, free_text) in workloads {
            let rules = throughput_rules(n, free_text)?;
            let mut best = (Duration::MAX, 0, 0);
            for _ in 0..rounds.max(1) {
                let r = throughput_pass(&records, &rules).await?;
                if r.0 < best.0 {
                    best = r;
                }
            }
            ensure!(n == 0 || best.1 > 0, "{n} rules matched no event");
            let rate = events as f64 / best.0.as_secs_f64().max(1e-9);
            let ceiling = rows.first().map_or(rate, |r| r.events_per_sec_per_core);
            rows.push(ThroughputRow {
                rules: n,
                free_text_rules: if free_text { n / 5 } else { 0 },
                events_per_sec_per_core: rate.round(),
                ratio_to_no_rules: (rate / ceiling * 1000.0).round() / 1000.0,
                partials_per_batch: (best.1 as f64 / batches).round(),
                partials_bytes_per_batch: (best.2 as f64 / batches).round(),
            });
        }
        Ok(rows)
    })
}

// ---------------------------------------------------------------------------------------------
// Latency: the webhook receiver

#[derive(Debug, Default)]
struct Receipts {
    /// Rule id → when its first `firing` notification arrived, and its value.
    firing: HashMap<String, (Instant, Option<f64>)>,
    /// `firing` notifications for a rule already notified.
    repeated: u64,
    /// Every other notification (resolved, when a window closes).
    other: u64,
}

type SharedReceipts = Arc<Mutex<Receipts>>;

fn lock(r: &SharedReceipts) -> std::sync::MutexGuard<'_, Receipts> {
    r.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn hook(axum::extract::State(r): axum::extract::State<SharedReceipts>, body: axum::body::Bytes) -> axum::http::StatusCode {
    let at = Instant::now();
    let Ok(v) = serde_json::from_slice::<Value>(&body) else { return axum::http::StatusCode::BAD_REQUEST };
    let mut r = lock(&r);
    match (v["state"].as_str(), v["rule"]["id"].as_str()) {
        (Some("firing"), Some(id)) => {
            if r.firing.contains_key(id) {
                r.repeated += 1;
            } else {
                r.firing.insert(id.to_owned(), (at, v["value"].as_f64()));
            }
        }
        _ => r.other += 1,
    }
    axum::http::StatusCode::OK
}

async fn start_receiver() -> anyhow::Result<(String, SharedReceipts)> {
    let shared = SharedReceipts::default();
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the webhook receiver")?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((format!("http://{addr}/hook"), shared))
}

// ---------------------------------------------------------------------------------------------
// Latency: the events

/// The events of one rule: `n` matching events with one explicit timestamp.
fn rule_events(token: &str, ts: i64, from: usize, n: usize) -> Vec<Value> {
    (from..from + n).map(|k| json!({"timestamp": ts, "level": "error", "service": "checkout", "message": format!("payment failed {token} attempt {k}")})).collect()
}

/// 4 events, then the crossing one alone; returns the crossing one's acknowledgment time.
async fn cross(api: &Api, token: &str) -> anyhow::Result<Instant> {
    let ts = wall_ms();
    api.ingest(&rule_events(token, ts, 0, BELOW)).await?;
    api.ingest(&rule_events(token, ts, BELOW, 1)).await
}

#[derive(Debug, serde::Serialize)]
struct LatencyReport {
    mode: String,
    rules: usize,
    crossed: usize,
    received: usize,
    missing: usize,
    send_errors: usize,
    /// Notifications that arrived before the crossing event's acknowledgment (counted as 0).
    before_ack: usize,
    repeated_firing: u64,
    other_notifications: u64,
    wrong_value: usize,
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    min_ms: Option<f64>,
    aim_p99_ms: f64,
    aim_met: bool,
    background_rate_target: u64,
    background_events_per_sec: f64,
    background_failed: u64,
    background_skipped: u64,
    measured_secs: f64,
    /// Per crossing, in order: (ms since the first acknowledgment, latency ms; null if missing).
    timeline: Vec<(f64, Option<f64>)>,
    logs: Vec<String>,
}

async fn latency(a: &AlertBenchArgs, run_id: &str, dir: &Path) -> anyhow::Result<LatencyReport> {
    let bin = instance::binary(a.nexuslog_bin.as_deref(), dir).await?;
    let (hook_url, receipts) = start_receiver().await?;
    eprintln!("alert-bench {run_id}: starting nexuslog ({:?}); logs in {}", a.mode, dir.display());
    let target = Target::start(a.mode, &bin, dir, run_id, &[]).await?;
    let result = measure(a, run_id, &target, &hook_url, &receipts).await;
    let logs = target.logs.iter().map(|p| p.display().to_string()).collect();
    target.stop().await;
    let mut report = result?;
    report.logs = logs;
    Ok(report)
}

async fn measure(a: &AlertBenchArgs, run_id: &str, target: &Target, hook_url: &str, receipts: &SharedReceipts) -> anyhow::Result<LatencyReport> {
    let api = Arc::new(Api::connect(target).await?);
    let p = "/v1/projects/default";
    let channel = api
        .admin_post(&format!("{p}/alert-channels"), &json!({"name": "alert-bench", "type": "webhook", "config": {"url": hook_url, "secret": secret(&mut rand::rng())}}))
        .await?;
    let channel_id = channel["id"].as_str().context("channel without id")?.to_owned();

    // Rule 0 is the warm-up, created last: once it fires, every rule is in force.
    let token = |i: usize| format!("{run_id}r{i:05}");
    let mut ids = vec![String::new(); a.rules + 1];
    for i in (0..=a.rules).rev() {
        let rule = json!({"name": format!("alert-bench {}", token(i)), "query": token(i), "window": "1m",
            "condition": {"op": ">", "threshold": BELOW}, "channels": [channel_id]});
        ids[i] = api.admin_post(&format!("{p}/alert-rules"), &rule).await?["id"].as_str().context("rule without id")?.to_owned();
    }
    eprintln!("  {} rules and a webhook channel created; background load {} events/s", a.rules + 1, a.background_rate);

    let stop = Arc::new(AtomicBool::new(false));
    let bg = Arc::new(Background::default());
    let bg_started = Instant::now();
    let bg_task = tokio::spawn(background(api.clone(), run_id.to_owned(), a.background_rate, stop.clone(), bg.clone()));
    let result = async {
        // Rules reach the processors within about a second.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut warm = false;
        for attempt in 0..6 {
            api.ingest(&rule_events(&token(0), wall_ms(), attempt * (BELOW + 1), BELOW + 1)).await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && !warm {
                warm = lock(receipts).firing.contains_key(&ids[0]);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if warm {
                break;
            }
        }
        ensure!(warm, "the warm-up rule never fired (see the logs)");
        eprintln!("  warm-up rule fired; crossing {} rules, one every {} ms", a.rules, a.interval_ms);

        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for (i, id) in ids.iter().enumerate().skip(1).take(a.rules) {
            tokio::time::sleep_until((started + Duration::from_millis(a.interval_ms * (i as u64 - 1))).into()).await;
            let (api, token, id) = (api.clone(), token(i), id.clone());
            tasks.spawn(async move { (id, cross(&api, &token).await) });
        }
        let mut acks: HashMap<String, Instant> = HashMap::new();
        let mut send_errors = 0;
        while let Some(r) = tasks.join_next().await {
            match r? {
                (id, Ok(at)) => {
                    acks.insert(id, at);
                }
                (_, Err(e)) => {
                    send_errors += 1;
                    eprintln!("  a rule's events were not acknowledged: {e:#}");
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(a.timeout);
        while Instant::now() < deadline {
            let all_fired = {
                let r = lock(receipts);
                acks.keys().all(|id| r.firing.contains_key(id))
            };
            if all_fired {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok((acks, send_errors, started.elapsed()))
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = bg_task.await;
    let bg_rate = bg.acked.load(Ordering::Relaxed) as f64 / bg_started.elapsed().as_secs_f64().max(1e-9);
    let (acks, send_errors, measured) = result?;

    let r = lock(receipts);
    let (mut lat, mut before_ack, mut wrong_value) = (Vec::new(), 0, 0);
    // In the order of the acknowledgments: (ms since the first, latency ms or None).
    let mut timeline: Vec<(Instant, Option<f64>)> = Vec::new();
    for (id, ack) in &acks {
        let l = r.firing.get(id).map(|(at, value)| {
            wrong_value += usize::from(*value != Some((BELOW + 1) as f64));
            at.checked_duration_since(*ack).map_or_else(
                || {
                    before_ack += 1;
                    0.0
                },
                |d| d.as_secs_f64() * 1000.0,
            )
        });
        lat.extend(l);
        timeline.push((*ack, l));
    }
    lat.sort_by(f64::total_cmp);
    timeline.sort_by_key(|(at, _)| *at);
    let first = timeline.first().map(|(at, _)| *at);
    let timeline: Vec<(f64, Option<f64>)> =
        timeline.iter().map(|(at, l)| (round1(first.map_or(0.0, |f| at.duration_since(f).as_secs_f64() * 1000.0)), l.map(round1))).collect();
    let p99 = percentile(&lat, 0.99);
    Ok(LatencyReport {
        mode: a.mode.name().to_owned(),
        rules: a.rules,
        crossed: acks.len(),
        received: lat.len(),
        missing: acks.len() - lat.len(),
        send_errors,
        before_ack,
        repeated_firing: r.repeated,
        other_notifications: r.other,
        wrong_value,
        p50_ms: percentile(&lat, 0.5).map(round1),
        p90_ms: percentile(&lat, 0.9).map(round1),
        p99_ms: p99.map(round1),
        max_ms: lat.last().copied().map(round1),
        min_ms: lat.first().copied().map(round1),
        aim_p99_ms: AIM_P99_MS,
        aim_met: p99.is_some_and(|p| p <= AIM_P99_MS) && lat.len() == a.rules,
        background_rate_target: a.background_rate,
        // From the rules' creation to the end (warm-up included).
        background_events_per_sec: bg_rate.round(),
        background_failed: bg.failed.load(Ordering::Relaxed),
        background_skipped: bg.skipped.load(Ordering::Relaxed),
        measured_secs: (measured.as_secs_f64() * 100.0).round() / 100.0,
        timeline,
        logs: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------

/// # Errors
/// When NexusLog cannot be started or configured, or a throughput workload misbehaves.
pub async fn alert_bench(a: AlertBenchArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let dir = crate::run_dir(&run_id)?;
    let mut lines = Vec::new();
    let mut summary = serde_json::Map::new();
    summary.insert("run_id".into(), run_id.clone().into());
    let mut ok = true;

    if !a.latency_only {
        eprintln!("alert-bench {run_id}: processor throughput with {RULE_COUNTS:?} rules, {} events, best of {} rounds", a.events, a.rounds);
        let (events, rounds) = (a.events, a.rounds);
        let rows = tokio::task::spawn_blocking(move || throughput(events, rounds)).await??;
        lines.push(format!("processor work per event with alert rules, one core, best of {} rounds of {} events:", a.rounds, a.events));
        for r in &rows {
            lines.push(format!(
                "  {:>3} rules{}  {:>10.0} events/s   {:.2}× no rules   ({} partials, {} B per batch of {BATCH})",
                r.rules,
                if r.free_text_rules > 0 { format!(" ({} free text only)", r.free_text_rules) } else { String::new() },
                r.events_per_sec_per_core, r.ratio_to_no_rules, r.partials_per_batch, r.partials_bytes_per_batch
            ));
        }
        if let Some(r) = rows.iter().find(|r| r.rules == 100 && r.free_text_rules == 0) {
            let met = r.ratio_to_no_rules >= AIM_RATIO_100;
            lines.push(format!("  aim: ≥ {AIM_RATIO_100}× at 100 rules: {}", if met { "met" } else { "missed" }));
            summary.insert("throughput_aim_met".into(), met.into());
        }
        summary.insert("throughput".into(), serde_json::to_value(&rows)?);
    }

    if !a.throughput_only {
        let rep = latency(&a, &run_id, &dir).await?;
        let f = |x: Option<f64>| x.map_or("n/a".to_owned(), |v| format!("{v:.0} ms"));
        lines.push(format!(
            "alert latency, {} ({} rules, one crossing every {} ms, background {} events/s): ingest ack of the crossing event → webhook received",
            rep.mode, rep.rules, a.interval_ms, rep.background_rate_target
        ));
        lines.push(format!(
            "  p50 {}  p90 {}  p99 {}  max {}  min {}   received {}/{} ({} missing, {} not acknowledged)",
            f(rep.p50_ms),
            f(rep.p90_ms),
            f(rep.p99_ms),
            f(rep.max_ms),
            f(rep.min_ms),
            rep.received,
            rep.rules,
            rep.missing,
            rep.send_errors
        ));
        lines.push(format!(
            "  aim: p99 ≤ {AIM_P99_MS:.0} ms: {}   (p99 / aim = {})",
            if rep.aim_met { "met" } else { "missed" },
            rep.p99_ms.map_or("n/a".to_owned(), |p| format!("{:.2}", p / AIM_P99_MS))
        ));
        lines.push(format!(
            "  background acknowledged ≈ {} events/s over the run ({} failed, {} skipped); {} notified before the ack, {} repeated firing, {} wrong value",
            rep.background_events_per_sec, rep.background_failed, rep.background_skipped, rep.before_ack, rep.repeated_firing, rep.wrong_value
        ));
        ok = rep.missing == 0 && rep.send_errors == 0 && rep.repeated_firing == 0 && rep.wrong_value == 0;
        summary.insert("latency".into(), serde_json::to_value(&rep)?);
    }
    summary.insert("run_dir".into(), dir.display().to_string().into());
    for l in &lines {
        if a.json {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    if a.json {
        println!("{}", Value::Object(summary));
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throughput_rules_compile_and_match_the_generated_events() {
        let rules = throughput_rules(100, true).expect("rules compile");
        assert_eq!(rules.of_project("bench").len(), 100);
        let records = throughput_records(2_000).expect("records");
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let (_, partials, _) = rt.block_on(throughput_pass(&records, &rules)).expect("pass");
        assert!(partials > 100, "most rules see events: {partials} partials");
        let (_, none, _) = rt.block_on(throughput_pass(&records, &throughput_rules(0, false).expect("rules"))).expect("pass");
        assert_eq!(none, 0);
    }
}
