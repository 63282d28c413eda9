//! Access control end to end, on running processes: a key revoked through the API is refused
//! by a separately running gateway within seconds; ingest lands only in the key's project.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::{Duration, Instant};

use nexuslog_common::testing::{unique_name, wait_until};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "admin password for tests";

async fn call(method: reqwest::Method, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn admin_token(api: &str) -> String {
    support::login(api, "admin@localhost", ADMIN_PASSWORD).await
}

async fn ingest(gateway: &str, key: &str, body: &str) -> u16 {
    reqwest::Client::new().post(format!("{gateway}/v1/logs/bulk")).bearer_auth(key).body(body.to_owned()).send().await.expect("post").status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_by_a_running_gateway_within_5_seconds() {
    let prefix = unique_name("acc");
    let env = support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await;
    let bootstrap = support::test_key();
    let api = support::start(&["api"], env.clone(), &bootstrap).await;
    let gateway = support::start(&["gateway"], env, &bootstrap).await;

    let admin = admin_token(&api.url).await;
    let (s, _) = call(reqwest::Method::POST, &format!("{}/v1/projects", api.url), &admin, Some(json!({ "slug": "acme" }))).await;
    assert_eq!(s, 201);
    let (s, key) = call(reqwest::Method::POST, &format!("{}/v1/projects/acme/api-keys", api.url), &admin, Some(json!({ "name": "agent", "scopes": ["ingest"] }))).await;
    assert_eq!(s, 201, "{key}");
    let secret = key["key"].as_str().expect("secret").to_owned();
    // The gateway has the key cached as valid.
    assert_eq!(ingest(&gateway.url, &secret, "before revocation").await, 200);
    assert_eq!(ingest(&gateway.url, &secret, "still cached").await, 200);

    let (s, _) = call(reqwest::Method::DELETE, &format!("{}/v1/projects/acme/api-keys/{}", api.url, key["id"].as_str().expect("id")), &admin, None).await;
    assert_eq!(s, 204);
    let revoked = Instant::now();
    let refused_after = wait_until("the gateway refuses the revoked key", Duration::from_secs(30), || {
        let (url, secret) = (gateway.url.clone(), secret.clone());
        async move { (ingest(&url, &secret, "after revocation").await == 401).then(|| revoked.elapsed()) }
    })
    .await;
    eprintln!("revoked key refused by the gateway after {refused_after:?}");
    assert!(refused_after < Duration::from_secs(5), "took {refused_after:?}");

    // Deleting a project ends its keys the same way.
    assert_eq!(call(reqwest::Method::POST, &format!("{}/v1/projects", api.url), &admin, Some(json!({ "slug": "doomed" }))).await.0, 201);
    let (_, doomed) = call(reqwest::Method::POST, &format!("{}/v1/projects/doomed/api-keys", api.url), &admin, Some(json!({ "name": "agent" }))).await;
    let doomed = doomed["key"].as_str().expect("secret").to_owned();
    assert_eq!(ingest(&gateway.url, &doomed, "before deletion").await, 200);
    assert_eq!(call(reqwest::Method::DELETE, &format!("{}/v1/projects/doomed", api.url), &admin, None).await.0, 204);
    let deleted = Instant::now();
    let refused_after = wait_until("the gateway refuses the deleted project's key", Duration::from_secs(30), || {
        let (url, secret) = (gateway.url.clone(), doomed.clone());
        async move { (ingest(&url, &secret, "after deletion").await == 401).then(|| deleted.elapsed()) }
    })
    .await;
    eprintln!("deleted project's key refused by the gateway after {refused_after:?}");
    assert!(refused_after < Duration::from_secs(5), "took {refused_after:?}");

    // Its last use was recorded (written in the background every few seconds).
    wait_until("last_used_at recorded", Duration::from_secs(30), || async {
        let (_, keys) = call(reqwest::Method::GET, &format!("{}/v1/projects/acme/api-keys", api.url), &admin, None).await;
        keys["api_keys"][0]["last_used_at"].as_str().map(str::to_owned)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_lands_only_in_the_keys_project_whatever_the_event_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD);
    let key_a = support::test_key();
    let node = support::start(&[], env, &key_a).await;
    let admin = admin_token(&node.url).await;
    let (s, b) = call(reqwest::Method::POST, &format!("{}/v1/projects", node.url), &admin, Some(json!({ "slug": "bee" }))).await;
    assert_eq!(s, 201);
    let b_id = b["project"]["id"].as_str().expect("id").to_owned();
    let (_, key_b) = call(reqwest::Method::POST, &format!("{}/v1/projects/bee/api-keys", node.url), &admin, Some(json!({ "name": "b", "scopes": ["ingest", "read"] }))).await;
    let key_b = key_b["key"].as_str().expect("secret").to_owned();

    let run = unique_name("run");
    let event = json!({ "message": format!("{run} claims project b"), "project_id": b_id, "project": "bee" }).to_string();
    assert_eq!(ingest(&node.url, &key_a, &event).await, 200);
    let q = format!("{}/v1/search?q={run}&from=now-1h", node.url);
    let hit = wait_until("the event is searchable in the key's project", Duration::from_secs(30), || async {
        let (_, v) = call(reqwest::Method::GET, &q, &key_a, None).await;
        (v["total"].as_u64() == Some(1)).then(|| v["hits"][0].clone())
    })
    .await;
    assert_eq!(hit["fields"]["ingest.api_key"], json!("bootstrap"), "the sending key is recorded: {hit}");
    let (s, v) = call(reqwest::Method::GET, &q, &key_b, None).await;
    assert_eq!((s, v["total"].as_u64()), (200, Some(0)), "project b must not see it: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_admin_password_is_reset_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD);
    let key = support::test_key();
    let node = support::start(&[], env.clone(), &key).await;
    let before = admin_token(&node.url).await;
    drop(node);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nexuslog"))
        .args(["admin", "reset-password", "Admin@localhost"])
        .env("NEXUSLOG_DATA_DIR", dir.path())
        .env_remove("NEXUSLOG_CONFIG")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout.trim().rsplit(' ').next().expect("password").to_owned();

    let node = support::start(&[], env, &key).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/auth/login", node.url))
        .json(&json!({ "email": "admin@localhost", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 401, "the old password is gone");
    let token = support::login(&node.url, "admin@localhost", &password).await;
    let (s, _) = call(reqwest::Method::GET, &format!("{}/v1/auth/me", node.url), &before, None).await;
    assert_eq!(s, 401, "sessions from before the reset ended");
    let (_, audit) = call(reqwest::Method::GET, &format!("{}/v1/audit", node.url), &token, None).await;
    assert!(audit.to_string().contains("user.password_reset"), "{audit}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nexuslog"))
        .args(["admin", "reset-password", "nobody@example.com"])
        .env("NEXUSLOG_DATA_DIR", dir.path())
        .env_remove("NEXUSLOG_CONFIG")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user with e-mail nobody@example.com"));
}
