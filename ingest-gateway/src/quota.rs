//! Per-key event budgets shared by every gateway replica.
//!
//! The local `governor` limiter is the first stage: exact for one process, free, and it
//! smooths bursts. Alone it lets N replicas take N times the configured rate, so a second stage
//! keeps one token bucket per key in the shared state store (Redis in a distributed
//! deployment): GCRA, one atomic script per request on the store's clock, refilling the
//! configured rate with bursts of one second's worth, the local stage's shape. When the store
//! does not answer, requests are admitted (fail open, counted in
//! `nexuslog_gateway_quota_unavailable_total`): a Redis outage must not stop ingest.

use std::sync::Arc;
use std::time::Duration;

use nexuslog_state::StateStore;

/// The shared stage of the per-key limit.
pub struct SharedQuota {
    state: Arc<dyn StateStore>,
    per_sec: u64,
}

impl SharedQuota {
    pub fn new(state: Arc<dyn StateStore>, per_sec: u32) -> Self {
        Self { state, per_sec: u64::from(per_sec) }
    }

    /// Takes `n` events from `key_id`'s bucket; `Err(wait)` when the replicas together have
    /// used it up.
    pub async fn take(&self, key_id: &str, n: u64) -> Result<(), Duration> {
        match self.state.take_tokens(&format!("quota:{key_id}"), n, self.per_sec, self.per_sec).await {
            Ok(None) => Ok(()),
            Ok(Some(wait)) => Err(wait),
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
    use nexuslog_state::StateError;

    use super::*;

    #[tokio::test]
    async fn two_replicas_share_one_budget() {
        let state: Arc<dyn StateStore> = Arc::new(nexuslog_state::MemoryState::new());
        let (a, b) = (SharedQuota::new(state.clone(), 100), SharedQuota::new(state, 100));
        assert_eq!(a.take("k", 80).await, Ok(()));
        let wait = b.take("k", 80).await.expect_err("the second replica's 80 events exceed the shared 100/s");
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_millis(600), "60 more at 100/s: about 0.6 s, not {wait:?}");
    }

    /// A state store that is down, as Redis is during an outage.
    struct Down;

    #[async_trait::async_trait]
    impl StateStore for Down {
        async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn set(&self, _: &str, _: &[u8], _: Option<Duration>) -> Result<(), StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn delete(&self, _: &str) -> Result<bool, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn incr(&self, _: &str, _: i64, _: Option<Duration>) -> Result<i64, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn get_or_set(&self, _: &str, _: &[u8], _: Option<Duration>) -> Result<Option<Vec<u8>>, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn take_tokens(&self, _: &str, _: u64, _: u64, _: u64) -> Result<Option<Duration>, StateError> {
            Err(StateError::Unavailable("down".into()))
        }
        async fn health(&self) -> Result<(), StateError> {
            Err(StateError::Unavailable("down".into()))
        }
    }

    #[test]
    fn a_store_outage_admits_and_counts() {
        let recorder = metrics_util::debugging::DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let quota = SharedQuota::new(Arc::new(Down), 100);
        let admitted = metrics::with_local_recorder(&recorder, || {
            tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(async {
                // Far over the budget, twice: both admitted.
                (quota.take("k", 1_000).await, quota.take("k", 1_000).await)
            })
        });
        assert_eq!(admitted, (Ok(()), Ok(())), "a Redis outage must not stop ingest");
        let counted: u64 = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(k, ..)| k.key().name() == "nexuslog_gateway_quota_unavailable_total")
            .map(|(.., v)| match v {
                metrics_util::debugging::DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum();
        assert_eq!(counted, 2, "each admitted-while-down request is counted");
    }
}
