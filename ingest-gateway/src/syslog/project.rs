//! Which project a syslog message belongs to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use nexuslog_metastore::keys::Scope;
use nexuslog_metastore::{KeyCache, MetaStore};
use nexuslog_syslog::SyslogMessage;

/// Resolves projects from keys, certificate names and the listener default.
pub struct ProjectResolver {
    keys: KeyCache,
    meta: Arc<dyn MetaStore>,
    default_project: Option<String>,
    slugs: Mutex<HashMap<String, Option<String>>>,
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
        Self { keys, meta, default_project, slugs: Mutex::new(HashMap::new()) }
    }

    async fn by_slug(&self, slug: &str) -> Result<Option<String>, NoProject> {
        if let Some(hit) = self.slugs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(slug) {
            return Ok(hit.clone());
        }
        let id = self.meta.project_by_slug(slug).await.map_err(|_| NoProject::StoreDown)?.map(|p| p.id);
        self.slugs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(slug.to_owned(), id.clone());
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
