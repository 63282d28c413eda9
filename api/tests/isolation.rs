//! Cross-project isolation on both log stores: data of project A is never returned to a member
//! (or key) of project B, whatever B asks for — including filters naming A's project id, and
//! every project-scoped endpoint pointed at A.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{harness, user};
use nexuslog_logstore::conformance::record;
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, TantivyLogStore};
use nexuslog_metastore::Role;
use serde_json::Value;

/// Wide enough for the conformance records' timestamps.
const RANGE: &str = "from=0&to=4102444800000&limit=1000";

fn messages(body: &Value) -> Vec<String> {
    body["hits"].as_array().map(|h| h.iter().map(|r| r["message"].as_str().unwrap_or_default().to_owned()).collect()).unwrap_or_default()
}

async fn isolation_holds(store: Arc<dyn LogStore>) {
    store.prepare().await.unwrap();
    let h = harness(store.clone()).await;
    let a = h.meta.create_project("team-a", "A").await.unwrap();
    let b = h.meta.create_project("team-b", "B").await.unwrap();
    let records: Vec<_> = (0..20)
        .map(|i| record(i, &a.id, &format!("secret-of-a token{i}")))
        .chain((0..5).map(|i| record(i, &b.id, &format!("visible-to-b {i}"))))
        .collect();
    let outcome = store.index(&records).await.unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    store.refresh().await.unwrap();

    let bob = user(h.meta.as_ref(), "bob@b.example", false).await;
    h.meta.set_member(&b.id, &bob.id, Role::Owner).await.unwrap();
    let (token, _) = h.login("bob@b.example").await;
    let (_, b_key) = h.key(&b.id, "ingest,read", false).await;
    let alice = user(h.meta.as_ref(), "alice@a.example", false).await;
    h.meta.set_member(&a.id, &alice.id, Role::Viewer).await.unwrap();
    let (alice_token, _) = h.login("alice@a.example").await;

    // A's member sees A's data: the data is there to leak.
    let (s, body) = h.call(Method::GET, &format!("/v1/projects/team-a/search?{RANGE}"), Some(&alice_token), None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(messages(&body).len(), 20);

    for cred in [token.as_str(), b_key.as_str()] {
        // B's own searches, including ones naming A's project id or A's words, return only B's data.
        for q in ["", "secret-of-a", &format!("project_id:{}", a.id), "token1"] {
            let url = format!("/v1/search?project=team-b&q={}&{RANGE}", q.replace(' ', "+"));
            let (s, body) = h.call(Method::GET, &url, Some(cred), None).await;
            assert_eq!(s, StatusCode::OK, "{url}: {body}");
            assert!(messages(&body).iter().all(|m| m.starts_with("visible-to-b")), "{url} leaked: {body}");
        }
        // Every project-scoped endpoint pointed at A is refused without saying whether A exists.
        for e in nexuslog_api::endpoints() {
            if !e.path.contains("{project}") {
                continue;
            }
            let url = e
                .path
                .replace("{project}", "team-a")
                .replace("{user_id}", &alice.id)
                .replace("{key_id}", "any")
                .replace("{rule_id}", "any");
            let (s, body) = h.call(e.method.clone(), &url, Some(cred), Some(serde_json::json!({}))).await;
            assert!(matches!(s, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{} {url} as B: {s} {body}", e.method);
            assert!(!body.to_string().contains("secret-of-a"), "{url}: {body}");
        }
        let (s, body) = h.call(Method::GET, &format!("/v1/search?project=team-a&{RANGE}"), Some(cred), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    }
    // Aggregations over everything B may see count B's records only.
    for cred in [token.as_str(), b_key.as_str()] {
        let body = serde_json::json!({ "from": "0", "to": "4102444800000", "aggs": { "n": { "count": {} }, "hosts": { "terms": { "field": "host" } } } });
        let (s, answer) = h.call(Method::POST, "/v1/aggregate?project=team-b", Some(cred), Some(body.clone())).await;
        assert_eq!(s, StatusCode::OK, "{answer}");
        assert_eq!(answer["aggs"]["n"]["value"], 5, "{answer}");
        let (s, _) = h.call(Method::POST, "/v1/aggregate?project=team-a", Some(cred), Some(body)).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // B's key, without naming a project, searches B.
    let (_, body) = h.call(Method::GET, &format!("/v1/search?{RANGE}"), Some(&b_key), None).await;
    assert_eq!(messages(&body).len(), 5, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tantivy_project_data_never_reaches_another_project() {
    let dir = tempfile::tempdir().unwrap();
    isolation_holds(Arc::new(TantivyLogStore::open(dir.path()).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opensearch_project_data_never_reaches_another_project() {
    let store = OpenSearchLogStore::new(&OpenSearchConfig {
        url: nexuslog_common::testing::service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", nexuslog_common::testing::unique_name("iso")),
        ca_pem: None,
        identity_pem: None,
        verify: true,
    })
    .unwrap();
    isolation_holds(Arc::new(store)).await;
}
