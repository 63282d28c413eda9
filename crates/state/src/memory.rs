//! [`StateStore`] in the process's memory, for standalone mode.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{StateError, StateStore};

#[derive(Debug, Clone)]
enum Stored {
    Bytes(Vec<u8>),
    Counter(i64),
}

/// In-process state. Expired entries are dropped lazily when touched.
#[derive(Debug, Default)]
pub struct MemoryState {
    entries: Mutex<HashMap<String, (Stored, Option<Instant>)>>,
}

impl MemoryState {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (Stored, Option<Instant>)>) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update of a plain map; the map
        // itself is still consistent, so keep serving.
        let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

fn live(entry: Option<&(Stored, Option<Instant>)>) -> Option<&Stored> {
    match entry {
        Some((v, None)) => Some(v),
        Some((v, Some(exp))) if *exp > Instant::now() => Some(v),
        _ => None,
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.with(|m| {
            live(m.get(key)).map(|v| match v {
                Stored::Bytes(b) => b.clone(),
                Stored::Counter(n) => n.to_string().into_bytes(),
            })
        }))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), StateError> {
        let expiry = ttl.map(|t| Instant::now() + t);
        self.with(|m| m.insert(key.to_owned(), (Stored::Bytes(value.to_vec()), expiry)));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool, StateError> {
        Ok(self.with(|m| m.remove(key).is_some_and(|e| live(Some(&e)).is_some())))
    }

    async fn incr(&self, key: &str, by: i64, ttl: Option<Duration>) -> Result<i64, StateError> {
        self.with(|m| {
            let current = match live(m.get(key)) {
                Some(Stored::Counter(n)) => Some(*n),
                Some(Stored::Bytes(b)) => Some(
                    std::str::from_utf8(b)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                        .ok_or_else(|| StateError::Unavailable(format!("value at {key} is not an integer")))?,
                ),
                None => None,
            };
            let expiry = match current {
                Some(_) => m.get(key).and_then(|(_, e)| *e),
                None => ttl.map(|t| Instant::now() + t),
            };
            let next = current.unwrap_or(0) + by;
            m.insert(key.to_owned(), (Stored::Counter(next), expiry));
            Ok(next)
        })
    }

    async fn health(&self) -> Result<(), StateError> {
        Ok(())
    }
}
