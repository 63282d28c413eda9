//! Reading the audit log: all of it for instance admins, a project's part for its admins.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use nexuslog_logstore::rfc3339_micros;
use nexuslog_metastore::AuditEntry;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::QueryParams;
use crate::{Api, ApiError};

const MAX_LIMIT: u32 = 1000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries strictly older than this (micros), for paging: pass the last `at_micros` seen.
    before: Option<i64>,
    limit: Option<u32>,
}

fn entry_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id,
        "at": rfc3339_micros(e.at),
        "at_micros": e.at,
        "actor": e.actor,
        "actor_name": e.actor_name,
        "action": e.action,
        "project_id": e.project_id,
        "target": e.target,
        "outcome": e.outcome,
        "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
        "ip": e.ip,
    })
}

async fn list(api: &Api, project_id: Option<&str>, p: &AuditParams) -> Result<Json<Value>, ApiError> {
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let entries = api.meta.list_audit(project_id, p.before, limit).await?;
    Ok(Json(json!({ "entries": entries.iter().map(entry_json).collect::<Vec<_>>() })))
}

pub async fn instance(State(api): State<Arc<Api>>, QueryParams(p): QueryParams<AuditParams>) -> Result<Json<Value>, ApiError> {
    list(&api, None, &p).await
}

pub async fn project(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, QueryParams(p): QueryParams<AuditParams>) -> Result<Json<Value>, ApiError> {
    list(&api, Some(&caller.project()?.id), &p).await
}
