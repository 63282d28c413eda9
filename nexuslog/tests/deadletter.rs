//! `nexuslog deadletter list|replay` on the Kafka path: events a pipeline rule dead-lettered
//! come back through the normal path once the rule is fixed, exactly once however often they
//! are replayed.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::process::Command;
use std::time::Duration;

use nexuslog_common::testing::{unique_name, wait_until};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "admin password for dead-letter tests";

async fn call(url: &str, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{url}{path}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Runs `nexuslog deadletter <args>` with the node's environment; returns stdout.
fn cli(env: &[(String, String)], args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nexuslog")).arg("deadletter").args(args).envs(env.iter().cloned()).env_remove("NEXUSLOG_CONFIG").output().expect("run nexuslog");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nexuslog deadletter {args:?} failed: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn count(url: &str, token: &str, run: &str) -> u64 {
    let (_, v) = call(url, token, reqwest::Method::GET, &format!("/v1/search?project=default&q=run:{run}&from=now-1d"), None).await;
    v["total"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn distributed_dead_letters_are_listed_and_replayed_once_the_rule_is_fixed() {
    let env = support::with_own_metastore(support::distributed_env(&unique_name("dlq")), ADMIN_PASSWORD).await;
    let key = support::test_key();
    let node = support::start(&[], env.clone(), &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let (_, projects) = call(&node.url, &admin, reqwest::Method::GET, "/v1/projects", None).await;
    let project_id = projects["projects"].as_array().and_then(|ps| ps.iter().find(|p| p["slug"] == "default")).map(|p| p["id"].as_str().expect("id").to_owned()).expect("the default project");

    // A strict rule that dead-letters what it cannot parse.
    let rule = json!({ "name": "strict", "on_error": "dead_letter", "steps": [ { "parse": { "with": "grok", "field": "message", "patterns": ["^code=%{INT:code}$"] } } ] });
    let (s, created) = call(&node.url, &admin, reqwest::Method::POST, "/v1/projects/default/pipeline/rules", Some(rule)).await;
    assert_eq!(s, 201, "{created}");
    let rule_id = created["rule"]["id"].as_str().expect("id").to_owned();
    tokio::time::sleep(Duration::from_secs(2)).await; // the processors poll rule revisions every second

    let run = unique_name("dl");
    let lines: Vec<String> = (0..5).map(|i| format!(r#"{{"run":"{run}","message":"not a code {i}"}}"#)).collect();
    let resp = reqwest::Client::new().post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&key).body(lines.join("\n")).send().await.expect("ingest");
    assert_eq!(resp.status(), 200);

    let listed = wait_until("five dead letters listed", Duration::from_secs(60), || {
        let out = cli(&env, &["list", "--project", &project_id, "--stage", "processor", "--since", "1h"]);
        let n = out.lines().filter(|l| l.contains(&run)).count();
        async move { (n == 5).then_some(out) }
    })
    .await;
    let first: Value = serde_json::from_str(listed.lines().next().expect("a line")).expect("json line");
    assert_eq!((first["stage"].as_str(), first["error_kind"].as_str()), (Some("processor"), Some("pipeline_failed")), "{first}");
    assert!(cli(&env, &["list", "--stage", "sink"]).is_empty(), "the stage filter applies");
    assert_eq!(count(&node.url, &admin, &run).await, 0);

    // Fixed: the rule goes; a replay brings the five in, a second replay adds nothing.
    let (s, _) = call(&node.url, &admin, reqwest::Method::DELETE, &format!("/v1/projects/default/pipeline/rules/{rule_id}"), None).await;
    assert_eq!(s, 204);
    tokio::time::sleep(Duration::from_secs(2)).await;
    cli(&env, &["replay", "--project", &project_id, "--reason", "pipeline_failed"]);
    wait_until("the five replayed events searchable", Duration::from_secs(60), || async { (count(&node.url, &admin, &run).await == 5).then_some(()) }).await;
    cli(&env, &["replay", "--project", &project_id, "--reason", "pipeline_failed"]);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(count(&node.url, &admin, &run).await, 5, "a second replay indexes nothing twice");
}
