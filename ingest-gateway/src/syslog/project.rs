//! Which project a syslog message belongs to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nexuslog_metastore::keys::Scope;
use nexuslog_metastore::{KeyCache, MetaStore};
use nexuslog_syslog::SyslogMessage;

/// How long a certificate name's project, or its absence, is remembered by default: a project
/// created later is accepted, and a deleted one refused, within this time.
pub const DEFAULT_PROJECT_CACHE_TTL: Duration = Duration::from_secs(60);

/// Cached names past which expired entries are swept on insert (names come from certificates
/// a trusted CA signed, so there are few; this only keeps a long-running process tidy).
const SWEEP_ABOVE: usize = 10_000;

/// Resolves projects from keys, certificate names and the listener default.
pub struct ProjectResolver {
    keys: KeyCache,
    meta: Arc<dyn MetaStore>,
    default_project: Option<String>,
    /// Certificate name → project id (or none), and when it was looked up.
    slugs: Mutex<HashMap<String, (Option<String>, Instant)>>,
    ttl: Duration,
}

/// Why a message has no project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoProject {
    BadKey,
    None,
    StoreDown,
}

impl NoProject {
    pub fn reason(self) -> &'static str {
        match self {
            NoProject::BadKey => "the API key in the structured data is invalid, revoked or lacks the ingest scope",
            NoProject::None => "no project: no API key in the structured data, no client certificate naming a project, and no default project on this listener",
            NoProject::StoreDown => "the metadata store is unavailable",
        }
    }
}

impl ProjectResolver {
    /// `default_project` is a project id (already resolved from its slug at start-up).
    pub fn new(keys: KeyCache, meta: Arc<dyn MetaStore>, default_project: Option<String>) -> Self {
        Self { keys, meta, default_project, slugs: Mutex::new(HashMap::new()), ttl: DEFAULT_PROJECT_CACHE_TTL }
    }

    /// Remembers a certificate name's project (or that it has none) for `ttl` instead of
    /// [`DEFAULT_PROJECT_CACHE_TTL`].
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<String>, Instant)>> {
        self.slugs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The project named `slug`, from the cache while its entry is younger than the TTL. "No
    /// such project" is cached the same way (a flood of unknown names does not reach the
    /// store more than once per TTL each), and expires the same way.
    async fn by_slug(&self, slug: &str) -> Result<Option<String>, NoProject> {
        if let Some((hit, at)) = self.cache().get(slug) {
            if at.elapsed() < self.ttl {
                return Ok(hit.clone());
            }
        }
        let id = self.meta.project_by_slug(slug).await.map_err(|_| NoProject::StoreDown)?.map(|p| p.id);
        let mut cache = self.cache();
        if cache.len() >= SWEEP_ABOVE {
            let ttl = self.ttl;
            cache.retain(|_, (_, at)| at.elapsed() < ttl);
        }
        cache.insert(slug.to_owned(), (id.clone(), Instant::now()));
        Ok(id)
    }

    /// # Errors
    /// [`NoProject`] when the message cannot be attributed.
    pub async fn resolve(&self, msg: &SyslogMessage, peer_name: Option<&str>) -> Result<String, NoProject> {
        if let Some(key) = msg.sd_param("nexuslog@", "key") {
            return match self.keys.verify(key, Scope::Ingest).await {
                Ok(k) => Ok(k.project_id),
                Err(nexuslog_metastore::keys::KeyError::Store(_)) => Err(NoProject::StoreDown),
                Err(_) => Err(NoProject::BadKey),
            };
        }
        if let Some(name) = peer_name {
            if let Some(id) = self.by_slug(name).await? {
                return Ok(id);
            }
        }
        self.default_project.clone().ok_or(NoProject::None)
    }
}

#[cfg(test)]
mod tests {
    use nexuslog_metastore::SqliteMetaStore;

    use super::*;

    fn message() -> SyslogMessage {
        nexuslog_syslog::parse_strict(b"<14>1 2024-01-01T00:00:00Z host app - - - hello", nexuslog_common::now_micros()).expect("syslog")
    }

    /// A certificate naming a project that does not exist yet is refused; once the project is
    /// created it is accepted within the TTL, and once deleted refused again within the TTL.
    #[tokio::test]
    async fn certificate_projects_are_looked_up_again_after_the_ttl() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).expect("sqlite");
        store.migrate().await.expect("migrate");
        let meta: Arc<dyn MetaStore> = Arc::new(store);
        let ttl = Duration::from_millis(300);
        let resolver = ProjectResolver::new(KeyCache::new(meta.clone()), meta.clone(), None).with_cache_ttl(ttl);
        let msg = message();

        assert_eq!(resolver.resolve(&msg, Some("later")).await, Err(NoProject::None));
        let project = meta.create_project("later", "Later").await.expect("create");
        assert_eq!(resolver.resolve(&msg, Some("later")).await, Err(NoProject::None), "still cached");
        tokio::time::sleep(ttl).await;
        assert_eq!(resolver.resolve(&msg, Some("later")).await, Ok(project.id.clone()), "found once the absence expired");

        assert!(meta.delete_project(&project.id).await.expect("delete"));
        tokio::time::sleep(ttl).await;
        assert_eq!(resolver.resolve(&msg, Some("later")).await, Err(NoProject::None), "refused once the project expired");
    }
}
