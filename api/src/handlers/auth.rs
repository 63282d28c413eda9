//! Sign-in: login (throttled), refresh with rotation, logout, who am I, password change.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_metastore::{passwords, Session, User};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::Outcome;
use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

/// Shortest password accepted for a user account.
pub const MIN_PASSWORD_LEN: usize = 10;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// Runs Argon2 work (tens of milliseconds of CPU, ~19 MiB) on the blocking pool under one of
/// the process's permits ([`crate::AuthSettings::max_password_checks`]), so a flood of sign-ins
/// neither fills the blocking pool nor the memory. Waits at most `password_check_wait` for a
/// permit; then [`ApiError::Overloaded`] (503 with `Retry-After`).
async fn argon2<T: Send + 'static>(api: &Api, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    let wait = api.auth.password_check_wait;
    // `timeout` polls the acquisition once before looking at the clock: a free permit is taken
    // even with a zero wait.
    let Ok(Ok(permit)) = tokio::time::timeout(wait, api.password_checks.acquire()).await else {
        return Err(ApiError::Overloaded { retry_after_secs: wait.as_secs().max(1) });
    };
    let out = tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::Internal(format!("password check task: {e}")));
    drop(permit);
    out
}

/// Whether `password` matches the Argon2 `hash`.
///
/// # Errors
/// [`ApiError::Overloaded`] when no password-check permit frees up in time.
pub(crate) async fn password_matches(api: &Api, password: &str, hash: &str) -> Result<bool, ApiError> {
    let (p, h) = (password.to_owned(), hash.to_owned());
    argon2(api, move || passwords::verify(&p, &h)).await
}

pub(crate) async fn hash_password(api: &Api, password: &str) -> Result<String, ApiError> {
    let p = password.to_owned();
    argon2(api, move || passwords::hash(&p)).await?.map_err(ApiError::from)
}

pub(crate) fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::BadRequest(format!("the password must be at least {MIN_PASSWORD_LEN} characters long")));
    }
    Ok(())
}

/// A hash to verify against when the account does not exist, so a login's timing does not
/// tell whether an e-mail address has an account.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| passwords::hash("decoy password, never matches").unwrap_or_default())
}

/// Failed sign-ins are counted per (account, client address) — the lockout a user meets, so
/// a third party guessing at `admin@localhost` locks out only itself — and per client address
/// across accounts (one client spraying many accounts).
pub(crate) fn failure_keys(email: &str, ip: &str) -> (String, String) {
    (format!("auth:fail:account:{}:{ip}", nexuslog_metastore::keys::hash(email)), format!("auth:fail:ip:{ip}"))
}

/// Takes one attempt from both budgets *before* any password is verified: the counters are
/// incremented first (an atomic increment in the shared state store, so it holds across API
/// replicas and parallel requests), and an attempt over either limit is refused unverified.
/// N guesses in parallel therefore get at most `max_failed_logins` verifications.
///
/// # Errors
/// [`ApiError::TooManyAttempts`] over a limit; the state store's error when it is down.
pub(crate) async fn take_attempt(api: &Api, by_account: &str, by_ip: &str) -> Result<(), ApiError> {
    let window = Some(api.auth.lockout);
    let account = api.state.incr(by_account, 1, window).await?;
    let ip = api.state.incr(by_ip, 1, window).await?;
    if account > i64::from(api.auth.max_failed_logins) || ip > i64::from(api.auth.max_failed_logins_per_ip) {
        return Err(ApiError::TooManyAttempts { retry_after_secs: api.auth.lockout.as_secs() });
    }
    Ok(())
}

/// Gives back an attempt taken by [`take_attempt`] that was not a failure (success, or no
/// password check ran).
pub(crate) async fn give_back_attempt(api: &Api, by_account: &str, by_ip: &str) -> Result<(), ApiError> {
    // With the window as expiry: should the counter have expired meanwhile, the one this
    // recreates expires too, rather than staying forever.
    let window = Some(api.auth.lockout);
    api.state.incr(by_account, -1, window).await?;
    api.state.incr(by_ip, -1, window).await?;
    Ok(())
}

