//! The metadata store: projects, users, API keys (and, as features land, rules, dashboards,
//! pipelines). Versioned SQL migrations live in `migrations/NNNN_name.sql`, written in the SQL
//! that PostgreSQL and SQLite both accept, and are applied in order, each in its own
//! transaction, recorded in `schema_migrations`.

pub mod bootstrap;
mod key_cache;
pub mod keys;
pub mod passwords;
pub mod conformance;
mod postgres;
mod sqlite;

use async_trait::async_trait;
pub use key_cache::{KeyCache, KEY_CACHE_TTL};
pub use postgres::PostgresMetaStore;
pub use sqlite::SqliteMetaStore;

/// Why a metadata operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MetaStoreError {
    #[error("metadata store unavailable: {0}")]
    Unavailable(String),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("migration {version} failed: {message}")]
    Migration { version: u32, message: String },
    #[error("metadata store configuration: {0}")]
    Config(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    /// Comma-separated scopes: `ingest`, `read`.
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    /// Argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub is_admin: bool,
    pub created_at: i64,
}

/// A migration compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Migrations, in order, for every backend.
pub const MIGRATIONS: &[Migration] = &[Migration { version: 1, name: "init", sql: include_str!("../migrations/0001_init.sql") }];

/// A metadata store. Implementations: [`PostgresMetaStore`] and [`SqliteMetaStore`].
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    /// Applies pending migrations; returns the schema version now in place.
    async fn migrate(&self) -> Result<u32, MetaStoreError>;

    async fn create_project(&self, slug: &str, name: &str) -> Result<Project, MetaStoreError>;

    async fn project_by_slug(&self, slug: &str) -> Result<Option<Project>, MetaStoreError>;

    async fn create_api_key(&self, key: &ApiKey) -> Result<(), MetaStoreError>;

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, MetaStoreError>;

    async fn create_user(&self, user: &User) -> Result<(), MetaStoreError>;

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, MetaStoreError>;

    /// Whether `project_id` has a key called `name`.
    async fn has_api_key_named(&self, project_id: &str, name: &str) -> Result<bool, MetaStoreError>;

    async fn health(&self) -> Result<(), MetaStoreError>;
}
