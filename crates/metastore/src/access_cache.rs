//! Caches in front of the credential checks on hot paths (every ingest request, every API
//! call), with invalidation: a background task asks the store every [`REVOCATION_POLL`] for
//! what was revoked and drops it, so a revoked key or a logged-out session stops working at
//! every running process within about a second, while valid answers are reused for a minute.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use crate::keys::{self, KeyError, Scope};
use crate::{ApiKey, MetaStore, MetaStoreError};

/// How often each process asks the store for revocations: the bound on how late a revocation
/// takes effect.
pub const REVOCATION_POLL: Duration = Duration::from_secs(1);

/// How long an answer is reused without asking the store (revocations cut it short).
const ANSWER_TTL: Duration = Duration::from_secs(60);

/// Revocations are asked for with this overlap, so clock skew between the revoking process and
/// this one, or a lookup racing a revocation, cannot make one slip through.
const OVERLAP_MICROS: i64 = 30_000_000;

/// Key usage is written to the store this often (last-used times are approximate by design).
const TOUCH_EVERY: u32 = 10;

/// Bound on cached answers; past it the cache starts over (a flood of random keys cannot grow it).
const MAX_ENTRIES: usize = 100_000;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers by lookup id, each with when it was fetched.
struct Answers<A> {
    map: Mutex<HashMap<String, (A, Instant)>>,
}

impl<A: Clone> Answers<A> {
    fn new() -> Self {
        Self { map: Mutex::new(HashMap::new()) }
    }

    fn get(&self, id: &str) -> Option<A> {
        lock(&self.map).get(id).filter(|(_, at)| at.elapsed() < ANSWER_TTL).map(|(a, _)| a.clone())
    }

    fn put(&self, id: String, answer: A) {
        let mut map = lock(&self.map);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(id, (answer, Instant::now()));
    }

    fn forget(&self, revoked: impl Fn(&A) -> bool) {
        lock(&self.map).retain(|_, (a, _)| !revoked(a));
    }
}

/// Runs `tick` every [`REVOCATION_POLL`] while `owner` lives, on the current Tokio runtime
/// (none outside a runtime: then answers simply expire after [`ANSWER_TTL`]).
fn spawn_watcher<T: Send + Sync + 'static>(
    owner: &Arc<T>,
    tick: impl Fn(Arc<T>, i64, u32) -> BoxFuture<'static, Result<(), MetaStoreError>> + Send + 'static,
) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
    let weak: Weak<T> = Arc::downgrade(owner);
    handle.spawn(async move {
        let mut since = crate::now() - OVERLAP_MICROS;
        let mut n: u32 = 0;
        loop {
            tokio::time::sleep(REVOCATION_POLL).await;
            let Some(owner) = weak.upgrade() else { return };
            let started = crate::now();
            n = n.wrapping_add(1);
            match tick(owner, since, n).await {
                Ok(()) => since = started - OVERLAP_MICROS,
                Err(e) => tracing::warn!(error = %e, "cannot poll revocations; cached credentials expire on their own"),
            }
        }
    });
}

/// A cached answer about a presented key.
#[derive(Clone)]
enum KeyAnswer {
    Valid(Box<ApiKey>),
    Invalid,
    Revoked,
    Expired,
}

struct KeyInner {
    store: Arc<dyn MetaStore>,
    answers: Answers<KeyAnswer>,
    used: Mutex<HashSet<String>>,
}

/// Verifies API keys through the metadata store, caching answers, dropping revoked keys within
/// [`REVOCATION_POLL`], and recording last-used times.
#[derive(Clone)]
pub struct KeyCache {
    inner: Arc<KeyInner>,
}

impl KeyCache {
    pub fn new(store: Arc<dyn MetaStore>) -> Self {
        let inner = Arc::new(KeyInner { store, answers: Answers::new(), used: Mutex::default() });
        spawn_watcher(&inner, |inner, since, n| {
            Box::pin(async move {
                let revoked: HashSet<String> = inner.store.api_keys_revoked_since(since).await?.into_iter().collect();
                if !revoked.is_empty() {
                    inner.answers.forget(|a| matches!(a, KeyAnswer::Valid(k) if revoked.contains(&k.prefix)));
                }
                if n % TOUCH_EVERY == 0 {
                    inner.flush_usage().await?;
                }
                Ok(())
            })
        });
        Self { inner }
    }

