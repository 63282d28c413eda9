//! [`MetaStore`] on SQLite, for standalone mode: one file in the data directory, WAL journal,
//! one connection behind a mutex (metadata traffic is light), calls on `spawn_blocking`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::{ApiKey, MetaStore, MetaStoreError, Project, User, MIGRATIONS};

/// SQLite as the metadata store.
#[derive(Clone)]
pub struct SqliteMetaStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteMetaStore").finish_non_exhaustive()
    }
}

fn db_err(e: rusqlite::Error) -> MetaStoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        if f.code == ErrorCode::ConstraintViolation {
            return MetaStoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()));
        }
    }
    MetaStoreError::Unavailable(e.to_string())
}

impl SqliteMetaStore {
    /// Opens (or creates) the database file.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: &Path) -> Result<Self, MetaStoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| MetaStoreError::Config(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(db_err)?;
        // WAL: readers don't block the writer; synchronous=FULL: a committed change survives power loss.
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
            .map_err(db_err)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, MetaStoreError> + Send + 'static,
    ) -> Result<T, MetaStoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| MetaStoreError::Unavailable(format!("sqlite task failed: {e}")))?
    }
}

fn project(row: &rusqlite::Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project { id: row.get(0)?, slug: row.get(1)?, name: row.get(2)?, created_at: row.get(3)? })
}

#[async_trait]
impl MetaStore for SqliteMetaStore {
    async fn migrate(&self) -> Result<u32, MetaStoreError> {
        self.with(|conn| {
            conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
                .map_err(db_err)?;
            let mut current = 0;
            for m in MIGRATIONS {
                let tx = conn.transaction().map_err(db_err)?;
                let done: Option<i64> =
                    tx.query_row("SELECT 1 FROM schema_migrations WHERE version = ?1", params![m.version], |r| r.get(0)).optional().map_err(db_err)?;
                if done.is_none() {
                    tx.execute_batch(m.sql).map_err(|e| MetaStoreError::Migration { version: m.version, message: e.to_string() })?;
                    tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)", params![m.version, m.name, now()])
                        .map_err(db_err)?;
                    tracing::info!(version = m.version, name = m.name, "applied metadata migration");
                }
                tx.commit().map_err(db_err)?;
                current = m.version;
            }
            Ok(current)
        })
        .await
    }

    async fn create_project(&self, slug: &str, name: &str) -> Result<Project, MetaStoreError> {
        let p = Project { id: uuid::Uuid::now_v7().to_string(), slug: slug.to_owned(), name: name.to_owned(), created_at: now() };
        let row = p.clone();
        self.with(move |conn| {
            conn.execute("INSERT INTO projects (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)", params![row.id, row.slug, row.name, row.created_at])
                .map_err(db_err)
        })
        .await?;
        Ok(p)
    }

    async fn project_by_slug(&self, slug: &str) -> Result<Option<Project>, MetaStoreError> {
        let slug = slug.to_owned();
        self.with(move |conn| {
            conn.query_row("SELECT id, slug, name, created_at FROM projects WHERE slug = ?1", params![slug], project).optional().map_err(db_err)
        })
        .await
    }

    async fn create_api_key(&self, k: &ApiKey) -> Result<(), MetaStoreError> {
        let k = k.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (id, project_id, name, prefix, key_hash, scopes, created_at, revoked_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
                params![k.id, k.project_id, k.name, k.prefix, k.key_hash, k.scopes, k.created_at, k.revoked_at],
            )
            .map(|_| ())
            .map_err(db_err)
        })
        .await
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, MetaStoreError> {
        let prefix = prefix.to_owned();
        self.with(move |conn| {
            conn.query_row(
                "SELECT id, project_id, name, prefix, key_hash, scopes, created_at, revoked_at FROM api_keys WHERE prefix = ?1",
                params![prefix],
                |r| {
                    Ok(ApiKey {
                        id: r.get(0)?,
                        project_id: r.get(1)?,
                        name: r.get(2)?,
                        prefix: r.get(3)?,
                        key_hash: r.get(4)?,
                        scopes: r.get(5)?,
                        created_at: r.get(6)?,
                        revoked_at: r.get(7)?,
                    })
                },
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn create_user(&self, u: &User) -> Result<(), MetaStoreError> {
        let u = u.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO users (id, email, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![u.id, u.email, u.password_hash, u.is_admin, u.created_at],
            )
            .map(|_| ())
            .map_err(db_err)
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, MetaStoreError> {
        let email = email.to_owned();
        self.with(move |conn| {
            conn.query_row("SELECT id, email, password_hash, is_admin, created_at FROM users WHERE email = ?1", params![email], |r| {
                Ok(User { id: r.get(0)?, email: r.get(1)?, password_hash: r.get(2)?, is_admin: r.get(3)?, created_at: r.get(4)? })
            })
            .optional()
            .map_err(db_err)
        })
        .await
    }

    async fn has_api_key_named(&self, project_id: &str, name: &str) -> Result<bool, MetaStoreError> {
        let (project_id, name) = (project_id.to_owned(), name.to_owned());
        self.with(move |conn| {
            conn.query_row("SELECT 1 FROM api_keys WHERE project_id = ?1 AND name = ?2 LIMIT 1", params![project_id, name], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
                .map_err(db_err)
        })
        .await
    }

    async fn health(&self) -> Result<(), MetaStoreError> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(db_err)).await
    }
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}