/// New session for a user: its refresh token and an access token.
async fn open_session(api: &Api, user: &User) -> Result<Value, ApiError> {
    let secret = nexuslog_metastore::keys::generate().secret;
    let now = nexuslog_metastore::now();
    let session = Session {
        id: nexuslog_metastore::new_id(),
        user_id: user.id.clone(),
        refresh_hash: nexuslog_metastore::keys::hash(&secret),
        created_at: now,
        expires_at: now + micros(api.auth.session_ttl),
        revoked_at: None,
        previous_refresh_hash: None,
        rotated_at: None,
    };
    api.meta.create_session(&session).await?;
    tokens_json(api, user, &session.id, &secret)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn tokens_json(api: &Api, user: &User, session_id: &str, secret: &str) -> Result<Value, ApiError> {
    let access = api.tokens.issue(&user.id, session_id, &user.email, user.is_admin).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": api.tokens.ttl().as_secs(),
        "refresh_token": format!("{session_id}.{secret}"),
        "user": super::user_json(user),
    }))
}

pub async fn login(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, JsonBody(body): JsonBody<LoginBody>) -> Result<Json<Value>, ApiError> {
    let email = body.email.trim().to_lowercase();
    let (by_account, by_ip) = failure_keys(&email, &caller.ip);
    if let Err(e) = take_attempt(&api, &by_account, &by_ip).await {
        if matches!(e, ApiError::TooManyAttempts { .. }) {
            metrics::counter!("nexuslog_auth_logins_total", "outcome" => "locked_out").increment(1);
            api.audit_anonymous(&caller, &email, "auth.login", Outcome::Failure, json!({ "reason": "locked out" })).await;
        }
        return Err(e);
    }
    let user = api.meta.user_by_email(&email).await?;
    let hash = user.as_ref().map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let matches = match password_matches(&api, &body.password, &hash).await {
        Ok(m) => m,
        Err(e) => {
            // Nothing was verified: the attempt does not count.
            give_back_attempt(&api, &by_account, &by_ip).await?;
            metrics::counter!("nexuslog_auth_logins_total", "outcome" => "overloaded").increment(1);
            return Err(e);
        }
    };
    let user = match user {
        Some(u) if matches => u,
        _ => {
            metrics::counter!("nexuslog_auth_logins_total", "outcome" => "bad_credentials").increment(1);
            api.audit_anonymous(&caller, &email, "auth.login", Outcome::Failure, json!({ "reason": "bad credentials" })).await;
            return Err(ApiError::Unauthenticated("invalid e-mail or password".into()));
        }
    };
    // The right password: this client's failures on this account are forgiven, and the
    // attempt does not count against the address.
    api.state.delete(&by_account).await?;
    api.state.incr(&by_ip, -1, Some(api.auth.lockout)).await?;
    if user.disabled_at.is_some() {
        api.audit_anonymous(&caller, &email, "auth.login", Outcome::Failure, json!({ "reason": "account disabled" })).await;
        return Err(ApiError::Forbidden("this account is disabled".into()));
    }
    let answer = open_session(&api, &user).await?;
    metrics::counter!("nexuslog_auth_logins_total", "outcome" => "success").increment(1);
    api.audit_as(&caller, &format!("user:{}", user.id), &user.email, "auth.login", None, &user.id, Outcome::Success, json!({})).await;
    Ok(Json(answer))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

/// Rotates the refresh token: each one works once. The next token is derived from the presented
/// one ([`crate::tokens::Tokens::next_refresh_secret`]), so a refresh that loses the race to
/// another refresh with the same token (two browser tabs) is answered, within
/// `auth.refresh_grace`, with the same new token the winner got. Any other reuse — the replaced
/// token after the window, or one older still — was copied: the session ends for both holders.
pub async fn refresh(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, JsonBody(body): JsonBody<RefreshBody>) -> Result<Json<Value>, ApiError> {
    let invalid = || ApiError::Unauthenticated("invalid or expired refresh token; sign in again".into());
    let (session_id, secret) = body.refresh_token.split_once('.').ok_or_else(invalid)?;
    let mut session = api.meta.session_by_id(session_id).await?.ok_or_else(invalid)?;
    let now = nexuslog_metastore::now();
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(invalid());
    }
    let presented = nexuslog_metastore::keys::hash(secret);
    let next = api.tokens.next_refresh_secret(session_id, secret);
    let next_hash = nexuslog_metastore::keys::hash(&next);
    if presented == session.refresh_hash {
        if api.meta.rotate_session(session_id, &presented, &next_hash, now + micros(api.auth.session_ttl), now).await? {
            return refreshed(&api, &session.user_id, session_id, &next).await;
        }
        // Another refresh with this token rotated it a moment ago: see what it left.
        session = api.meta.session_by_id(session_id).await?.ok_or_else(invalid)?;
    }
    let within_grace = session.previous_refresh_hash.as_deref() == Some(presented.as_str())
        && session.refresh_hash == next_hash
        && session.rotated_at.is_some_and(|at| now.saturating_sub(at) <= micros(api.auth.refresh_grace))
        && session.revoked_at.is_none();
    if within_grace {
        return refreshed(&api, &session.user_id, session_id, &next).await;
    }
    // A refresh token used again outside the grace window was copied: end the session for both holders.
    api.meta.revoke_session(session_id, now).await?;
    api.sessions.forget(session_id);
    let actor = format!("user:{}", session.user_id);
    api.audit_as(&caller, &actor, "", "auth.refresh_reuse", None, session_id, Outcome::Failure, json!({ "session": session_id })).await;
    Err(invalid())
}

