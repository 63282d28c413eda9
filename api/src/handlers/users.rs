//! User accounts, managed by instance admins.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::User;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{check_password_strength, end_sessions, hash_password};
use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

pub async fn list(State(api): State<Arc<Api>>) -> Result<Json<Value>, ApiError> {
    let users = api.meta.list_users().await?;
    Ok(Json(json!({ "users": users.iter().map(super::user_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    #[serde(default)]
    name: String,
    /// Generated (and returned once) when absent.
    password: Option<String>,
    #[serde(default)]
    is_admin: bool,
}

pub(crate) fn normalize_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254 && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace));
    if valid {
        Ok(email)
    } else {
        Err(ApiError::BadRequest(format!("{email:?} is not an e-mail address")))
    }
}

/// Creates an account; shared with accepting an invitation.
pub(crate) async fn create_account(api: &Api, email: &str, name: &str, password: &str, is_admin: bool) -> Result<User, ApiError> {
    check_password_strength(password)?;
    let user = User {
        id: nexuslog_metastore::new_id(),
        email: normalize_email(email)?,
        name: name.trim().to_owned(),
        password_hash: hash_password(api, password).await?,
        is_admin,
        created_at: nexuslog_metastore::now(),
        disabled_at: None,
    };
    api.meta.create_user(&user).await.map_err(|e| match e {
        nexuslog_metastore::MetaStoreError::Conflict(_) => ApiError::Conflict(format!("a user with e-mail {} exists", user.email)),
        other => other.into(),
    })?;
    Ok(user)
}

pub async fn create(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let generated = body.password.is_none().then(nexuslog_metastore::passwords::generate);
    let password = body.password.as_deref().or(generated.as_deref()).unwrap_or_default();
    let user = create_account(&api, &body.email, &body.name, password, body.is_admin).await?;
    api.audit(&caller, "user.create", None, &user.id, json!({ "email": user.email, "is_admin": user.is_admin })).await;
    let mut answer = json!({ "user": super::user_json(&user) });
    if let Some(p) = generated {
        answer["password"] = json!(p);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    name: Option<String>,
    is_admin: Option<bool>,
    disabled: Option<bool>,
}

pub async fn update(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<Value>, ApiError> {
    let mut user = api.meta.user_by_id(&id).await?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    let was_active_admin = user.is_admin && user.disabled_at.is_none();
    if let Some(n) = change.name {
        user.name = n.trim().to_owned();
    }
    if let Some(a) = change.is_admin {
        user.is_admin = a;
    }
    if let Some(d) = change.disabled {
        user.disabled_at = match (d, user.disabled_at) {
            (true, None) => Some(nexuslog_metastore::now()),
            (true, at @ Some(_)) => at,
            (false, _) => None,
        };
    }
    let still_active_admin = user.is_admin && user.disabled_at.is_none();
    if was_active_admin && !still_active_admin {
        let others = api.meta.list_users().await?.iter().filter(|u| u.id != user.id && u.is_admin && u.disabled_at.is_none()).count();
        if others == 0 {
            return Err(ApiError::Conflict("this is the last active instance admin; make another admin first".into()));
        }
    }
    api.meta.update_user(&user).await?;
    // Access tokens carry the admin flag, and a disabled user must be out now: end their sessions.
    if was_active_admin != still_active_admin || user.disabled_at.is_some() {
        end_sessions(&api, &user.id).await?;
    }
    api.audit(&caller, "user.update", None, &user.id, json!({ "is_admin": user.is_admin, "disabled": user.disabled_at.is_some() })).await;
    Ok(Json(json!({ "user": super::user_json(&user) })))
}
