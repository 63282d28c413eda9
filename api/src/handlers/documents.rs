//! Saved searches and dashboards: documents of a project with an owner, private or shared.
//! The create/read/update/delete handlers are written once, generic over the document type
//! ([`Document`]); each type brings its own checks.
//!
//! Visibility: a member sees the project's shared documents and their own. Only the owner, a
//! project admin or owner, or an instance admin changes or deletes one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::{DocumentKind, ProjectDocument, Role};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

/// A kind of project document, as the API takes it.
pub(crate) trait Document: DeserializeOwned + Serialize + Send + 'static {
    const KIND: DocumentKind;
    /// How messages name it ("saved search").
    const NOUN: &'static str;
    fn name(&self) -> &str;
    fn shared(&self) -> bool;
    /// Checks the document; errors name the field.
    fn check(&self) -> Result<(), ApiError>;
    /// Fills in what the server assigns before saving (e.g. widget ids).
    fn normalize(self) -> Self {
        self
    }
}

pub(crate) fn actor(caller: &Caller) -> String {
    caller.principal.as_ref().map(crate::authz::Principal::actor).unwrap_or_default().0
}

fn visible(doc: &ProjectDocument, caller: &Caller) -> bool {
    doc.shared || doc.owner == actor(caller) || caller.is_instance_admin()
}

fn may_change(doc: &ProjectDocument, caller: &Caller) -> bool {
    doc.owner == actor(caller) || caller.is_instance_admin() || matches!(caller.role, Some(Role::Owner | Role::Admin))
}

pub(crate) fn document_json(doc: &ProjectDocument) -> Value {
    let mut v = serde_json::from_str::<Value>(&doc.definition).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(doc.id));
        m.insert("owner".into(), json!(doc.owner));
        m.insert("created_at".into(), json!(nexuslog_logstore::rfc3339_micros(doc.created_at)));
        m.insert("updated_at".into(), json!(nexuslog_logstore::rfc3339_micros(doc.updated_at)));
    }
    v
}

fn check_name<T: Document>(doc: &T) -> Result<(), ApiError> {
    let n = doc.name().trim();
    if n.is_empty() || n.chars().count() > 200 {
        return Err(ApiError::Invalid { field: "name".into(), message: "must be 1 to 200 characters".into() });
    }
    doc.check()
}

/// A document the caller may see, or 404.
pub(crate) async fn load<T: Document>(api: &Api, caller: &Caller, id: &str) -> Result<ProjectDocument, ApiError> {
    let project = caller.project()?;
    api.meta
        .document(&project.id, T::KIND, id)
        .await?
        .filter(|d| visible(d, caller))
        .ok_or_else(|| ApiError::NotFound(format!("no such {}", T::NOUN)))
}

pub(crate) async fn list<T: Document>(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let docs = api.meta.documents(&project.id, T::KIND).await?;
    let items: Vec<Value> = docs.iter().filter(|d| visible(d, &caller)).map(document_json).collect();
    Ok(Json(json!({ "items": items })))
}

/// Saves a new document for the caller; shared by create and import.
pub(crate) async fn insert<T: Document>(api: &Api, caller: &Caller, doc: T) -> Result<ProjectDocument, ApiError> {
    let doc = doc.normalize();
    check_name(&doc)?;
    let project = caller.project()?;
    let now = nexuslog_metastore::now();
    let row = ProjectDocument {
        id: nexuslog_metastore::new_id(),
        project_id: project.id.clone(),
        kind: T::KIND,
        owner: actor(caller),
        name: doc.name().trim().to_owned(),
        shared: doc.shared(),
        definition: serde_json::to_string(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
        created_at: now,
        updated_at: now,
    };
    api.meta.save_document(&row).await?;
    api.audit(caller, &format!("{}.create", T::KIND.as_str()), Some(&project.id), &row.id, json!({ "name": row.name })).await;
    Ok(row)
}

pub(crate) async fn create<T: Document>(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(doc): JsonBody<T>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = insert(&api, &caller, doc).await?;
    Ok((StatusCode::CREATED, Json(document_json(&row))))
}

pub(crate) async fn get<T: Document>(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    Ok(Json(document_json(&load::<T>(&api, &caller, &id).await?)))
}

pub(crate) async fn update<T: Document>(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    JsonBody(doc): JsonBody<T>,
) -> Result<Json<Value>, ApiError> {
    let existing = load::<T>(&api, &caller, &id).await?;
    if !may_change(&existing, &caller) {
        return Err(ApiError::Forbidden(format!("only its owner or a project admin changes this {}", T::NOUN)));
    }
    let doc = doc.normalize();
    check_name(&doc)?;
    let row = ProjectDocument {
        name: doc.name().trim().to_owned(),
        shared: doc.shared(),
        definition: serde_json::to_string(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
        updated_at: nexuslog_metastore::now(),
        ..existing
    };
    api.meta.save_document(&row).await?;
    api.audit(&caller, &format!("{}.update", T::KIND.as_str()), Some(&row.project_id), &row.id, json!({ "name": row.name })).await;
    Ok(Json(document_json(&row)))
}

pub(crate) async fn delete<T: Document>(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let existing = load::<T>(&api, &caller, &id).await?;
    if !may_change(&existing, &caller) {
        return Err(ApiError::Forbidden(format!("only its owner or a project admin deletes this {}", T::NOUN)));
    }
    api.meta.delete_document(&existing.project_id, T::KIND, &id).await?;
    api.audit(&caller, &format!("{}.delete", T::KIND.as_str()), Some(&existing.project_id), &id, json!({ "name": existing.name })).await;
    Ok(StatusCode::NO_CONTENT)
}
