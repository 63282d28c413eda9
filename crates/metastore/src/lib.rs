//! The metadata store: projects, users, memberships, API keys, sessions, invitations, the audit
//! log (and, as features land, pipelines, rules, dashboards).
//!
//! One implementation ([`store::SqlMetaStore`]) holds the logic and the SQL; a small driver
//! per database sends it ([`PostgresMetaStore`], [`SqliteMetaStore`]). Versioned migrations
//! live in `migrations/NNNN_name.sql`, in the SQL both databases accept, applied in order,
//! each in its own transaction, recorded in `schema_migrations`.

mod access_cache;
mod alerts;
mod documents;
pub mod bootstrap;
pub mod conformance;
pub mod keys;
mod model;
pub mod sealing;
pub mod passwords;
mod postgres;
pub mod sql;
mod sqlite;
pub mod store;

use async_trait::async_trait;
pub use access_cache::{KeyCache, SessionCache, REVOCATION_POLL};
pub use alerts::*;
pub use documents::*;
pub use model::*;
pub use postgres::{PgTls, PostgresMetaStore, SslMode};
pub use sqlite::SqliteMetaStore;
pub use sealing::SealingKeys;

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

/// A migration compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Migrations, in order, for every backend.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "init", sql: include_str!("../migrations/0001_init.sql") },
    Migration { version: 2, name: "access", sql: include_str!("../migrations/0002_access.sql") },
    Migration { version: 3, name: "pipelines", sql: include_str!("../migrations/0003_pipelines.sql") },
    Migration { version: 4, name: "key_tombstones", sql: include_str!("../migrations/0004_key_tombstones.sql") },
    Migration { version: 5, name: "key_expiry", sql: include_str!("../migrations/0005_key_expiry.sql") },
    Migration { version: 6, name: "alerting", sql: include_str!("../migrations/0006_alerting.sql") },
    Migration { version: 7, name: "documents", sql: include_str!("../migrations/0007_documents.sql") },
    Migration { version: 8, name: "refresh_grace", sql: include_str!("../migrations/0008_refresh_grace.sql") },
    Migration { version: 9, name: "invitation_delivery", sql: include_str!("../migrations/0009_invitation_delivery.sql") },
    Migration { version: 10, name: "redaction", sql: include_str!("../migrations/0010_redaction.sql") },
];

