//! Each project's redaction rules, compiled and cached for every receiver (HTTP protocols and
//! syslog go through [`crate::Ingest`], which applies them before anything reaches the bus).
//!
//! A project's rules are re-read after [`RELOAD_AFTER`], so a change made through the API
//! applies within that on every gateway. When the metadata store cannot be read, the last
//! compiled rules stay in use; a project never loaded cannot be redacted, so its events are
//! refused (503) rather than written in clear.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexuslog_metastore::MetaStore;
use nexuslog_redact::{key_setting, new_key, RedactionSpec, Redactor};

/// How long a project's compiled rules are used before they are read again.
pub const RELOAD_AFTER: Duration = Duration::from_secs(2);

/// The metadata entry (and so the record field) naming the rules that fired on an event.
pub const REDACTED_FIELD: &str = "ingest.redacted";

/// Why a project's rules are not available.
#[derive(Debug, thiserror::Error)]
#[error("redaction rules of project {project} unavailable: {reason}")]
pub struct RedactionUnavailable {
    pub project: String,
    pub reason: String,
}

/// A project's compiled rules, when they were last read, and what they were compiled from.
#[derive(Clone)]
struct Cached {
    read_at: Instant,
    source: (Option<String>, String),
    redactor: Arc<Redactor>,
}

/// The compiled rules of the projects seen so far.
pub struct Redactions {
    meta: Arc<dyn MetaStore>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Redactions {
    pub fn new(meta: Arc<dyn MetaStore>) -> Arc<Self> {
        Arc::new(Self { meta, cache: Mutex::new(HashMap::new()) })
    }

    /// The rules of `project_id` (the empty id: input of no project, built-in rules).
    ///
    /// # Errors
    /// The store cannot be read and the project's rules were never loaded.
    pub async fn for_project(&self, project_id: &str) -> Result<Arc<Redactor>, RedactionUnavailable> {
        let cached = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(project_id).cloned();
        if let Some(c) = &cached {
            if c.read_at.elapsed() < RELOAD_AFTER {
                return Ok(c.redactor.clone());
            }
        }
        let entry = match self.read(project_id).await {
            Ok(source) => match cached {
                // Unchanged since the last read (the usual case): no recompiling.
                Some(c) if c.source == source => Cached { read_at: Instant::now(), ..c },
                _ => Cached { read_at: Instant::now(), redactor: Arc::new(compile(project_id, &source)?), source },
            },
            Err(reason) => {
                return match cached {
                    Some(c) => {
                        tracing::warn!(project = project_id, %reason, "cannot reload redaction rules; using the last ones");
                        Ok(c.redactor)
                    }
                    None => Err(RedactionUnavailable { project: project_id.to_owned(), reason }),
                };
            }
        };
        let redactor = entry.redactor.clone();
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(project_id.to_owned(), entry);
        Ok(redactor)
    }

    /// The project's stored settings (JSON, if any) and hashing key (created on first use).
    async fn read(&self, project_id: &str) -> Result<(Option<String>, String), String> {
        let spec = self.meta.redaction(project_id).await.map_err(|e| e.to_string())?.map(|(json, _)| json);
        let name = key_setting(project_id);
        // Read first: the insert is a write, and this runs every few seconds per project.
        let key = match self.meta.setting(&name).await.map_err(|e| e.to_string())? {
            Some(key) => key,
            None => self.meta.setting_or_insert(&name, &new_key()).await.map_err(|e| e.to_string())?,
        };
        Ok((spec, key))
    }
}

/// Compiles a project's stored settings. Saved specs were validated by the API; one that no
/// longer reads or compiles (a built-in removed in a later version) falls back to the built-in
/// rules, loudly.
fn compile(project_id: &str, (spec, key): &(Option<String>, String)) -> Result<Redactor, RedactionUnavailable> {
    let spec = spec.as_deref().map_or_else(RedactionSpec::default, |json| {
        serde_json::from_str::<RedactionSpec>(json).unwrap_or_else(|e| {
            tracing::error!(project = project_id, error = %e, "stored redaction settings unreadable; using the built-in rules");
            RedactionSpec::default()
        })
    });
    Redactor::new(&spec, key.as_bytes())
        .or_else(|e| {
            tracing::error!(project = project_id, error = %e, "stored redaction settings do not compile; using the built-in rules");
            Redactor::new(&RedactionSpec::default(), key.as_bytes())
        })
        .map_err(|e| RedactionUnavailable { project: project_id.to_owned(), reason: e.to_string() })
}
