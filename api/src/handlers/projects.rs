//! Projects: list the ones you can see, create (you become owner), read, rename, delete; the
//! role table.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::{Project, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::{least_role, Caller, Permission};
use crate::extract::JsonBody;
use crate::{Api, ApiError};

fn project_json(p: &Project, role: Option<Role>) -> Value {
    json!({ "id": p.id, "slug": p.slug, "name": p.name, "created_at": nexuslog_logstore::rfc3339_micros(p.created_at), "role": role.map(Role::as_str) })
}

pub async fn list(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let (user_id, ..) = caller.user()?;
    let mine = api.meta.memberships_of(user_id).await?;
    let projects: Vec<Value> = if caller.is_instance_admin() {
        let roles: std::collections::HashMap<String, Role> = mine.into_iter().map(|(p, r)| (p.id, r)).collect();
        api.meta.list_projects().await?.iter().map(|p| project_json(p, roles.get(&p.id).copied())).collect()
    } else {
        mine.iter().map(|(p, r)| project_json(p, Some(*r))).collect()
    };
    Ok(Json(json!({ "projects": projects })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    slug: String,
    name: Option<String>,
}

/// Slugs name projects in URLs and syslog structured data: short, lowercase, unambiguous.
fn check_slug(slug: &str) -> Result<(), ApiError> {
    let ok = (1..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!("{slug:?} is not a valid slug: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'")))
    }
}

pub async fn create(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewProject>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (user_id, ..) = caller.user()?;
    check_slug(&body.slug)?;
    let name = body.name.unwrap_or_else(|| body.slug.clone());
    let project = api.meta.create_project(&body.slug, name.trim()).await.map_err(|e| match e {
        nexuslog_metastore::MetaStoreError::Conflict(_) => ApiError::Conflict(format!("project {} exists", body.slug)),
        other => other.into(),
    })?;
    api.meta.set_member(&project.id, user_id, Role::Owner).await?;
    api.audit(&caller, "project.create", Some(&project.id), &project.slug, json!({ "name": project.name })).await;
    Ok((StatusCode::CREATED, Json(json!({ "project": project_json(&project, Some(Role::Owner)) }))))
}

pub async fn get(Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "project": project_json(caller.project()?, caller.role) })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChange {
    name: String,
}

pub async fn update(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<ProjectChange>,
) -> Result<Json<Value>, ApiError> {
    let mut project = caller.project()?.clone();
    project.name = body.name.trim().to_owned();
    api.meta.rename_project(&project.id, &project.name).await?;
    api.projects.forget(&project);
    api.audit(&caller, "project.update", Some(&project.id), &project.slug, json!({ "name": project.name })).await;
    Ok(Json(json!({ "project": project_json(&project, caller.role) })))
}

/// Deletes the project's metadata: members lose access, keys stop working (here at once, at
/// other gateways through the revocation poll). Its logs become unreachable at once (every query
/// is scoped by project id) and are removed by retention.
pub async fn delete(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    for key in api.meta.list_api_keys(&project.id).await? {
        api.keys.forget(&key.prefix);
    }
    api.meta.delete_project(&project.id).await?;
    api.projects.forget(project);
    api.audit(&caller, "project.delete", Some(&project.id), &project.slug, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// What each role may do, from the table the API enforces.
pub async fn roles() -> Json<Value> {
    let roles: Vec<Value> = Role::ALL
        .iter()
        .map(|r| json!({ "role": r.as_str(), "permissions": Permission::ALL.iter().filter(|p| least_role(**p) <= *r).collect::<Vec<_>>() }))
        .collect();
    Json(json!({ "roles": roles }))
}
