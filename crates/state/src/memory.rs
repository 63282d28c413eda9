//! [`StateStore`] in the process's memory, for standalone mode, optionally checkpointed to a
//! file: [`MemoryState::checkpoint`] writes a snapshot atomically (temp file + rename) and
//! [`MemoryState::open`] reads it back, so rate windows and caches survive a restart. What
//! changed after the last checkpoint is lost in a crash: this state is derived or short-lived
//! by design (nothing acknowledged to a producer lives here).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    file: Option<PathBuf>,
}

/// One entry of a checkpoint file: `value` or `counter`, expiry as Unix milliseconds.
#[derive(serde::Serialize, serde::Deserialize)]
struct SnapshotEntry {
    key: String,
    value: Option<Vec<u8>>,
    counter: Option<i64>,
    expires_unix_ms: Option<u128>,
}

impl MemoryState {
    /// State that lives only as long as the process.
    pub fn new() -> Self {
        Self::default()
    }

    /// State checkpointed to `file`; loads the last checkpoint if there is one.
    ///
    /// # Errors
    /// When the checkpoint exists but cannot be read or parsed.
    pub fn open(file: &Path) -> Result<Self, StateError> {
        let mut entries = HashMap::new();
        match std::fs::read(file) {
            Ok(bytes) => {
                let snapshot: Vec<SnapshotEntry> =
                    serde_json::from_slice(&bytes).map_err(|e| StateError::Config(format!("{}: {e}", file.display())))?;
                let now_ms = unix_ms();
                for e in snapshot {
                    let expiry = match e.expires_unix_ms {
                        Some(at) if at <= now_ms => continue,
                        Some(at) => Some(Instant::now() + Duration::from_millis(u64::try_from(at - now_ms).unwrap_or(u64::MAX))),
                        None => None,
                    };
                    let stored = match (e.value, e.counter) {
                        (_, Some(n)) => Stored::Counter(n),
                        (Some(v), None) => Stored::Bytes(v),
                        (None, None) => continue,
                    };
                    entries.insert(e.key, (stored, expiry));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StateError::Config(format!("{}: {e}", file.display()))),
        }
        Ok(Self { entries: Mutex::new(entries), file: Some(file.to_owned()) })
    }

    /// Writes a snapshot of the live entries to the checkpoint file (no-op without one).
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn checkpoint(&self) -> Result<(), StateError> {
        let Some(file) = &self.file else { return Ok(()) };
        let now = Instant::now();
        let now_ms = unix_ms();
        let snapshot: Vec<SnapshotEntry> = self.with(|m| {
            m.iter()
                .filter(|(_, (_, exp))| exp.is_none_or(|e| e > now))
                .map(|(k, (v, exp))| SnapshotEntry {
                    key: k.clone(),
                    value: match v {
                        Stored::Bytes(b) => Some(b.clone()),
                        Stored::Counter(_) => None,
                    },
                    counter: match v {
                        Stored::Counter(n) => Some(*n),
                        Stored::Bytes(_) => None,
                    },
                    expires_unix_ms: exp.map(|e| now_ms + e.duration_since(now).as_millis()),
                })
                .collect()
        });
        let bytes = serde_json::to_vec(&snapshot).map_err(|e| StateError::Unavailable(e.to_string()))?;
        let tmp = file.with_extension("tmp");
        let io = |e: std::io::Error| StateError::Unavailable(format!("{}: {e}", file.display()));
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
        std::fs::rename(&tmp, file).map_err(io)
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (Stored, Option<Instant>)>) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update of a plain map; the map
        // itself is still consistent, so keep serving.
        let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
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

    async fn get_or_set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.with(|m| {
            if let Some(v) = live(m.get(key)) {
                return Some(match v {
                    Stored::Bytes(b) => b.clone(),
                    Stored::Counter(n) => n.to_string().into_bytes(),
                });
            }
            m.insert(key.to_owned(), (Stored::Bytes(value.to_vec()), ttl.map(|t| Instant::now() + t)));
            None
        }))
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

    async fn take_tokens(&self, key: &str, n: u64, per_sec: u64, burst: u64) -> Result<Option<Duration>, StateError> {
        let now = u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_micros()).unwrap_or(u64::MAX);
        Ok(self.with(|m| {
            let tat = match live(m.get(key)) {
                Some(Stored::Counter(t)) => u64::try_from(*t).ok(),
                _ => None,
            };
            match crate::gcra(tat, now, n, per_sec, burst) {
                Ok(new_tat) => {
                    // Gone once the bucket is full again.
                    let expiry = Instant::now() + Duration::from_micros(new_tat - now);
                    m.insert(key.to_owned(), (Stored::Counter(i64::try_from(new_tat).unwrap_or(i64::MAX)), Some(expiry)));
                    None
                }
                Err(wait) => Some(Duration::from_micros(wait)),
            }
        }))
    }

    async fn health(&self) -> Result<(), StateError> {
        Ok(())
    }
}
