//! Request handlers, by resource. Access is already enforced when they run (see `authz`).

pub mod agents;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod dashboards;
pub(crate) mod documents;
pub mod keys;
pub mod members;
pub mod pipelines;
pub mod projects;
pub mod redaction;
pub mod saved_searches;
pub mod users;

use nexuslog_metastore::{ApiKey, User};
use serde_json::{json, Value};

use nexuslog_logstore::rfc3339_micros as rfc3339;

pub(crate) fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "is_admin": u.is_admin,
        "created_at": rfc3339(u.created_at),
        "disabled_at": u.disabled_at.map(rfc3339),
    })
}

pub(crate) fn key_json(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "source": k.source,
        "prefix": k.prefix,
        "scopes": k.scopes.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "created_by": k.created_by,
        "created_at": rfc3339(k.created_at),
        "revoked_at": k.revoked_at.map(rfc3339),
        "last_used_at": k.last_used_at.map(rfc3339),
        "expires_at": k.expires_at.map(rfc3339),
    })
}
