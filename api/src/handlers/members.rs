//! Project membership: list, set a role, remove, invite by e-mail, accept an invitation.
//!
//! Owners are protected: only an owner (or an instance admin) grants, changes or removes the
//! owner role, and the last owner cannot be removed or demoted, so a project is never orphaned.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use nexuslog_metastore::{Invitation, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{failure_keys, give_back_attempt, take_attempt};
use super::users::{create_account, normalize_email};
use crate::audit::Outcome;
use crate::authz::{authenticate, Caller, Principal};
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

/// Invites an address to the project. With a mail server configured the token is e-mailed to
/// the invitee and never shown to the inviter: only the invitee can then accept it, and, for an
/// address without an account, choose the new account's password. Without one, the token is
/// returned for the inviter to pass on, and accepting it needs the invitee signed in (an
/// instance admin creates accounts), so an inviter can never set someone else's password.
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
    let (inviter, inviter_name) = caller.principal.as_ref().map(|p| p.actor()).unwrap_or_default();
    let emailed = api.sender.can_mail();
    if emailed {
        let subject = format!("You are invited to the NexusLog project {}", project.slug);
        let text = format!(
            "{inviter_name} invited you to the NexusLog project {} ({}) as {}.\n\n\
             Accept in the NexusLog console, or with POST /v1/invitations/accept and this body (the password is the one \
             your new account will have; if you already have an account, it is not changed):\n\n  \
             {{\"token\": \"{token}\", \"password\": \"...\", \"name\": \"...\"}}\n\n\
             The invitation expires in {} hours. If you did not expect it, ignore this mail.\n",
            project.slug,
            project.name,
            role.as_str(),
            ttl.as_secs() / 3600
        );
        api.sender.send_text_mail(&email, &subject, &text).await.map_err(|e| {
            tracing::warn!(error = %e.detail(), "invitation mail not sent");
            ApiError::Unavailable("the invitation e-mail could not be sent; retry later".into())
        })?;
    }
    let invitation = Invitation {
        id: nexuslog_metastore::new_id(),
        token_hash: nexuslog_metastore::keys::hash(&token),
        email: email.clone(),
        project_id: project.id.clone(),
        role,
        invited_by: inviter,
        created_at: now,
        expires_at: now + i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX),
        accepted_at: None,
        emailed,
    };
    api.meta.create_invitation(&invitation).await?;
    api.audit(&caller, "invitation.create", Some(&project.id), &email, json!({ "role": role.as_str(), "invitation": invitation.id, "emailed": emailed }))
        .await;
    let mut answer = json!({ "id": invitation.id, "email": email, "role": role.as_str(), "expires_in": ttl.as_secs() });
    if emailed {
        answer["delivered"] = json!("email");
    } else {
        // No mail server: the token is returned once, for the inviter to give to the invitee,
        // who accepts it signed in.
        answer["delivered"] = json!("inviter");
        answer["token"] = json!(token);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
    /// The new account's password, when the invitation was e-mailed and the address has no
    /// account yet; ignored otherwise (an existing account's password is never asked for here).
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    name: String,
}

/// Accepts an invitation, in one of two ways that never check a password, so this endpoint is
/// no password oracle and answers the same whether the address has an account:
/// - signed in (`Authorization: Bearer <access token>`) as the invited address: joins;
/// - anonymously, with a token that was e-mailed (so only the invitee holds it): joins the
///   address's account, or creates it with the given password.
///
/// Anonymous acceptance of a token the inviter was shown is refused the same way for every
/// address. Attempts are throttled like sign-in, counted per client before the token is looked up.
pub async fn accept(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AcceptBody>,
) -> Result<Json<Value>, ApiError> {
    let (by_client, by_ip) = failure_keys("invitation", &caller.ip);
    if let Err(e) = take_attempt(&api, &by_client, &by_ip).await {
        api.audit_anonymous(&caller, "", "invitation.accept", Outcome::Failure, json!({ "reason": "locked out" })).await;
        return Err(e);
    }
    let invalid = || ApiError::NotFound("invalid, used or expired invitation".into());
    let inv = api.meta.invitation_by_token_hash(&nexuslog_metastore::keys::hash(&body.token)).await?.ok_or_else(invalid)?;
    if inv.accepted_at.is_some() || inv.expires_at <= nexuslog_metastore::now() {
        return Err(invalid());
    }
    // A session proves who is accepting; an API key proves nothing about a person, so a key
    // (like no credential) gets the anonymous path.
    let presented = nexuslog_metastore::keys::presented(headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()), None);
    let user = if presented.is_empty() || presented.starts_with(nexuslog_metastore::keys::KEY_PREFIX) {
        if !inv.emailed {
            api.audit_anonymous(&caller, &inv.email, "invitation.accept", Outcome::Failure, json!({ "reason": "not signed in" })).await;
            return Err(ApiError::Unauthenticated("sign in as the invited e-mail address to accept this invitation".into()));
        }
        // The token reached only the invitee's mailbox: it proves the address.
        match api.meta.user_by_email(&inv.email).await? {
            Some(existing) => existing,
            None => create_account(&api, &inv.email, &body.name, body.password.as_deref().unwrap_or_default(), false).await?,
        }
    } else {
        let Principal::User { id, .. } = authenticate(&api, presented).await? else {
            return Err(ApiError::Unauthenticated("sign in as the invited e-mail address to accept this invitation".into()));
        };
        let user = api.meta.user_by_id(&id).await?.ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))?;
        if user.email != inv.email {
            api.audit_anonymous(&caller, &user.email, "invitation.accept", Outcome::Failure, json!({ "reason": "another address" })).await;
            return Err(ApiError::Forbidden("this invitation is for another e-mail address".into()));
        }
        user
    };
    if !api.meta.accept_invitation(&inv.id, nexuslog_metastore::now()).await? {
        return Err(invalid());
    }
    give_back_attempt(&api, &by_client, &by_ip).await?;
    api.meta.set_member(&inv.project_id, &user.id, inv.role).await?;
    let actor = format!("user:{}", user.id);
    api.audit_as(&caller, &actor, &user.email, "invitation.accept", Some(&inv.project_id), &user.id, Outcome::Success, json!({ "role": inv.role.as_str() }))
        .await;
    let project = api.meta.project_by_id(&inv.project_id).await?.ok_or_else(invalid)?;
    Ok(Json(json!({ "user": super::user_json(&user), "project": project.slug, "role": inv.role.as_str() })))
}
