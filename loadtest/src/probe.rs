//! Freshness by probes: single events sent beside a load, each looked for by a term of its own.
//!
//! Following a whole run by scanning it (what `session::measure` does to count losses) costs the
//! server a paged scan of every recent event per poll, and each reading arrives late by that
//! scan's own duration: at 17 k events/s on two cores it added about a second to every figure.
//! A probe is found by one term query that matches one document, polled every `poll`, so the
//! reading is acknowledgment → searchable to within that interval.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
/// # Errors
/// When the HTTP client cannot be built.
pub async fn run(cfg: ProbeConfig, stop: Arc<AtomicBool>) -> anyhow::Result<ProbeStats> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let cfg = Arc::new(cfg);
    let mut tasks = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(cfg.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let (http, cfg) = (http.clone(), cfg.clone());
        let token = format!("{}x{n}", cfg.run);
        n += 1;
        tasks.spawn(async move { one(&http, &cfg, &token).await });
    }
    let mut h = Histogram::<u64>::new(3)?;
    let (mut missing, mut unacknowledged) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r? {
            Outcome::Found(d) => h.record(d.as_millis() as u64)?,
            Outcome::Missing => missing += 1,
            Outcome::Unacknowledged => unacknowledged += 1,
        }
    }
    let latency = json!({
        "p50_ms": h.value_at_quantile(0.5),
        "p99_ms": h.value_at_quantile(0.99),
        "max_ms": h.max(),
        "samples": h.len(),
    });
    Ok(ProbeStats { latency, missing, unacknowledged })
}

enum Outcome {
    Found(Duration),
    Missing,
    Unacknowledged,
}

async fn one(http: &reqwest::Client, cfg: &ProbeConfig, token: &str) -> Outcome {
    let event = json!({ "message": format!("freshness probe {token}"), "service": "loadtest", "level": "info", "probe": token });
    let Ok(acked) = send(http, cfg, &event).await else { return Outcome::Unacknowledged };
    let q = format!("probe:{token}");
    while acked.elapsed() < cfg.timeout {
        let asked = Instant::now();
        // An error (the server busy) is a poll that found nothing: the probe's reading grows.
        if found(http, cfg, &q).await.unwrap_or(false) {
            // Read when the answer arrived: at most one query's time (about a millisecond) late,
            // never early.
            return Outcome::Found(acked.elapsed());
        }
        tokio::time::sleep(cfg.poll.saturating_sub(asked.elapsed())).await;
    }
    Outcome::Missing
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

async fn found(http: &reqwest::Client, cfg: &ProbeConfig, q: &str) -> anyhow::Result<bool> {
    let v: Value = http
        .get(format!("{}/v1/search", cfg.api))
        .query(&[("q", q), ("from", "now-1h"), ("limit", "1")])
        .bearer_auth(&cfg.api_key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(!v["hits"].as_array().context("search answer has no hits")?.is_empty())
}