    /// The key, if genuine and not revoked, whatever its scopes.
    ///
    /// # Errors
    /// Why the key is refused, or that the store cannot be asked.
    pub async fn key(&self, presented: &str) -> Result<ApiKey, KeyError> {
        if presented.is_empty() {
            return Err(KeyError::Missing);
        }
        // Cached by hash, so the map never holds secrets.
        let id = keys::hash(presented);
        let answer = match self.inner.answers.get(&id) {
            Some(a) => a,
            None => {
                let fresh = match keys::lookup(self.inner.store.as_ref(), presented).await {
                    Ok(k) => KeyAnswer::Valid(Box::new(k)),
                    Err(KeyError::Revoked) => KeyAnswer::Revoked,
                    Err(KeyError::Expired) => KeyAnswer::Expired,
                    Err(KeyError::Store(e)) => return Err(KeyError::Store(e)),
                    Err(_) => KeyAnswer::Invalid,
                };
                self.inner.answers.put(id, fresh.clone());
                fresh
            }
        };
        match answer {
            KeyAnswer::Valid(k) => {
                // A cached answer may outlive the key's expiry: check it on every use.
                keys::check_expiry(&k)?;
                lock(&self.inner.used).insert(k.id.clone());
                Ok(*k)
            }
            KeyAnswer::Invalid => Err(KeyError::Invalid),
            KeyAnswer::Revoked => Err(KeyError::Revoked),
            KeyAnswer::Expired => Err(KeyError::Expired),
        }
    }

    /// [`Self::key`], then the scope check.
    ///
    /// # Errors
    /// As [`Self::key`], or [`KeyError::Scope`].
    pub async fn verify(&self, presented: &str, scope: Scope) -> Result<ApiKey, KeyError> {
        let key = self.key(presented).await?;
        keys::check_scope(&key, scope)?;
        Ok(key)
    }

    /// Drops what this process knows about a key at once (the revoking process calls it; others
    /// learn through the watcher).
    pub fn forget(&self, prefix: &str) {
        self.inner.answers.forget(|a| matches!(a, KeyAnswer::Valid(k) if k.prefix == prefix));
    }

    /// Writes pending last-used times now (also done every few seconds in the background).
    ///
    /// # Errors
    /// When the store cannot be written.
    pub async fn flush_usage(&self) -> Result<(), MetaStoreError> {
        self.inner.flush_usage().await
    }
}

impl KeyInner {
    async fn flush_usage(&self) -> Result<(), MetaStoreError> {
        let ids: Vec<String> = std::mem::take(&mut *lock(&self.used)).into_iter().collect();
        if ids.is_empty() {
            return Ok(());
        }
        self.store.touch_api_keys(&ids, crate::now()).await
    }
}

struct SessionInner {
    store: Arc<dyn MetaStore>,
    /// Session id → the user id it belongs to, or `None` when it is not live.
    answers: Answers<(String, Option<String>)>,
}

/// Whether a login session is live (not revoked, not expired), cached like [`KeyCache`], so a
/// logout is honoured by every API replica within [`REVOCATION_POLL`].
#[derive(Clone)]
pub struct SessionCache {
    inner: Arc<SessionInner>,
}

impl SessionCache {
    pub fn new(store: Arc<dyn MetaStore>) -> Self {
        let inner = Arc::new(SessionInner { store, answers: Answers::new() });
        spawn_watcher(&inner, |inner, since, _| {
            Box::pin(async move {
                let revoked: HashSet<String> = inner.store.sessions_revoked_since(since).await?.into_iter().collect();
                if !revoked.is_empty() {
                    inner.answers.forget(|(id, _)| revoked.contains(id));
                }
                Ok(())
            })
        });
        Self { inner }
    }

    /// The user of a live session, `None` when it was revoked or has expired.
    ///
    /// # Errors
    /// When the store cannot be asked.
    pub async fn live_user(&self, session_id: &str) -> Result<Option<String>, MetaStoreError> {
        if let Some((_, user)) = self.inner.answers.get(session_id) {
            return Ok(user);
        }
        let now = crate::now();
        let user = self.inner.store.session_by_id(session_id).await?.filter(|s| s.revoked_at.is_none() && s.expires_at > now).map(|s| s.user_id);
        self.inner.answers.put(session_id.to_owned(), (session_id.to_owned(), user.clone()));
        Ok(user)
    }

    /// Drops a session at once in this process (logout calls it).
    pub fn forget(&self, session_id: &str) {
        self.inner.answers.forget(|(id, _)| id == session_id);
    }

    /// Drops every cached session of a user (their sessions were revoked here).
    pub fn forget_user(&self, user_id: &str) {
        self.inner.answers.forget(|(_, user)| user.as_deref() == Some(user_id));
    }
}
