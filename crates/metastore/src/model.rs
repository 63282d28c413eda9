//! The rows the metadata store keeps.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    /// Argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    /// Instance-wide administrator: every project, users, the whole audit log.
    pub is_admin: bool,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A member's role in a project, from least to most privileged. What each role may do is the
/// API's permission table; the store only keeps the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Viewer,
    Editor,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Editor, Role::Admin, Role::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown role `{s}` (expected owner, admin, editor or viewer)"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub project_id: String,
    pub name: String,
    /// The data source the key is for (free text, e.g. `fluent-bit-eu`); may be empty.
    pub source: String,
    pub prefix: String,
    pub key_hash: String,
    /// Comma-separated scopes: `ingest`, `read`.
    pub scopes: String,
    /// `user:<id>` of the creator, or `bootstrap`.
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// After this time (micros) the key is refused; `None`: it does not expire.
    pub expires_at: Option<i64>,
}

/// A login session; its refresh token is `<id>.<secret>` and only the secret's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub refresh_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The refresh hash the last rotation replaced, and when it did: within a short grace
    /// window that token is answered again rather than taken for a replay.
    pub previous_refresh_hash: Option<String>,
    pub rotated_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub token_hash: String,
    pub email: String,
    pub project_id: String,
    pub role: Role,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
    /// The token was e-mailed to the invitee, not shown to the inviter: holding it proves the
    /// address, so it may create the account (its password chosen by the invitee).
    pub emailed: bool,
}

/// One security-relevant action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    /// `user:<id>`, `key:<prefix>` or `anonymous`.
    pub actor: String,
    /// The actor's e-mail or key name, as it was at the time.
    pub actor_name: String,
    /// e.g. `auth.login`, `api_key.create`, `member.role_change`.
    pub action: String,
    pub project_id: Option<String>,
    pub target: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// JSON text with action-specific details (never secrets).
    pub detail: String,
    pub ip: String,
}

/// One processing rule of a project; `definition` is its JSON (see the pipeline crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineRule {
    pub id: String,
    pub project_id: String,
    pub position: i64,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}
