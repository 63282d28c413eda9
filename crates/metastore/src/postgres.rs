//! [`MetaStore`] on PostgreSQL through a deadpool-postgres pool.

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use crate::{ApiKey, MetaStore, MetaStoreError, Project, User, MIGRATIONS};

/// PostgreSQL as the metadata store.
#[derive(Clone)]
pub struct PostgresMetaStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresMetaStore").finish_non_exhaustive()
    }
}

fn db_err(e: tokio_postgres::Error) -> MetaStoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        return MetaStoreError::Conflict(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()));
    }
    MetaStoreError::Unavailable(e.to_string())
}

fn pool_err(e: deadpool_postgres::PoolError) -> MetaStoreError {
    MetaStoreError::Unavailable(e.to_string())
}

impl PostgresMetaStore {
    /// Builds a pool for `url`; connections are opened on first use.
    ///
    /// # Errors
    /// When the URL does not parse.
    pub fn new(url: &str, pool_size: usize) -> Result<Self, MetaStoreError> {
        let pg: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| MetaStoreError::Config(e.to_string()))?;
        let manager = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(pool_size).build().map_err(|e| MetaStoreError::Config(e.to_string()))?;
        Ok(Self { pool })
    }
}

fn project(row: &tokio_postgres::Row) -> Project {
    Project { id: row.get("id"), slug: row.get("slug"), name: row.get("name"), created_at: row.get("created_at") }
}

#[async_trait]
impl MetaStore for PostgresMetaStore {
    async fn migrate(&self) -> Result<u32, MetaStoreError> {
        let mut client = self.pool.get().await.map_err(pool_err)?;
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
            .await
            .map_err(db_err)?;
        // One migrator at a time across replicas: a transaction-scoped advisory lock.
        let mut current = 0u32;
        for m in MIGRATIONS {
            let tx = client.transaction().await.map_err(db_err)?;
            tx.execute("SELECT pg_advisory_xact_lock(7215001)", &[]).await.map_err(db_err)?;
            let done = tx
                .query_opt("SELECT 1 FROM schema_migrations WHERE version = $1", &[&(m.version as i32)])
                .await
                .map_err(db_err)?
                .is_some();
            if !done {
                tx.batch_execute(m.sql)
                    .await
                    .map_err(|e| MetaStoreError::Migration { version: m.version, message: e.to_string() })?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[&(m.version as i32), &m.name, &now()],
                )
                .await
                .map_err(db_err)?;
                tracing::info!(version = m.version, name = m.name, "applied metadata migration");
            }
            tx.commit().await.map_err(db_err)?;
            current = m.version;
        }
        Ok(current)
    }

    async fn create_project(&self, slug: &str, name: &str) -> Result<Project, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let p = Project { id: uuid_text(), slug: slug.to_owned(), name: name.to_owned(), created_at: now() };
        client
            .execute("INSERT INTO projects (id, slug, name, created_at) VALUES ($1, $2, $3, $4)", &[&p.id, &p.slug, &p.name, &p.created_at])
            .await
            .map_err(db_err)?;
        Ok(p)
    }

    async fn project_by_slug(&self, slug: &str) -> Result<Option<Project>, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client.query_opt("SELECT id, slug, name, created_at FROM projects WHERE slug = $1", &[&slug]).await.map_err(db_err)?;
        Ok(row.as_ref().map(project))
    }

    async fn create_api_key(&self, k: &ApiKey) -> Result<(), MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .execute(
                "INSERT INTO api_keys (id, project_id, name, prefix, key_hash, scopes, created_at, revoked_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                &[&k.id, &k.project_id, &k.name, &k.prefix, &k.key_hash, &k.scopes, &k.created_at, &k.revoked_at],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_opt(
                "SELECT id, project_id, name, prefix, key_hash, scopes, created_at, revoked_at FROM api_keys WHERE prefix = $1",
                &[&prefix],
            )
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| ApiKey {
            id: r.get("id"),
            project_id: r.get("project_id"),
            name: r.get("name"),
            prefix: r.get("prefix"),
            key_hash: r.get("key_hash"),
            scopes: r.get("scopes"),
            created_at: r.get("created_at"),
            revoked_at: r.get("revoked_at"),
        }))
    }

    async fn create_user(&self, u: &User) -> Result<(), MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client
            .execute(
                "INSERT INTO users (id, email, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&u.id, &u.email, &u.password_hash, &u.is_admin, &u.created_at],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_opt("SELECT id, email, password_hash, is_admin, created_at FROM users WHERE email = $1", &[&email])
            .await
            .map_err(db_err)?;
        Ok(row.map(|r| User {
            id: r.get("id"),
            email: r.get("email"),
            password_hash: r.get("password_hash"),
            is_admin: r.get("is_admin"),
            created_at: r.get("created_at"),
        }))
    }

    async fn has_api_key_named(&self, project_id: &str, name: &str) -> Result<bool, MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        let row = client
            .query_opt("SELECT 1 FROM api_keys WHERE project_id = $1 AND name = $2 LIMIT 1", &[&project_id, &name])
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn health(&self) -> Result<(), MetaStoreError> {
        let client = self.pool.get().await.map_err(pool_err)?;
        client.query_one("SELECT 1", &[]).await.map_err(db_err)?;
        Ok(())
    }
}

fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

fn uuid_text() -> String {
    uuid::Uuid::now_v7().to_string()
}
