//! First start: a default project and an ingest key, created once; later starts find them.

use crate::keys::{self, NewKey};
use crate::{ApiKey, MetaStore, MetaStoreError, Project, User};

/// Slug of the project created at first start.
pub const DEFAULT_PROJECT: &str = "default";

/// Login of the instance admin created at first start.
pub const ADMIN_EMAIL: &str = "admin@localhost";

/// What bootstrap found or made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub project: Project,
    /// The ingest key's secret, when it was created by this call (print it once).
    pub created_key: Option<String>,
    /// The admin's generated password, when this call created the admin without a configured one.
    pub created_admin_password: Option<String>,
}

/// Creates the instance admin unless it exists; returns the password when one was generated.
async fn ensure_admin(store: &dyn MetaStore, password: Option<&str>) -> Result<Option<String>, MetaStoreError> {
    if store.user_by_email(ADMIN_EMAIL).await?.is_some() {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => (crate::passwords::generate(), true),
    };
    let user = User {
        id: crate::new_id(),
        email: ADMIN_EMAIL.into(),
        name: "Administrator".into(),
        password_hash: crate::passwords::hash(&password)?,
        is_admin: true,
        created_at: crate::now(),
        disabled_at: None,
    };
    match store.create_user(&user).await {
        Ok(()) => Ok(generated.then_some(password)),
        Err(MetaStoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Migrates, then ensures the instance admin, the default project and an ingest+read key
/// exist. `api_key` / `admin_password`, when given, are used (automation sets them through
/// `NEXUSLOG_BOOTSTRAP_API_KEY` / `NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD`); otherwise they are
/// generated the first time. Safe to run concurrently from several replicas.
///
/// # Errors
/// When the store is unavailable or a migration fails.
pub async fn ensure(store: &dyn MetaStore, api_key: Option<&str>, admin_password: Option<&str>) -> Result<Bootstrapped, MetaStoreError> {
    store.migrate().await?;
    let created_admin_password = ensure_admin(store, admin_password).await?;
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
        return Ok(Bootstrapped { project, created_key: None, created_admin_password });
    }
    let row = ApiKey {
        id: crate::new_id(),
        project_id: project.id.clone(),
        name: "bootstrap".into(),
        source: String::new(),
        prefix: key.prefix.clone(),
        key_hash: key.hash.clone(),
        scopes: "ingest,read".into(),
        created_by: "bootstrap".into(),
        created_at: crate::now(),
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    match store.create_api_key(&row).await {
        Ok(()) => Ok(Bootstrapped { project, created_key: Some(key.secret), created_admin_password }),
        Err(MetaStoreError::Conflict(_)) => Ok(Bootstrapped { project, created_key: None, created_admin_password }),
        Err(e) => Err(e),
    }
}
