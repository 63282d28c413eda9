//! Backpressure on the pipeline's backlog: records on the bus that the processors and sinks
//! have not yet committed. Acknowledging faster than the index keeps up only grows it (and the
//! time until an acknowledged event is searchable), so above `bus.max_backlog_records` HTTP
//! ingest answers 503 with `Retry-After` and syslog TCP connections stop being read (TCP flow
//! control slows the sender). UDP cannot push back and is never held.
//!
//! The backlog is sampled by [`Backlog::watch`] (one lag read per stage every
//! [`SAMPLE_EVERY`]), never on the request path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use nexuslog_bus::Bus;
use nexuslog_common::shutdown::Shutdown;

/// How often the backlog is read. Short enough that a burst is stopped within a fraction of a
/// second of passing the bound, long enough that the lag reads cost nothing measurable.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// The pipeline's backlog as last sampled, and the bound ingest holds it to.
#[derive(Debug, Clone)]
pub struct Backlog {
    records: Arc<AtomicU64>,
    /// 0: no bound.
    max: u64,
}

impl Backlog {
    /// A backlog held to `max` records (0: never held).
    pub fn new(max: u64) -> Self {
        Self { records: Arc::new(AtomicU64::new(0)), max }
    }

    /// The records waiting when they are over the bound.
    pub fn over(&self) -> Option<u64> {
        let now = self.records.load(Ordering::Relaxed);
        (self.max > 0 && now > self.max).then_some(now)
    }

    /// Waits until the backlog is within its bound; false on shutdown.
    pub async fn wait_below(&self, shutdown: &Shutdown) -> bool {
        let mut held = false;
        while self.over().is_some() {
            if !held {
                metrics::counter!("nexuslog_gateway_backlog_holds_total", "source" => "syslog").increment(1);
                held = true;
            }
            tokio::select! {
                () = tokio::time::sleep(SAMPLE_EVERY) => {}
                () = shutdown.wait() => return false,
            }
        }
        true
    }

    /// Samples the backlog (the sum of each `(group, topic)` stage's lag) every
    /// [`SAMPLE_EVERY`] until shutdown. A stage whose lag cannot be read keeps its last value:
    /// a bus outage already refuses ingest on its own.
    pub async fn watch(self, bus: Arc<dyn Bus>, stages: Vec<(String, String)>, shutdown: Shutdown) {
        let mut last = vec![0u64; stages.len()];
        loop {
            for ((group, topic), last) in stages.iter().zip(last.iter_mut()) {
                match bus.lag(group, topic).await {
                    Ok(parts) => *last = parts.iter().map(|p| u64::try_from(p.records).unwrap_or(0)).sum(),
                    Err(e) => tracing::debug!(error = %e, group, topic, "cannot read the backlog"),
                }
            }
            let total = last.iter().sum::<u64>();
            self.records.store(total, Ordering::Relaxed);
            metrics::gauge!("nexuslog_gateway_backlog_records").set(total as f64);
            tokio::select! {
                () = tokio::time::sleep(SAMPLE_EVERY) => {}
                () = shutdown.wait() => return,
            }
        }
    }

    #[cfg(test)]
    fn set(&self, records: u64) {
        self.records.store(records, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bounded_backlog_past_its_bound_is_over() {
        let unbounded = Backlog::new(0);
        unbounded.set(u64::MAX);
        assert_eq!(unbounded.over(), None);
        let b = Backlog::new(100);
        b.set(100);
        assert_eq!(b.over(), None);
        b.set(101);
        assert_eq!(b.over(), Some(101));
    }
}
