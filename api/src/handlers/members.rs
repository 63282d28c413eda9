//! Project membership: list, set a role, remove, invite by e-mail, accept an invitation.
//!
//! Owners are protected: only an owner (or an instance admin) grants, changes or removes the
//! owner role, and the last owner cannot be removed or demoted, so a project is never orphaned.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::{Invitation, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::password_matches;
use super::users::{create_account, normalize_email};
use crate::audit::Outcome;
use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

pub async fn list(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let members = api.meta.list_members(&caller.project()?.id).await?;
    let members: Vec<Value> = members
        .iter()
        .map(|(u, r)| json!({ "user_id": u.id, "email": u.email, "name": u.name, "role": r.as_str(), "disabled": u.disabled_at.is_some() }))
        .collect();
    Ok(Json(json!({ "members": members })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

fn parse_role(s: &str) -> Result<Role, ApiError> {
    s.parse().map_err(ApiError::BadRequest)
}

/// Refuses owner changes by non-owners and anything that leaves the project without an owner.
async fn guard_owner_change(api: &Api, caller: &Caller, project_id: &str, current: Option<Role>, next: Option<Role>) -> Result<(), ApiError> {
    let touches_owner = current == Some(Role::Owner) || next == Some(Role::Owner);
    if touches_owner && caller.role != Some(Role::Owner) && !caller.is_instance_admin() {
        return Err(ApiError::Forbidden("only an owner can grant, change or remove the owner role".into()));
    }
    if current == Some(Role::Owner) && next != Some(Role::Owner) {
        let owners = api.meta.list_members(project_id).await?.iter().filter(|(_, r)| *r == Role::Owner).count();
        if owners <= 1 {
            return Err(ApiError::Conflict("the project's last owner cannot be removed or demoted; make someone else owner first".into()));
        }
    }
    Ok(())
}

pub async fn set_role(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let role = parse_role(&body.role)?;
    let user = api.meta.user_by_id(&user_id).await?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    let current = api.meta.member_role(&project.id, &user.id).await?;
    guard_owner_change(&api, &caller, &project.id, current, Some(role)).await?;
    api.meta.set_member(&project.id, &user.id, role).await?;
    let action = if current.is_some() { "member.role_change" } else { "member.add" };
    api.audit(&caller, action, Some(&project.id), &user.id, json!({ "email": user.email, "from": current.map(Role::as_str), "to": role.as_str() })).await;
    Ok(Json(json!({ "user_id": user.id, "email": user.email, "role": role.as_str() })))
}

pub async fn remove(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    let current = api.meta.member_role(&project.id, &user_id).await?.ok_or_else(|| ApiError::NotFound("not a member".into()))?;
    guard_owner_change(&api, &caller, &project.id, Some(current), None).await?;
    api.meta.remove_member(&project.id, &user_id).await?;
    api.audit(&caller, "member.remove", Some(&project.id), &user_id, json!({ "role": current.as_str() })).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    role: String,
}

pub async fn invite(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<InviteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let role = parse_role(&body.role)?;
    guard_owner_change(&api, &caller, &project.id, None, Some(role)).await?;
    let email = normalize_email(&body.email)?;
    let token = nexuslog_metastore::keys::generate().secret;
    let now = nexuslog_metastore::now();
    let ttl: Duration = api.auth.invitation_ttl;
    let invitation = Invitation {
        id: nexuslog_metastore::new_id(),
        token_hash: nexuslog_metastore::keys::hash(&token),
        email: email.clone(),
        project_id: project.id.clone(),
        role,
        invited_by: caller.principal.as_ref().map(|p| p.actor().0).unwrap_or_default(),
        created_at: now,
        expires_at: now + i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX),
        accepted_at: None,
    };
    api.meta.create_invitation(&invitation).await?;
    api.audit(&caller, "invitation.create", Some(&project.id), &email, json!({ "role": role.as_str(), "invitation": invitation.id })).await;
    // The token is returned once, to be sent to the invitee (no mail provider is configured here).
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": invitation.id, "email": email, "role": role.as_str(), "token": token, "expires_in": ttl.as_secs() })),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
    /// The new account's password, or the existing account's (to prove it is theirs).
    password: String,
    #[serde(default)]
    name: String,
}

pub async fn accept(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<AcceptBody>,
) -> Result<Json<Value>, ApiError> {
    let invalid = || ApiError::NotFound("invalid, used or expired invitation".into());
    let inv = api.meta.invitation_by_token_hash(&nexuslog_metastore::keys::hash(&body.token)).await?.ok_or_else(invalid)?;
    if inv.accepted_at.is_some() || inv.expires_at <= nexuslog_metastore::now() {
        return Err(invalid());
    }
    let user = match api.meta.user_by_email(&inv.email).await? {
        Some(existing) => {
            if !password_matches(&api, &body.password, &existing.password_hash).await? {
                api.audit_anonymous(&caller, &inv.email, "invitation.accept", Outcome::Failure, json!({ "reason": "wrong password" })).await;
                return Err(ApiError::Forbidden("an account with this e-mail exists: give its password".into()));
            }
            existing
        }
        None => create_account(&api, &inv.email, &body.name, &body.password, false).await?,
    };
    if !api.meta.accept_invitation(&inv.id, nexuslog_metastore::now()).await? {
        return Err(invalid());
    }
    api.meta.set_member(&inv.project_id, &user.id, inv.role).await?;
    let actor = format!("user:{}", user.id);
    api.audit_as(&caller, &actor, &user.email, "invitation.accept", Some(&inv.project_id), &user.id, Outcome::Success, json!({ "role": inv.role.as_str() }))
        .await;
    let project = api.meta.project_by_id(&inv.project_id).await?.ok_or_else(invalid)?;
    Ok(Json(json!({ "user": super::user_json(&user), "project": project.slug, "role": inv.role.as_str() })))
}
