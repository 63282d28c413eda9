//! Shared state: small keyed values with expiry, and counters. Rate limits, the API-key
//! revocation cache and alert windows live here, so every replica of a role sees the same
//! values (Redis), or the single standalone process does (in-process).

mod memory;
mod redis_state;

pub mod conformance;

use std::time::Duration;

use async_trait::async_trait;
pub use memory::MemoryState;
pub use redis_state::RedisState;

/// Why a state operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    #[error("state store configuration: {0}")]
    Config(String),
}

/// A shared key-value store with expiry.
#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError>;

    /// Sets `key`; with `ttl` it disappears after that long.
    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StateError>;

    /// Removes `key`; true when it existed.
    async fn delete(&self, key: &str) -> Result<bool, StateError>;

    /// Adds `by` to the integer at `key` (0 when absent) and returns the new value. `ttl` is
    /// applied when the counter is created, so a fixed window expires as a whole.
    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StateError>;

    /// Sets `key` to `value` (expiring after `ttl`) unless it holds a value, atomically; returns
    /// the value it already held, or `None` when this call set it. The first writer wins.
    async fn get_or_set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<Option<Vec<u8>>, StateError>;

    /// Takes `n` tokens from the bucket at `key`, which refills `per_sec` tokens a second and
    /// holds at most `burst`, atomically for every client of the store (GCRA: the key holds
    /// the bucket's theoretical arrival time, on the store's clock). `Ok(None)`: taken;
    /// `Ok(Some(wait))`: not taken, and they would be after `wait`. `n` over `burst` is never
    /// taken.
    async fn take_tokens(&self, key: &str, n: u64, per_sec: u64, burst: u64) -> Result<Option<Duration>, StateError>;

    async fn health(&self) -> Result<(), StateError>;
}

/// One GCRA step (see [`StateStore::take_tokens`]), all times in microseconds: from the stored
/// theoretical arrival time `tat` (`None`: a full bucket) at `now`, `Ok(new tat)` when `n`
/// tokens are taken, `Err(wait)` when not.
pub fn gcra(tat: Option<u64>, now: u64, n: u64, per_sec: u64, burst: u64) -> Result<u64, u64> {
    let interval = 1_000_000 / per_sec.max(1);
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat.saturating_add(n.saturating_mul(interval));
    let allowed_from = new_tat.saturating_sub(burst.saturating_mul(interval));
    if allowed_from > now {
        Err(allowed_from - now)
    } else {
        Ok(new_tat)
    }
}

