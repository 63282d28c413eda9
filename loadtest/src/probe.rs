//! Freshness by probes: single events sent beside a load, each with a term of its own.
//!
//! Following a whole run by scanning it (what `session::measure` does to count losses) costs the
//! server a paged scan of every recent event per poll, and each reading arrives late by that
//! scan's own duration: at 17 k events/s on two cores it added about a second to every figure.
//! Probes are found by one query that matches only them (the run's probe terms by prefix),
//! polled every `poll`, so each reading is acknowledgment → searchable to within that interval
//! and one query's time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use hdrhistogram::Histogram;
use serde_json::{json, Value};

/// Where and how often to probe.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub ingest: String,
    pub api: String,
    pub api_key: String,
    /// Tells this run's probes from every other event: a probe is `probe:<run>x<n>`.
    pub run: String,
    /// A probe is sent this often.
    pub every: Duration,
    /// A sent probe is searched for this often until found.
    pub poll: Duration,
    /// A probe not found this long after its acknowledgment counts as missing.
    pub timeout: Duration,
}

/// What the probes measured.
#[derive(Debug, Clone)]
pub struct ProbeStats {
    /// Acknowledgment → searchable, milliseconds: `p50_ms`, `p99_ms`, `max_ms`, `samples`.
    pub latency: Value,
    /// Probes acknowledged but never found within the timeout.
    pub missing: u64,
    /// Probes the gateway did not acknowledge (refused or failed): not measured.
    pub unacknowledged: u64,
}

/// Sends a probe every `cfg.every` until `stop`, then waits for the outstanding ones.
///
/// One poller looks for every outstanding probe with one query (the run's probes by prefix)
/// every `cfg.poll`: a poll per probe would put one search per outstanding probe per interval on
/// the server, and on a cluster whose searches take tens of milliseconds that load itself slowed
/// indexing, which kept more probes outstanding (a distributed run read 14 s at p50 that way).
///
/// # Errors
/// When the HTTP client cannot be built.
pub async fn run(cfg: ProbeConfig, stop: Arc<AtomicBool>) -> anyhow::Result<ProbeStats> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let cfg = Arc::new(cfg);
    let outstanding: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let sending_done = Arc::new(AtomicBool::new(false));
    let poller = tokio::spawn(poll(http.clone(), cfg.clone(), outstanding.clone(), sending_done.clone()));
    let mut sends = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(cfg.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let (http, cfg, outstanding) = (http.clone(), cfg.clone(), outstanding.clone());
        let token = format!("{}x{n}", cfg.run);
        n += 1;
        sends.spawn(async move {
            let event = json!({ "message": format!("freshness probe {token}"), "service": "loadtest", "level": "info", "probe": token });
            match send(&http, &cfg, &event).await {
                Ok(acked) => {
                    lock(&outstanding).insert(token, acked);
                    true
                }
                Err(_) => false,
            }
        });
    }
    let mut unacknowledged = 0;
    while let Some(acked) = sends.join_next().await {
        unacknowledged += u64::from(!acked?);
    }
    sending_done.store(true, Ordering::SeqCst);
    let (found, missing) = poller.await?;
    let mut h = Histogram::<u64>::new(3)?;
    for d in found {
        h.record(d.as_millis() as u64)?;
    }
    let latency = json!({
        "p50_ms": h.value_at_quantile(0.5),
        "p99_ms": h.value_at_quantile(0.99),
        "max_ms": h.max(),
        "samples": h.len(),
    });
    Ok(ProbeStats { latency, missing, unacknowledged })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Polls until sending is done and no probe is outstanding; returns each found probe's
/// acknowledgment → searchable time and how many were never found within the timeout.
async fn poll(http: reqwest::Client, cfg: Arc<ProbeConfig>, outstanding: Arc<Mutex<HashMap<String, Instant>>>, sending_done: Arc<AtomicBool>) -> (Vec<Duration>, u64) {
    let (mut found, mut missing) = (Vec::new(), 0);
    let q = format!("probe:{}x*", cfg.run);
    loop {
        let done = sending_done.load(Ordering::SeqCst);
        if lock(&outstanding).is_empty() {
            if done {
                return (found, missing);
            }
            tokio::time::sleep(cfg.poll).await;
            continue;
        }
        let asked = Instant::now();
        // An error (the server busy) is a poll that found nothing: the readings grow.
        let tokens = visible(&http, &cfg, &q).await.unwrap_or_default();
        {
            let mut waiting = lock(&outstanding);
            for token in tokens {
                // Read when the answer arrived: at most one query's time late, never early.
                if let Some(acked) = waiting.remove(&token) {
                    found.push(acked.elapsed());
                }
            }
            let before = waiting.len();
            waiting.retain(|_, acked| acked.elapsed() < cfg.timeout);
            missing += (before - waiting.len()) as u64;
        }
        tokio::time::sleep(cfg.poll.saturating_sub(asked.elapsed())).await;
    }
}

async fn send(http: &reqwest::Client, cfg: &ProbeConfig, event: &Value) -> anyhow::Result<Instant> {
    let resp = http
        .post(format!("{}/v1/logs/bulk", cfg.ingest))
        .bearer_auth(&cfg.api_key)
        .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
        .body(format!("{event}\n"))
        .send()
        .await?;
    let acked = Instant::now();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    ensure!(status.is_success() && v["accepted"].as_u64() == Some(1), "probe not accepted: {status} {v}");
    Ok(acked)
}

/// The probes of this run that search finds now, newest first.
async fn visible(http: &reqwest::Client, cfg: &ProbeConfig, q: &str) -> anyhow::Result<Vec<String>> {
    let v: Value = http
        .get(format!("{}/v1/search", cfg.api))
        .query(&[("q", q), ("from", "now-1h"), ("limit", "10000")])
        .bearer_auth(&cfg.api_key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let hits = v["hits"].as_array().context("search answer has no hits")?;
    Ok(hits.iter().filter_map(|h| h["fields"]["probe"].as_str().map(str::to_owned)).collect())
}