/// A metadata store. Implementations: [`PostgresMetaStore`] and [`SqliteMetaStore`]; both pass
/// [`conformance::run_all`]. Methods returning `bool` say whether a row was changed.
#[async_trait]
pub trait MetaStore: AlertStore + DocumentStore + Send + Sync + 'static {
    /// Applies pending migrations; returns the schema version now in place.
    async fn migrate(&self) -> Result<u32, MetaStoreError>;
    async fn health(&self) -> Result<(), MetaStoreError>;

    // Projects.
    async fn create_project(&self, slug: &str, name: &str) -> Result<Project, MetaStoreError>;
    async fn project_by_slug(&self, slug: &str) -> Result<Option<Project>, MetaStoreError>;
    async fn project_by_id(&self, id: &str) -> Result<Option<Project>, MetaStoreError>;
    async fn list_projects(&self) -> Result<Vec<Project>, MetaStoreError>;
    async fn rename_project(&self, id: &str, name: &str) -> Result<bool, MetaStoreError>;
    /// Deletes the project with its keys, memberships and invitations.
    async fn delete_project(&self, id: &str) -> Result<bool, MetaStoreError>;

    // Users.
    async fn create_user(&self, user: &User) -> Result<(), MetaStoreError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, MetaStoreError>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>, MetaStoreError>;
    async fn list_users(&self) -> Result<Vec<User>, MetaStoreError>;
    /// Writes name, password hash, admin flag and disabled time of an existing user.
    async fn update_user(&self, user: &User) -> Result<bool, MetaStoreError>;

    // Memberships.
    /// Adds the user to the project or changes their role.
    async fn set_member(&self, project_id: &str, user_id: &str, role: Role) -> Result<(), MetaStoreError>;
    async fn remove_member(&self, project_id: &str, user_id: &str) -> Result<bool, MetaStoreError>;
    async fn member_role(&self, project_id: &str, user_id: &str) -> Result<Option<Role>, MetaStoreError>;
    async fn list_members(&self, project_id: &str) -> Result<Vec<(User, Role)>, MetaStoreError>;
    async fn memberships_of(&self, user_id: &str) -> Result<Vec<(Project, Role)>, MetaStoreError>;

    // API keys.
    async fn create_api_key(&self, key: &ApiKey) -> Result<(), MetaStoreError>;
    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>, MetaStoreError>;
    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKey>, MetaStoreError>;
    /// Whether `project_id` has a key called `name`.
    async fn has_api_key_named(&self, project_id: &str, name: &str) -> Result<bool, MetaStoreError>;
    /// Revokes a key of the project (a key of another project is not touched).
    async fn revoke_api_key(&self, project_id: &str, id: &str, at: i64) -> Result<bool, MetaStoreError>;
    /// Prefixes of keys revoked (or deleted with their project) at or after `since`: what
    /// caches must forget.
    async fn api_keys_revoked_since(&self, since: i64) -> Result<Vec<String>, MetaStoreError>;
    /// Records that these keys (by id) were used at `at`.
    async fn touch_api_keys(&self, ids: &[String], at: i64) -> Result<(), MetaStoreError>;

    // Sessions.
    async fn create_session(&self, session: &Session) -> Result<(), MetaStoreError>;
    async fn session_by_id(&self, id: &str) -> Result<Option<Session>, MetaStoreError>;
    /// A user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn live_sessions(&self, user_id: &str, now: i64) -> Result<Vec<Session>, MetaStoreError>;
    /// Replaces the refresh hash if it still is `old_hash` and the session is live at `at`,
    /// keeping `old_hash` as the previous one with `at` as the rotation time (for the grace
    /// window); false means the refresh token was already used (or the session ended).
    async fn rotate_session(&self, id: &str, old_hash: &str, new_hash: &str, expires_at: i64, at: i64) -> Result<bool, MetaStoreError>;
    async fn revoke_session(&self, id: &str, at: i64) -> Result<bool, MetaStoreError>;
    /// Revokes every live session of the user except `keep`; returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, keep: Option<&str>, at: i64) -> Result<u64, MetaStoreError>;
    async fn sessions_revoked_since(&self, since: i64) -> Result<Vec<String>, MetaStoreError>;

    // Invitations.
    async fn create_invitation(&self, invitation: &Invitation) -> Result<(), MetaStoreError>;
    async fn invitation_by_token_hash(&self, token_hash: &str) -> Result<Option<Invitation>, MetaStoreError>;
    /// Marks it accepted, once: false when it already was.
    async fn accept_invitation(&self, id: &str, at: i64) -> Result<bool, MetaStoreError>;

    // Audit log.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), MetaStoreError>;
    /// Newest first, before `before` (micros) when given; only `project_id`'s entries when given.
    async fn list_audit(&self, project_id: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, MetaStoreError>;

    // Processing pipelines.
    /// A project's rules in order (position, then id).
    async fn pipeline_rules(&self, project_id: &str) -> Result<Vec<PipelineRule>, MetaStoreError>;
    /// Inserts or replaces a rule (by id, within its project) and bumps the project's revision,
    /// in one transaction; returns the new revision.
    async fn save_pipeline_rule(&self, rule: &PipelineRule) -> Result<i64, MetaStoreError>;
    /// Deletes a rule and bumps the revision; `None` when the project has no such rule.
    async fn delete_pipeline_rule(&self, project_id: &str, id: &str) -> Result<Option<i64>, MetaStoreError>;
    /// Every project's pipeline revision: what processors poll.
    async fn pipeline_revisions(&self) -> Result<Vec<(String, i64)>, MetaStoreError>;

    // Redaction.
    /// A project's redaction settings as stored (the redact crate's spec as JSON) and when they
    /// changed (micros); `None` when the project never saved any.
    async fn redaction(&self, project_id: &str) -> Result<Option<(String, i64)>, MetaStoreError>;
    /// Replaces a project's redaction settings.
    async fn save_redaction(&self, project_id: &str, definition: &str, updated_at: i64) -> Result<(), MetaStoreError>;

    /// Rewrites the stored credentials not sealed with the current key of `secrets.key_file`
    /// (see [`sealing`]); returns how many. Nothing without keys.
    async fn reseal(&self) -> Result<u64, MetaStoreError>;

    // Instance settings.
    async fn setting(&self, name: &str) -> Result<Option<String>, MetaStoreError>;
    /// Stores `value` unless the setting exists; returns the value in place afterwards (so
    /// replicas racing to generate a secret all end up with the same one).
    async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, MetaStoreError>;
}

/// Microseconds since the epoch.
pub fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// A new time-ordered id.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
