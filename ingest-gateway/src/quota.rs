//! Per-key event budgets shared by every gateway replica.
//!
//! The local `governor` limiter is the first stage: exact for one process, free, and it
//! smooths bursts. Alone it lets N replicas take N times the configured rate, so a second stage
//! counts each key's events per one-second window in the shared state store (Redis in a
//! distributed deployment): one atomic `INCR` per request. A fixed window admits at most twice
//! the rate across a window edge, which the local stage already bounds per replica. When the
//! store does not answer, requests are admitted (fail open, counted): a Redis outage must not
//! stop ingest.

use std::sync::Arc;
use std::time::Duration;

use nexuslog_state::StateStore;

/// How long a window's counter outlives it (clock skew between replicas).
const WINDOW_TTL: Duration = Duration::from_secs(3);

/// The shared stage of the per-key limit.
pub struct SharedQuota {
    state: Arc<dyn StateStore>,
    per_sec: u64,
}

impl SharedQuota {
    pub fn new(state: Arc<dyn StateStore>, per_sec: u32) -> Self {
        Self { state, per_sec: u64::from(per_sec) }
    }

    /// Takes `n` events from `key_id`'s budget for the current second; `Err(wait)` when the
    /// replicas together have used it up.
    pub async fn take(&self, key_id: &str, n: u64) -> Result<(), Duration> {
        let now_ms = u64::try_from(nexuslog_common::now_micros() / 1000).unwrap_or(0);
        let (second, into) = (now_ms / 1000, now_ms % 1000);
        let key = format!("quota:{key_id}:{second}");
        match self.state.incr(&key, i64::try_from(n).unwrap_or(i64::MAX), Some(WINDOW_TTL)).await {
            Ok(used) if u64::try_from(used).unwrap_or(u64::MAX) > self.per_sec => Err(Duration::from_millis(1000 - into)),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "shared rate limit unavailable; admitting the request");
                metrics::counter!("nexuslog_gateway_quota_unavailable_total").increment(1);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_replicas_share_one_budget() {
        let state: Arc<dyn StateStore> = Arc::new(nexuslog_state::MemoryState::new());
        let (a, b) = (SharedQuota::new(state.clone(), 100), SharedQuota::new(state, 100));
        // Within one second (retry once if the first attempt straddles a window edge).
        for attempt in 0..2 {
            let key = format!("k{attempt}");
            let first = a.take(&key, 80).await;
            let second = b.take(&key, 80).await;
            if first.is_ok() && second.is_err() {
                return;
            }
        }
        panic!("the second replica's 80 events should exceed the shared 100/s");
    }
}
