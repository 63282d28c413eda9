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

    async fn health(&self) -> Result<(), StateError>;
}
