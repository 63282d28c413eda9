//! A project's API keys: list, create (the secret is shown once), revoke.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::keys::{self, Scope};
use nexuslog_metastore::ApiKey;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

pub async fn list(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let keys = api.meta.list_api_keys(&caller.project()?.id).await?;
    Ok(Json(json!({ "api_keys": keys.iter().map(super::key_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    /// The data source it is for (an agent, a service); free text.
    #[serde(default)]
    source: String,
    /// `ingest` and/or `read`; `ingest` when absent.
    scopes: Option<Vec<String>>,
    /// The key stops working this many days after creation; never when absent.
    expires_in_days: Option<u32>,
}

fn check_scopes(scopes: &[String]) -> Result<String, ApiError> {
    let known = [Scope::Ingest.as_str(), Scope::Read.as_str()];
    if scopes.is_empty() {
        return Err(ApiError::BadRequest("give at least one scope: ingest, read".into()));
    }
    for s in scopes {
        if !known.contains(&s.as_str()) {
            return Err(ApiError::BadRequest(format!("unknown scope {s:?} (expected ingest or read)")));
        }
    }
    let mut scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
    scopes.sort_unstable();
    scopes.dedup();
    Ok(scopes.join(","))
}

pub async fn create(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let name = body.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::BadRequest("a key needs a name of 1 to 100 characters".into()));
    }
    let scopes = check_scopes(body.scopes.as_deref().unwrap_or(&["ingest".to_owned()]))?;
    let now = nexuslog_metastore::now();
    let expires_at = match body.expires_in_days {
        Some(0) => return Err(ApiError::BadRequest("expires_in_days must be at least 1".into())),
        Some(days) => Some(now + i64::from(days) * 86_400_000_000),
        None => None,
    };
    let new = keys::generate();
    let row = ApiKey {
        id: nexuslog_metastore::new_id(),
        project_id: project.id.clone(),
        name: name.to_owned(),
        source: body.source.trim().to_owned(),
        prefix: new.prefix.clone(),
        key_hash: new.hash,
        scopes,
        created_by: caller.principal.as_ref().map(|p| p.actor().0).unwrap_or_default(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
        expires_at,
    };
    api.meta.create_api_key(&row).await?;
    api.audit(&caller, "api_key.create", Some(&project.id), &row.id, json!({ "name": row.name, "prefix": row.prefix, "scopes": row.scopes })).await;
    let mut answer = super::key_json(&row);
    answer["key"] = json!(new.secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

pub async fn revoke(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    let key = api.meta.list_api_keys(&project.id).await?.into_iter().find(|k| k.id == id).ok_or_else(|| ApiError::NotFound("no such key".into()))?;
    if api.meta.revoke_api_key(&project.id, &id, nexuslog_metastore::now()).await? {
        api.audit(&caller, "api_key.revoke", Some(&project.id), &id, json!({ "name": key.name, "prefix": key.prefix })).await;
    }
    // This process forgets the key now; the others within the revocation poll.
    api.keys.forget(&key.prefix);
    Ok(StatusCode::NO_CONTENT)
}
