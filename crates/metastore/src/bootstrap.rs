//! First start: a default project and an ingest key, created once; later starts find them.

use crate::keys::{self, NewKey};
use crate::{ApiKey, MetaStore, MetaStoreError, Project};

/// Slug of the project created at first start.
pub const DEFAULT_PROJECT: &str = "default";

/// What bootstrap found or made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub project: Project,
    /// The ingest key's secret, when it was created by this call (print it once).
    pub created_key: Option<String>,
}

/// Migrates, then ensures the default project and an ingest+read key exist. `api_key`, when
/// given, is the key to register (automation sets it through `NEXUSLOG_BOOTSTRAP_API_KEY`);
/// otherwise one is generated the first time. Safe to run concurrently from several replicas.
///
/// # Errors
/// When the store is unavailable or a migration fails.
pub async fn ensure(store: &dyn MetaStore, api_key: Option<&str>) -> Result<Bootstrapped, MetaStoreError> {
    store.migrate().await?;
    let project = match store.project_by_slug(DEFAULT_PROJECT).await? {
        Some(p) => p,
        None => match store.create_project(DEFAULT_PROJECT, "Default project").await {
            Ok(p) => p,
            // Another replica won the race.
            Err(MetaStoreError::Conflict(_)) => store
                .project_by_slug(DEFAULT_PROJECT)
                .await?
                .ok_or_else(|| MetaStoreError::Unavailable("default project vanished".into()))?,
            Err(e) => return Err(e),
        },
    };
    let key: NewKey = match api_key {
        Some(secret) => keys::from_secret(secret),
        None => keys::generate(),
    };
    let exists = match api_key {
        Some(_) => store.api_key_by_prefix(&key.prefix).await?.is_some(),
        // Without a configured key, one bootstrap key per project is enough: look for it by name.
        None => store.has_api_key_named(&project.id, "bootstrap").await?,
    };
    if exists {
        return Ok(Bootstrapped { project, created_key: None });
    }
    let row = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        project_id: project.id.clone(),
        name: "bootstrap".into(),
        prefix: key.prefix.clone(),
        key_hash: key.hash.clone(),
        scopes: "ingest,read".into(),
        created_at: now(),
        revoked_at: None,
    };
    match store.create_api_key(&row).await {
        Ok(()) => Ok(Bootstrapped { project, created_key: Some(key.secret) }),
        Err(MetaStoreError::Conflict(_)) => Ok(Bootstrapped { project, created_key: None }),
        Err(e) => Err(e),
    }
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}
