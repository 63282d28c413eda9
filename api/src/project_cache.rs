//! Projects by slug and by id, cached for a few seconds: every authorized request resolves its
//! project, and projects change rarely. Changes made through this process are forgotten at
//! once; other replicas see a rename within [`PROJECT_TTL`]. Access never rests on this cache
//! alone: membership is read fresh, and a deleted project's keys are revoked by the key cache.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nexuslog_metastore::{MetaStore, MetaStoreError, Project};

/// How long a looked-up project is reused.
pub const PROJECT_TTL: Duration = Duration::from_secs(5);

/// Bound on entries; past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct ProjectCache {
    entries: Mutex<HashMap<String, (Option<Project>, Instant)>>,
}

impl ProjectCache {
    pub(crate) async fn by_slug(&self, meta: &dyn MetaStore, slug: &str) -> Result<Option<Project>, MetaStoreError> {
        let key = format!("slug:{slug}");
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let found = meta.project_by_slug(slug).await?;
        self.put(key, found.clone());
        Ok(found)
    }

    pub(crate) async fn by_id(&self, meta: &dyn MetaStore, id: &str) -> Result<Option<Project>, MetaStoreError> {
        let key = format!("id:{id}");
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let found = meta.project_by_id(id).await?;
        self.put(key, found.clone());
        Ok(found)
    }

    /// Drops a project after this process changed or deleted it.
    pub(crate) fn forget(&self, p: &Project) {
        let mut map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&format!("slug:{}", p.slug));
        map.remove(&format!("id:{}", p.id));
    }

    fn get(&self, key: &str) -> Option<Option<Project>> {
        let map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(key).filter(|(_, at)| at.elapsed() < PROJECT_TTL).map(|(p, _)| p.clone())
    }

    fn put(&self, key: String, p: Option<Project>) {
        let mut map = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (p, Instant::now()));
    }
}
