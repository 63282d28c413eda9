//! User-written rules cannot exhaust the shared process: every dimension of a rule is bounded
//! and named in the error at save time, a project's pipeline has a rule cap, a regex that would
//! compile huge is refused before it is built, and dry runs (viewer rights suffice) are limited
//! per caller across replicas.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{harness, user, Harness};
use nexuslog_metastore::Role;
use nexuslog_pipeline::rules::limits;
use serde_json::{json, Value};

async fn h() -> (Harness, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    (harness(store).await, dir)
}

/// Project `shop` with a member of `role`; returns that member's access token.
async fn member(h: &Harness, email: &str, role: Role) -> String {
    let u = user(h.meta.as_ref(), email, false).await;
    let project = match h.meta.project_by_slug("shop").await.unwrap() {
        Some(p) => p,
        None => h.meta.create_project("shop", "Shop").await.unwrap(),
    };
    h.meta.set_member(&project.id, &u.id, role).await.unwrap();
    h.login(email).await.0
}

fn drop_rule(name: &str) -> Value {
    json!({ "name": name, "steps": [{ "drop": {} }] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_rules_are_refused_at_save_naming_the_limit() {
    let (h, _d) = h().await;
    let editor = member(&h, "ed@example.com", Role::Editor).await;
    let rules = "/v1/projects/shop/pipeline/rules";

    let steps: Vec<Value> = (0..=limits::MAX_STEPS).map(|_| json!({ "drop": {} })).collect();
    let (s, body) = h.call(Method::POST, rules, Some(&editor), Some(json!({ "name": "long", "steps": steps }))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains(&format!("at most {}", limits::MAX_STEPS)), "{body}");

    // Short to write, enormous to compile: refused by the size limit, quickly, not built.
    let bomb = json!({ "name": "bomb", "when": { "field": { "name": "message", "matches": "(\\w{100}){100}" } }, "steps": [{ "drop": {} }] });
    let started = std::time::Instant::now();
    let (s, body) = h.call(Method::POST, rules, Some(&editor), Some(bomb.clone())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("size limit"), "{body}");
    eprintln!("the regex bomb was refused in {:?}", started.elapsed());
    // The same rule offered to a dry run is refused the same way.
    let (s, body) = h.call(Method::POST, "/v1/projects/shop/pipeline/dry-run", Some(&editor), Some(json!({ "lines": ["x"], "rules": [bomb] }))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    let patterns: Vec<String> = (0..=limits::MAX_GROK_PATTERNS).map(|i| format!("%{{WORD:w{i}}}")).collect();
    let grok = json!({ "name": "grok", "steps": [{ "parse": { "with": "grok", "patterns": patterns } }] });
    let (s, body) = h.call(Method::POST, rules, Some(&editor), Some(grok)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains("step 1"), "the step is named: {body}");

    // The cap on rules per project: the last one that fits is saved, the next is not.
    for i in 0..limits::MAX_RULES {
        let (s, body) = h.call(Method::POST, rules, Some(&editor), Some(drop_rule(&format!("r{i}")))).await;
        assert_eq!(s, StatusCode::CREATED, "rule {i}: {body}");
    }
    let (s, body) = h.call(Method::POST, rules, Some(&editor), Some(drop_rule("one too many"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].as_str().unwrap().contains(&limits::MAX_RULES.to_string()), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_are_limited_per_caller() {
    let (h, _d) = h().await;
    let viewer = member(&h, "viewer@example.com", Role::Viewer).await;
    let other = member(&h, "other@example.com", Role::Viewer).await;
    let dry_run = |token: String| {
        let h = &h;
        async move {
            let body = json!({ "lines": ["a=1"], "rules": [{ "name": "kv", "steps": [{ "parse": { "with": "kv" } }] }] });
            h.call_from(None, Method::POST, "/v1/projects/shop/pipeline/dry-run", Some(&token), Some(body)).await
        }
    };
    let mut refused = None;
    for i in 1..=40 {
        let ((s, body), retry_after) = dry_run(viewer.clone()).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((i, body, retry_after));
            break;
        }
        assert_eq!(s, StatusCode::OK, "dry run {i}: {body}");
        assert_eq!(body["results"][0]["record"]["fields"]["a"], json!(1), "{body}");
    }
    let (i, body, retry_after) = refused.expect("a flood of dry runs is refused");
    assert_eq!(i, 31, "30 a minute, then 429: {body}");
    assert_eq!(retry_after.as_deref(), Some("60"));
    // Another caller has a budget of its own.
    let ((s, body), _) = dry_run(other).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}
