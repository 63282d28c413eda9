//! The load generator: NDJSON requests to `POST /v1/logs/bulk`, paced to a target rate, each
//! retried under the same `Idempotency-Key` until answered or a deadline passes.
//!
//! Delivery from the client's side: a request counts as acknowledged only when answered 200.
//! Connection errors, timeouts, 429 and 5xx are retried with the same key (so the gateway
//! derives the same ingest ids and a retry cannot duplicate); other 4xx answers fail the
//! request for good.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::ledger::Ledger;

/// What to send.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub url: String,
    pub api_key: String,
    pub run_id: String,
    pub events: u64,
    /// Events per second; 0 = as fast as the gateway answers.
    pub rate: u64,
    pub batch: u64,
    pub event_size: usize,
    pub concurrency: usize,
    /// How long one request keeps being retried before it is given up.
    pub retry_deadline: Duration,
    /// Per attempt; above the gateway's produce timeout (30 s) so a slow ack is not cut off.
    pub request_timeout: Duration,
}

/// Counters of the send phase.
#[derive(Debug, Default)]
pub struct LoadCounters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub acked_bytes: AtomicU64,
    pub failed_batches: AtomicU64,
    pub status_429: AtomicU64,
    pub status_5xx: AtomicU64,
    pub transport_errors: AtomicU64,
    /// Events whose request is settled (acked or given up): the chaos schedule's clock.
    pub settled_events: AtomicU64,
}

/// Result of the send phase.
#[derive(Debug, Clone)]
pub struct LoadStats {
    pub duration: Duration,
    pub requests: u64,
    pub retries: u64,
    pub acked_bytes: u64,
    pub failed_batches: u64,
    pub status_429: u64,
    pub status_5xx: u64,
    pub transport_errors: u64,
    pub last_failure: Option<String>,
}

/// One event line: unique `seq`, the run id, padded to about `size` bytes.
pub fn event_line(run: &str, seq: u64, size: usize) -> String {
    let base =
        format!(r#"{{"message":"loadtest event {seq}","run":"{run}","seq":{seq},"pad":""}}"#);
    let pad = size.saturating_sub(base.len());
    format!(
        r#"{{"message":"loadtest event {seq}","run":"{run}","seq":{seq},"pad":"{}"}}"#,
        "x".repeat(pad)
    )
}

/// The NDJSON body of the requests covering `seqs`.
pub fn body(run: &str, seqs: std::ops::Range<u64>, size: usize) -> String {
    let mut out = String::with_capacity((seqs.end - seqs.start) as usize * (size + 1));
    for seq in seqs {
        out.push_str(&event_line(run, seq, size));
        out.push('\n');
    }
    out
}

/// How an attempt ended.
enum Attempt {
    /// 200: 0-based positions of rejected lines.
    Acked(Vec<u64>),
    /// Worth retrying after the given pause (from Retry-After when present).
    Retry(Option<Duration>, String),
    /// Refused for good.
    Fatal(String),
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // A server asking for minutes would stall the run; our deadline bounds the total anyway.
    Some(Duration::from_secs(secs.min(10)))
}

async fn attempt(
    http: &reqwest::Client,
    cfg: &LoadConfig,
    key: &str,
    body: &str,
    counters: &LoadCounters,
) -> Attempt {
    counters.requests.fetch_add(1, Ordering::Relaxed);
    let sent = http
        .post(format!("{}/v1/logs/bulk", cfg.url.trim_end_matches('/')))
        .bearer_auth(&cfg.api_key)
        .header("Idempotency-Key", key)
        .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
        .timeout(cfg.request_timeout)
        .body(body.to_owned())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            counters.transport_errors.fetch_add(1, Ordering::Relaxed);
            return Attempt::Retry(None, format!("transport: {e}"));
        }
    };
    let status = resp.status();
    if status.is_success() {
        return match resp.json::<Value>().await {
            Ok(v) => {
                // Line numbers are 1-based positions in the body; ours has no blank lines.
                let rejected = v
                    .get("rejected")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.get("line").and_then(Value::as_u64))
                            .map(|l| l.saturating_sub(1))
                            .collect()
                    })
                    .unwrap_or_default();
                Attempt::Acked(rejected)
            }
            // The answer was cut off: we cannot know it was a 200 with content; retrying is safe.
            Err(e) => Attempt::Retry(None, format!("unreadable 200 answer: {e}")),
        };
    }
    let wait = retry_after(resp.headers());
    let text = resp.text().await.unwrap_or_default();
    let reason = format!("{status}: {}", text.chars().take(200).collect::<String>());
    if status.as_u16() == 429 {
        counters.status_429.fetch_add(1, Ordering::Relaxed);
        Attempt::Retry(wait, reason)
    } else if status.is_server_error() {
        counters.status_5xx.fetch_add(1, Ordering::Relaxed);
        Attempt::Retry(wait, reason)
    } else {
        Attempt::Fatal(reason)
    }
}