/// The answer to a successful refresh: a new access token and the session's current refresh token.
async fn refreshed(api: &Api, user_id: &str, session_id: &str, refresh_secret: &str) -> Result<Json<Value>, ApiError> {
    let invalid = || ApiError::Unauthenticated("invalid or expired refresh token; sign in again".into());
    let user = api.meta.user_by_id(user_id).await?.filter(|u| u.disabled_at.is_none()).ok_or_else(invalid)?;
    Ok(Json(tokens_json(api, &user, session_id, refresh_secret)?))
}

pub async fn logout(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<StatusCode, ApiError> {
    let (user_id, _, _, session_id) = caller.user()?;
    api.meta.revoke_session(session_id, nexuslog_metastore::now()).await?;
    api.sessions.forget(session_id);
    api.audit(&caller, "auth.logout", None, user_id, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let (user_id, ..) = caller.user()?;
    let user = api.meta.user_by_id(user_id).await?.ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))?;
    let projects: Vec<Value> =
        api.meta.memberships_of(user_id).await?.iter().map(|(p, r)| json!({ "slug": p.slug, "name": p.name, "role": r.as_str() })).collect();
    Ok(Json(json!({ "user": super::user_json(&user), "projects": projects })))
}

/// The caller's live sessions (devices signed in), the current one marked.
pub async fn sessions(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let (user_id, _, _, current) = caller.user()?;
    let sessions: Vec<Value> = api
        .meta
        .live_sessions(user_id, nexuslog_metastore::now())
        .await?
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created_at": nexuslog_logstore::rfc3339_micros(s.created_at),
                "expires_at": nexuslog_logstore::rfc3339_micros(s.expires_at),
                "current": s.id == current,
            })
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

/// Ends one of the caller's own sessions (a lost laptop), at once in every replica.
pub async fn end_session(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let (user_id, ..) = caller.user()?;
    let owned = api.meta.session_by_id(&id).await?.is_some_and(|s| s.user_id == user_id);
    if !owned || !api.meta.revoke_session(&id, nexuslog_metastore::now()).await? {
        return Err(ApiError::NotFound("no such live session".into()));
    }
    api.sessions.forget(&id);
    api.audit(&caller, "auth.session_end", None, &id, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let (user_id, _, _, session_id) = caller.user()?;
    let mut user = api.meta.user_by_id(user_id).await?.ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))?;
    if !password_matches(&api, &body.current_password, &user.password_hash).await? {
        api.audit_outcome(&caller, "auth.password_change", None, user_id, Outcome::Failure, json!({ "reason": "wrong current password" })).await;
        return Err(ApiError::Forbidden("the current password is wrong".into()));
    }
    check_password_strength(&body.new_password)?;
    user.password_hash = hash_password(&api, &body.new_password).await?;
    api.meta.update_user(&user).await?;
    // Other sessions may be an attacker's: they end; this one goes on.
    let ended = api.meta.revoke_user_sessions(user_id, Some(session_id), nexuslog_metastore::now()).await?;
    api.sessions.forget_user(user_id);
    api.audit(&caller, "auth.password_change", None, user_id, json!({ "other_sessions_ended": ended })).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes every session of a user (disabled, or admin flag changed), here and, through the
/// revocation poll, in every replica.
pub(crate) async fn end_sessions(api: &Api, user_id: &str) -> Result<u64, ApiError> {
    let ended = api.meta.revoke_user_sessions(user_id, None, nexuslog_metastore::now()).await?;
    api.sessions.forget_user(user_id);
    Ok(ended)
}
