//! Credentials at rest, end to end on a standalone NexusLog: an alert channel's signing secret,
//! header values and the token in its URL are never returned by the API (write-only: sent back
//! as shown, they keep the stored value, which the next notification still uses), and no byte
//! of the metadata database holds them once the process has stopped; the key file the
//! embedded default created is readable by its owner only.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "secrets-admin-password-1";

/// What the receiver saw of each notification: its query string and `Authorization` header.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn hook(State(seen): State<Seen>, RawQuery(query): RawQuery, headers: HeaderMap) -> &'static str {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    seen.lock().expect("lock").push((query.unwrap_or_default(), auth));
    "ok"
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_credentials_are_write_only_and_sealed_on_disk() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut env = support::with_admin_password(support::standalone_env(&data), ADMIN_PASSWORD);
    env.push(("NEXUSLOG_ALERTING_ALLOW_PRIVATE_TARGETS".into(), "true".into()));
    let node = support::start(&["standalone"], env, &support::test_key()).await;
    let token = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let http = reqwest::Client::new();
    let channels = format!("{}/v1/projects/default/alert-channels", node.url);

    let tag = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let (url_token, header_value, signing) = (format!("qtok{tag}"), format!("Bearer hdr{tag}"), format!("sig{tag}"));
    let secrets = [url_token.as_str(), header_value.as_str(), signing.as_str()];
    let config = json!({ "url": format!("http://{addr}/hook?token={url_token}"), "secret": signing, "headers": { "Authorization": header_value } });
    let created: Value = http.post(&channels).bearer_auth(&token).json(&json!({ "name": "ops", "type": "webhook", "config": config })).send().await.expect("create").json().await.expect("json");
    let id = created["id"].as_str().expect("created").to_owned();
    let shown = &created["config"];
    assert_eq!(shown["url"], format!("http://{addr}/hook?********"), "the query is hidden, the target shown");
    assert_eq!((shown["secret"].as_str(), shown["headers"]["Authorization"].as_str()), (Some("********"), Some("********")));

    // Whatever the API returns holds none of them.
    let listed = http.get(&channels).bearer_auth(&token).send().await.expect("list").text().await.expect("text");
    let one = http.get(format!("{channels}/{id}")).bearer_auth(&token).send().await.expect("get").text().await.expect("text");
    for answer in [&created.to_string(), &listed, &one] {
        for s in secrets {
            assert!(!answer.contains(s), "the API returned {s:?}: {answer}");
        }
    }

    // An edit that sends the shown configuration back (a renamed channel) keeps the stored
    // values: the test notification still carries them.
    let renamed = http
        .put(format!("{channels}/{id}"))
        .bearer_auth(&token)
        .json(&json!({ "name": "ops renamed", "type": "webhook", "config": shown }))
        .send()
        .await
        .expect("update");
    assert_eq!(renamed.status(), 200);
    let tested: Value = http.post(format!("{channels}/{id}/test")).bearer_auth(&token).send().await.expect("test").json().await.expect("json");
    assert_eq!(tested["ok"], true, "{tested}");
    assert_eq!(seen.lock().expect("lock").clone(), vec![(format!("token={url_token}"), header_value.clone())]);
    drop(node);

    // On disk: the database (with its journal) holds no credential; the key file is private.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&data).expect("data dir").flatten() {
        if entry.file_name().to_string_lossy().starts_with("meta.sqlite") {
            stored.extend(std::fs::read(entry.path()).expect("read"));
        }
    }
    for s in secrets {
        assert!(!contains(&stored, s), "the metadata database holds {s:?}");
    }
    assert!(contains(&stored, "sealed:v1:"), "the scan does not see the sealed channel rows");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("secrets.key")).expect("the key file the default created").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