/// Sends batch `b` until answered 200, refused for good, or `retry_deadline` passed.
async fn send_batch(
    http: &reqwest::Client,
    cfg: &LoadConfig,
    b: u64,
    body: &str,
    counters: &LoadCounters,
) -> Result<Vec<u64>, String> {
    let key = format!("{}-{b}", cfg.run_id);
    let deadline = Instant::now() + cfg.retry_deadline;
    let mut backoff = Duration::from_millis(100);
    loop {
        let (wait, reason) = match attempt(http, cfg, &key, body, counters).await {
            Attempt::Acked(rejected) => return Ok(rejected),
            Attempt::Fatal(reason) => return Err(reason),
            Attempt::Retry(wait, reason) => (wait.unwrap_or(backoff), reason),
        };
        if Instant::now() + wait > deadline {
            return Err(format!("gave up after {:?}: {reason}", cfg.retry_deadline));
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Milliseconds since the Unix epoch (the clock documents are stamped with).
pub fn wall_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Sends every event; records starts, acks and failures in the ledger (times since `origin`).
///
/// # Errors
/// Only when the HTTP client cannot be built; request failures are counted, not returned.
pub async fn run(
    cfg: LoadConfig,
    ledger: Arc<Mutex<Ledger>>,
    counters: Arc<LoadCounters>,
    origin: Instant,
) -> anyhow::Result<LoadStats> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.concurrency)
        .build()
        .context("building the HTTP client")?;
    let batches = ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .batch_count();
    let next = Arc::new(AtomicU64::new(0));
    let last_failure = Arc::new(Mutex::new(None::<String>));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..cfg.concurrency.max(1) {
        let (http, cfg, ledger, counters, next, last_failure) = (
            http.clone(),
            cfg.clone(),
            ledger.clone(),
            counters.clone(),
            next.clone(),
            last_failure.clone(),
        );
        workers.spawn(async move {
            let lock = || {
                ledger
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            };
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= batches {
                    break;
                }
                let range = lock().batch_range(b);
                if cfg.rate > 0 {
                    // Open-loop pacing: batch b is due when b*batch events' worth of time passed.
                    let due =
                        started + Duration::from_secs_f64((range.start as f64) / cfg.rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let body = body(&cfg.run_id, range.clone(), cfg.event_size);
                lock().batch_started(b, wall_ms());
                let n = range.end - range.start;
                match send_batch(&http, &cfg, b, &body, &counters).await {
                    Ok(rejected) => {
                        lock().batch_acked(b, &rejected, origin.elapsed());
                        counters
                            .acked_bytes
                            .fetch_add(body.len() as u64, Ordering::Relaxed);
                    }
                    Err(reason) => {
                        lock().batch_failed(b);
                        counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                        *last_failure
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
                    }
                }
                counters.settled_events.fetch_add(n, Ordering::Relaxed);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let duration = started.elapsed();
    let last_failure = last_failure
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(LoadStats {
        duration,
        requests: counters.requests.load(Ordering::Relaxed),
        retries: counters.retries.load(Ordering::Relaxed),
        acked_bytes: counters.acked_bytes.load(Ordering::Relaxed),
        failed_batches: counters.failed_batches.load(Ordering::Relaxed),
        status_429: counters.status_429.load(Ordering::Relaxed),
        status_5xx: counters.status_5xx.load(Ordering::Relaxed),
        transport_errors: counters.transport_errors.load(Ordering::Relaxed),
        last_failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_valid_json_of_about_the_asked_size() {
        let line = event_line("run1", 42, 256);
        assert_eq!(line.len(), 256);
        let v: Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["seq"], 42);
        assert_eq!(v["run"], "run1");
        // Too small a size: no padding, still valid.
        let small = event_line("run1", 7, 10);
        assert!(serde_json::from_str::<Value>(&small).is_ok());
        assert_eq!(body("r", 3..5, 64).lines().count(), 2);
    }
}
