//! API-key checks with a short-lived cache, so a hot path (ingest, search) does not query the metadata
//! store per request, while a revoked key stops working within the cache TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::keys::{self, KeyError, Scope};
use crate::{ApiKey, MetaStore};

/// How long an answer about a key is trusted without asking the store again: the bound on how
/// late a revocation takes effect at a running gateway.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(3);

/// Bound on cached answers; past it the cache starts over (a flood of random keys cannot grow it).
const MAX_ENTRIES: usize = 100_000;

/// A cached lookup: the key row, or why it was refused.
#[derive(Clone)]
enum Answer {
    Valid(ApiKey),
    Invalid,
    Revoked,
}

/// Verifies keys through the metadata store, caching answers for [`KEY_CACHE_TTL`].
#[derive(Clone)]
pub struct KeyCache {
    store: Arc<dyn MetaStore>,
    entries: Arc<Mutex<HashMap<String, (Answer, Instant)>>>,
}

impl KeyCache {
    pub fn new(store: Arc<dyn MetaStore>) -> Self {
        Self { store, entries: Arc::default() }
    }

    /// # Errors
    /// Why the key is refused, or that the store cannot be asked.
    pub async fn verify(&self, presented: &str, scope: Scope) -> Result<ApiKey, KeyError> {
        if presented.is_empty() {
            return Err(KeyError::Missing);
        }
        // Cached by hash, so the map never holds secrets.
        let id = keys::hash(presented);
        let cached = {
            let map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.get(&id).filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL).map(|(a, _)| a.clone())
        };
        let answer = match cached {
            Some(a) => a,
            None => {
                let fresh = match keys::lookup(self.store.as_ref(), presented).await {
                    Ok(k) => Answer::Valid(k),
                    Err(KeyError::Revoked) => Answer::Revoked,
                    Err(KeyError::Store(e)) => return Err(KeyError::Store(e)),
                    Err(_) => Answer::Invalid,
                };
                let mut map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(id, (fresh.clone(), Instant::now()));
                fresh
            }
        };
        match answer {
            Answer::Valid(k) => keys::check_scope(&k, scope).map(|()| k),
            Answer::Invalid => Err(KeyError::Invalid),
            Answer::Revoked => Err(KeyError::Revoked),
        }
    }
}
