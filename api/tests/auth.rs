//! Sign-in, sessions, keys, members and the audit trail, through the real router.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{harness, user, Harness, PASSWORD};
use nexuslog_metastore::Role;
use serde_json::{json, Value};

async fn h() -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    (harness(store).await, dir)
}

async fn actions(h: &Harness) -> Vec<(String, String)> {
    h.meta.list_audit(None, None, 1000).await.unwrap().into_iter().map(|e| (e.action, e.outcome)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_lock_the_account_out_with_retry_after() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    for _ in 0..5 {
        let (s, _) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "ann@example.com", "password": "wrong password" }))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused until the lockout passes.
    let (s, body) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "ANN@example.com", "password": PASSWORD }))).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let failures = actions(&h).await.iter().filter(|(a, o)| a == "auth.login" && o == "failure").count();
    assert_eq!(failures, 6, "every failed attempt is audited");
    // Unknown accounts answer exactly like wrong passwords.
    let (s, body) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "nobody@example.com", "password": "x" }))).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid e-mail or password")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_reuse_ends_the_session_and_logout_revokes() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let (access, refresh) = h.login("ann@example.com").await;
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&access), None).await.0, StatusCode::OK);

    let (s, next) = h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh }))).await;
    assert_eq!(s, StatusCode::OK, "{next}");
    let (access2, refresh2) = (next["access_token"].as_str().unwrap().to_owned(), next["refresh_token"].as_str().unwrap().to_owned());
    assert_ne!(refresh2, refresh, "refresh tokens rotate");
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&access2), None).await.0, StatusCode::OK);

    // One more rotation, then the first refresh token again (outside any grace: the token it
    // was replaced by was itself replaced): someone copied it. The whole session ends.
    let (s, third) = h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh2 }))).await;
    assert_eq!(s, StatusCode::OK, "{third}");
    let refresh2 = third["refresh_token"].as_str().unwrap().to_owned();
    let access2 = third["access_token"].as_str().unwrap().to_owned();
    let (s, _) = h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh }))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&access2), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh2 }))).await.0, StatusCode::UNAUTHORIZED);

    // Logout: the access token stops working at once, though it has not expired.
    let (access3, refresh3) = h.login("ann@example.com").await;
    assert_eq!(h.call(Method::POST, "/v1/auth/logout", Some(&access3), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&access3), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh3 }))).await.0, StatusCode::UNAUTHORIZED);
    assert!(actions(&h).await.contains(&("auth.refresh_reuse".into(), "failure".into())));

    // Sessions: listed with the current one marked; ending another one logs that device out.
    let (laptop, _) = h.login("ann@example.com").await;
    let (phone, _) = h.login("ann@example.com").await;
    let (s, list) = h.call(Method::GET, "/v1/auth/sessions", Some(&laptop), None).await;
    assert_eq!(s, StatusCode::OK);
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "only live sessions: {list}");
    let other = sessions.iter().find(|s| s["current"] == json!(false)).unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(h.call(Method::DELETE, &format!("/v1/auth/sessions/{other}"), Some(&laptop), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&phone), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&laptop), None).await.0, StatusCode::OK);
    // Someone else's session is not yours to end.
    user(h.meta.as_ref(), "bob@example.com", false).await;
    let (bob, _) = h.login("bob@example.com").await;
    let mine = h.call(Method::GET, "/v1/auth/sessions", Some(&laptop), None).await.1["sessions"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(h.call(Method::DELETE, &format!("/v1/auth/sessions/{mine}"), Some(&bob), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&laptop), None).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_ends_other_sessions_and_disabling_ends_all() {
    let (h, _d) = h().await;
    let ann = user(h.meta.as_ref(), "ann@example.com", false).await;
    user(h.meta.as_ref(), "root@example.com", true).await;
    let (root, _) = h.login("root@example.com").await;
    let (here, _) = h.login("ann@example.com").await;
    let (elsewhere, _) = h.login("ann@example.com").await;
    let change = json!({ "current_password": "not it", "new_password": "a brand new password" });
    assert_eq!(h.call(Method::POST, "/v1/auth/password", Some(&here), Some(change)).await.0, StatusCode::FORBIDDEN);
    let change = json!({ "current_password": PASSWORD, "new_password": "short" });
    assert_eq!(h.call(Method::POST, "/v1/auth/password", Some(&here), Some(change)).await.0, StatusCode::BAD_REQUEST);
    let change = json!({ "current_password": PASSWORD, "new_password": "a brand new password" });
    assert_eq!(h.call(Method::POST, "/v1/auth/password", Some(&here), Some(change)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&here), None).await.0, StatusCode::OK, "this session goes on");
    let (s, _) = h.call(Method::GET, "/v1/auth/me", Some(&elsewhere), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the other session ended");
    let (s, _) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "ann@example.com", "password": PASSWORD }))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the old password is gone");

    let (s, body) = h.call(Method::PATCH, &format!("/v1/users/{}", ann.id), Some(&root), Some(json!({ "disabled": true }))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(&here), None).await.0, StatusCode::UNAUTHORIZED, "disabling ends every session");
    let (s, _) = h.call(Method::POST, "/v1/auth/login", None, Some(json!({ "email": "ann@example.com", "password": "a brand new password" }))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The last instance admin cannot demote themselves out of existence.
    let me: Value = h.call(Method::GET, "/v1/auth/me", Some(&root), None).await.1;
    let root_id = me["user"]["id"].as_str().unwrap();
    let (s, _) = h.call(Method::PATCH, &format!("/v1/users/{root_id}"), Some(&root), Some(json!({ "is_admin": false }))).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_shown_once_work_and_stop_when_revoked_and_everything_is_audited() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "owner@example.com", false).await;
    let (owner, _) = h.login("owner@example.com").await;
    let (s, body) = h.call(Method::POST, "/v1/projects", Some(&owner), Some(json!({ "slug": "shop", "name": "Shop" }))).await;
    assert_eq!((s, body["project"]["role"].as_str()), (StatusCode::CREATED, Some("owner")), "{body}");

    let (s, created) = h.call(Method::POST, "/v1/projects/shop/api-keys", Some(&owner), Some(json!({ "name": "reader", "source": "grafana", "scopes": ["read"] }))).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["key"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, listed) = h.call(Method::GET, "/v1/projects/shop/api-keys", Some(&owner), None).await;
    assert!(!listed.to_string().contains(&secret), "the secret is shown only at creation");
    assert_eq!(listed["api_keys"][0]["prefix"].as_str(), Some(&secret[..12]));

    assert_eq!(h.call(Method::GET, "/v1/search", Some(&secret), None).await.0, StatusCode::OK);
    // Expiring keys: listed with their expiry; past it, refused.
    let (s, expiring) = h.call(Method::POST, "/v1/projects/shop/api-keys", Some(&owner), Some(json!({ "name": "temp", "expires_in_days": 30 }))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(expiring["expires_at"].as_str().is_some(), "{expiring}");
    let project_id = h.meta.project_by_slug("shop").await.unwrap().unwrap().id;
    let (mut row, stale) = Harness::key_row(&project_id, "read");
    row.expires_at = Some(nexuslog_metastore::now() - 1);
    h.meta.create_api_key(&row).await.unwrap();
    let (s, body) = h.call(Method::GET, "/v1/search", Some(&stale), None).await;
    assert_eq!((s, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("API key expired")));
    let (s, body) = h.call(Method::GET, "/v1/search?form=now-1h", Some(&secret), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a misspelt parameter is refused, not ignored");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("form")), "{body}");
    assert_eq!(h.call(Method::GET, "/v1/projects/shop/api-keys", Some(&secret), None).await.0, StatusCode::FORBIDDEN, "a read key manages nothing");
    assert_eq!(h.call(Method::DELETE, &format!("/v1/projects/shop/api-keys/{id}"), Some(&owner), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(h.call(Method::GET, "/v1/search", Some(&secret), None).await.0, StatusCode::UNAUTHORIZED, "revoked in this process at once");

    // Roles: an admin cannot make owners; the last owner cannot step down.
    let adm = user(h.meta.as_ref(), "adm@example.com", false).await;
    let project = h.meta.project_by_slug("shop").await.unwrap().unwrap();
    h.meta.set_member(&project.id, &adm.id, Role::Admin).await.unwrap();
    let (adm_token, _) = h.login("adm@example.com").await;
    let (s, _) = h.call(Method::PUT, &format!("/v1/projects/shop/members/{}", adm.id), Some(&adm_token), Some(json!({ "role": "owner" }))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let me = h.call(Method::GET, "/v1/auth/me", Some(&owner), None).await.1;
    let owner_id = me["user"]["id"].as_str().unwrap().to_owned();
    let (s, _) = h.call(Method::PUT, &format!("/v1/projects/shop/members/{owner_id}"), Some(&owner), Some(json!({ "role": "viewer" }))).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Invitation (no mail server: the token is shown to the inviter): accepted once, by the
    // invitee signed in, who then has the role.
    let (s, inv) = h.call(Method::POST, "/v1/projects/shop/invitations", Some(&adm_token), Some(json!({ "email": "New@Example.com", "role": "editor" }))).await;
    assert_eq!(s, StatusCode::CREATED, "{inv}");
    assert_eq!(inv["delivered"], json!("inviter"));
    user(h.meta.as_ref(), "new@example.com", false).await;
    let (invitee, _) = h.login("new@example.com").await;
    let accept = json!({ "token": inv["token"] });
    assert_eq!(h.call(Method::POST, "/v1/invitations/accept", Some(&invitee), Some(accept.clone())).await.0, StatusCode::OK);
    assert_eq!(h.call(Method::POST, "/v1/invitations/accept", Some(&invitee), Some(accept)).await.0, StatusCode::NOT_FOUND, "used once");
    let me = h.call(Method::GET, "/v1/auth/me", Some(&invitee), None).await.1;
    assert_eq!(me["projects"][0]["role"].as_str(), Some("editor"));

    let (s, audit) = h.call(Method::GET, "/v1/projects/shop/audit", Some(&owner), None).await;
    assert_eq!(s, StatusCode::OK);
    let seen: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["project.create", "api_key.create", "api_key.revoke", "invitation.create", "invitation.accept"] {
        assert!(seen.contains(&action), "{action} missing from {seen:?}");
    }
    assert!(!audit.to_string().contains(&secret), "no secret in the audit log");
}

/// Wrong-password logins for `email` sent all at once from `ip`; the statuses, in any order.
async fn parallel_logins(h: &Arc<Harness>, n: usize, email: &str, ip: &str) -> Vec<StatusCode> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (h, email, ip) = (h.clone(), email.to_owned(), ip.to_owned());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "email": email, "password": format!("wrong password {i}") });
            h.call_from(Some(&ip), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_no_more_verifications_than_the_lockout_allows() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let h = Arc::new(h);
    // Every guess is in flight before any verification ends: the count is taken before the
    // Argon2 check, atomically, so only the allowed attempts are verified (401); the rest are
    // refused unverified (429).
    let statuses = parallel_logins(&h, 20, "ann@example.com", "198.51.100.7").await;
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 5, "verified guesses: {statuses:?}");
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 15, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_holds_one_client_and_not_the_account_for_everyone() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "admin@localhost", true).await;
    let login = |ip: &'static str, password: &'static str| {
        let h = &h;
        async move { h.call_from(Some(ip), Method::POST, "/v1/auth/login", None, Some(json!({ "email": "admin@localhost", "password": password }))).await }
    };
    // A third party guesses until it is locked out...
    for _ in 0..5 {
        assert_eq!(login("203.0.113.66", "guess guess").await.0 .0, StatusCode::UNAUTHORIZED);
    }
    let ((s, _), retry_after) = login("203.0.113.66", PASSWORD).await;
    assert_eq!((s, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("900")));
    // ...which does not lock the administrator out from their own address.
    let ((s, body), _) = login("192.0.2.10", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_guessing_across_accounts_is_limited_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let h = common::harness_with(store, nexuslog_api::AuthSettings { max_failed_logins_per_ip: 3, ..Default::default() }).await;
    for i in 0..3 {
        let body = json!({ "email": format!("user{i}@example.com"), "password": "guess guess" });
        assert_eq!(h.call_from(Some("203.0.113.9"), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0, StatusCode::UNAUTHORIZED);
    }
    let body = json!({ "email": "user9@example.com", "password": "guess guess" });
    assert_eq!(h.call_from(Some("203.0.113.9"), Method::POST, "/v1/auth/login", None, Some(body.clone())).await.0 .0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(h.call_from(Some("203.0.113.10"), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_are_bounded_and_the_excess_is_shed_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let auth = nexuslog_api::AuthSettings { max_password_checks: 1, password_check_wait: std::time::Duration::ZERO, ..Default::default() };
    let h = Arc::new(common::harness_with(store, auth).await);
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({ "email": format!("guess{i}@example.com"), "password": "guess guess" });
            h.call_from(Some("198.51.100.20"), Method::POST, "/v1/auth/login", None, Some(body)).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let shed: Vec<_> = answers.iter().filter(|((s, _), _)| *s == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!shed.is_empty(), "one permit, eight sign-ins at once: some are shed");
    assert!(shed.iter().all(|(_, retry_after)| retry_after.as_deref() == Some("1")), "{shed:?}");
    assert!(answers.iter().any(|((s, _), _)| *s == StatusCode::UNAUTHORIZED), "the admitted ones are verified");
    // Shed attempts were never verified, so they do not count towards a lockout.
    for _ in 0..4 {
        let body = json!({ "email": "ann@example.com", "password": "wrong password" });
        assert_eq!(h.call_from(Some("198.51.100.20"), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0, StatusCode::UNAUTHORIZED);
    }
    let body = json!({ "email": "ann@example.com", "password": PASSWORD });
    assert_eq!(h.call_from(Some("198.51.100.20"), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tabs_refreshing_at_once_keep_the_session() {
    let (h, _d) = h().await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let h = Arc::new(h);
    let (_, refresh) = h.login("ann@example.com").await;
    // Two tabs (and a third, for good measure) refresh with the same token at the same moment.
    let mut tabs = Vec::new();
    for _ in 0..3 {
        let (h, refresh) = (h.clone(), refresh.clone());
        tabs.push(tokio::spawn(async move { h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh }))).await }));
    }
    let mut answers = Vec::new();
    for t in tabs {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK), "{answers:?}");
    let next: Vec<&str> = answers.iter().map(|(_, b)| b["refresh_token"].as_str().unwrap()).collect();
    assert!(next.iter().all(|t| *t == next[0] && *t != refresh), "every tab gets the same new refresh token: {next:?}");
    for (_, body) in &answers {
        assert_eq!(h.call(Method::GET, "/v1/auth/me", Some(body["access_token"].as_str().unwrap()), None).await.0, StatusCode::OK);
    }
    // The session goes on: the new token refreshes, and nothing was taken for a replay.
    let (s, body) = h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": next[0] }))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(!actions(&h).await.iter().any(|(a, _)| a == "auth.refresh_reuse"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_refresh_token_after_the_grace_window_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let h = common::harness_with(store, nexuslog_api::AuthSettings { refresh_grace: std::time::Duration::ZERO, ..Default::default() }).await;
    user(h.meta.as_ref(), "ann@example.com", false).await;
    let (_, refresh) = h.login("ann@example.com").await;
    let (s, next) = h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh }))).await;
    assert_eq!(s, StatusCode::OK);
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_eq!(h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": refresh }))).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.call(Method::POST, "/v1/auth/refresh", None, Some(json!({ "refresh_token": next["refresh_token"] }))).await.0, StatusCode::UNAUTHORIZED, "the session ended");
    assert!(actions(&h).await.contains(&("auth.refresh_reuse".into(), "failure".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_across_api_replicas_share_one_budget_in_redis() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let redis = nexuslog_state::RedisState::connect(&nexuslog_common::testing::service_env("REDIS_URL")).await.expect("redis reachable");
    let (replicas, _meta_dir) = common::replicas(store, Arc::new(redis), 2).await;
    // Fresh names: the counters live in a Redis that outlives this test.
    let email = format!("{}@example.com", nexuslog_common::testing::unique_name("guessed"));
    let h = nexuslog_metastore::keys::hash(&email);
    let octet = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
    let ip = format!("10.{}.{}.{}", octet(0), octet(2), octet(4));
    user(replicas[0].meta.as_ref(), &email, false).await;
    let replicas: Vec<Arc<Harness>> = replicas.into_iter().map(Arc::new).collect();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (h, email, ip) = (replicas[i % 2].clone(), email.clone(), ip.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({ "email": email, "password": format!("wrong password {i}") });
            h.call_from(Some(&ip), Method::POST, "/v1/auth/login", None, Some(body)).await.0 .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(count(&statuses, StatusCode::UNAUTHORIZED), 5, "verified guesses over two replicas: {statuses:?}");
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 15, "{statuses:?}");
}
