//! What a run prints: a human summary (stderr when --json, so stdout's last line is the JSON
//! object) and the JSON object itself. Also the progress bar, hidden when stderr is not a
//! terminal or the output is JSON.

use std::io::IsTerminal;
use std::time::Duration;

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;

use crate::ledger::Counts;
use crate::load::LoadStats;
use crate::verify::FollowStats;

/// A progress bar over `len` events, or a hidden one.
pub fn progress(len: u64, json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} acked {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Prints a line above the progress bar (or to stderr when hidden).
pub fn note(pb: &ProgressBar, line: &str) {
    if pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.println(line);
    }
}

/// Percentiles of a latency histogram in ms; `None` when nothing was recorded.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Latency {
    pub p50_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
    pub samples: u64,
}

pub fn latency(h: &Histogram<u64>) -> Option<Latency> {
    if h.is_empty() {
        return None;
    }
    Some(Latency {
        p50_ms: h.value_at_quantile(0.5),
        p99_ms: h.value_at_quantile(0.99),
        max_ms: h.max(),
        samples: h.len(),
    })
}

/// The summary of a `run` or `chaos`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub sent: u64,
    pub acked: u64,
    pub found: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Found although never acknowledged (allowed: at-least-once).
    pub extra: u64,
    pub ok: bool,
    pub send_seconds: f64,
    pub events_per_sec: f64,
    pub mb_per_sec: f64,
    pub freshness: Option<Latency>,
    pub requests: u64,
    pub retries: u64,
    pub failed_requests: u64,
    pub status_429: u64,
    pub status_5xx: u64,
    pub transport_errors: u64,
    pub verify_timed_out: bool,
    pub search_errors: u64,
    pub lost_sample: Vec<u64>,
    pub duplicated_sample: Vec<u64>,
    /// Mode-specific additions (chaos: kills, run directory).
    #[serde(flatten)]
    pub extra_fields: serde_json::Map<String, Value>,
}

impl Summary {
    pub fn new(
        run_id: &str,
        c: Counts,
        load: &LoadStats,
        follow: &FollowStats,
        freshness: Option<Latency>,
        samples: (Vec<u64>, Vec<u64>),
    ) -> Self {
        let secs = load.duration.as_secs_f64().max(1e-9);
        Self {
            run_id: run_id.to_owned(),
            sent: c.sent,
            acked: c.acked,
            found: c.found,
            lost: c.lost,
            duplicated: c.duplicated,
            extra: c.extra,
            ok: c.lost == 0 && c.duplicated == 0 && c.acked > 0,
            send_seconds: round2(secs),
            events_per_sec: round2(c.acked as f64 / secs),
            mb_per_sec: round2(load.acked_bytes as f64 / secs / 1e6),
            freshness,
            requests: load.requests,
            retries: load.retries,
            failed_requests: load.failed_batches,
            status_429: load.status_429,
            status_5xx: load.status_5xx,
            transport_errors: load.transport_errors,
            verify_timed_out: follow.timed_out,
            search_errors: follow.poll_errors,
            lost_sample: samples.0,
            duplicated_sample: samples.1,
            extra_fields: serde_json::Map::new(),
        }
    }

    /// Human lines to stderr when `json` (then the JSON object alone to stdout), else stdout.
    pub fn print(&self, json: bool) {
        let fresh = self.freshness.map_or("n/a".to_owned(), |f| {
            format!(
                "p50 {} ms, p99 {} ms, max {} ms",
                f.p50_ms, f.p99_ms, f.max_ms
            )
        });
        let lines = [
            format!("run {}: {}", self.run_id, if self.ok { "OK" } else { "FAILED" }),
            format!(
                "  sent {}  acked {}  found {}  lost {}  duplicated {}  extra (unacked but found) {}",
                self.sent, self.acked, self.found, self.lost, self.duplicated, self.extra
            ),
            format!(
                "  send phase {:.1} s: {:.0} events/s, {:.2} MB/s; {} requests, {} retries, {} given up",
                self.send_seconds, self.events_per_sec, self.mb_per_sec, self.requests, self.retries, self.failed_requests
            ),
            format!("  answers: {} x 429, {} x 5xx, {} transport errors", self.status_429, self.status_5xx, self.transport_errors),
            format!("  freshness (ack → searchable): {fresh}"),
        ];
        for l in &lines {
            if json {
                eprintln!("{l}");
            } else {
                println!("{l}");
            }
        }
        for (k, v) in &self.extra_fields {
            let l = format!("  {k}: {v}");
            if json {
                eprintln!("{l}");
            } else {
                println!("{l}");
            }
        }
        if !self.lost_sample.is_empty() || !self.duplicated_sample.is_empty() {
            let l = format!(
                "  first lost seqs {:?}; first duplicated seqs {:?}",
                self.lost_sample, self.duplicated_sample
            );
            if json {
                eprintln!("{l}");
            } else {
                println!("{l}");
            }
        }
        if json {
            match serde_json::to_string(self) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: cannot serialize the summary: {e}"),
            }
        }
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Nearest-rank percentile of sorted values; `None` when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn percentiles() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).expect("bounds");
        assert!(latency(&h).is_none());
        for v in 1..=1000 {
            h.record(v).expect("record");
        }
        let l = latency(&h).expect("samples");
        assert_eq!(l.samples, 1000);
        assert!((499..=501).contains(&l.p50_ms), "{}", l.p50_ms);
        assert!((989..=991).contains(&l.p99_ms), "{}", l.p99_ms);
        assert_eq!(l.max_ms, 1000);
    }
}
