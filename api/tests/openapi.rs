//! The OpenAPI document: it names every route of the route table with its method, it is a
//! valid OpenAPI 3.1 document (checked by `openapi-spec-validator`, from PyPI, installed by
//! `scripts/python-deps.sh`), and its parameters and bodies come from the handlers' types.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::Value;

fn operation<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    &doc["paths"][path][method]
}

#[test]
fn every_route_is_described_once_with_a_summary() {
    let doc = nexuslog_api::openapi::document();
    let mut ids = std::collections::BTreeSet::new();
    for e in nexuslog_api::endpoints() {
        let op = operation(&doc, &e.method.as_str().to_ascii_lowercase(), e.path);
        assert!(op.is_object(), "{} {} is missing from the OpenAPI document", e.method, e.path);
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{} {} has no summary", e.method, e.path);
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "operationId of {} {} repeats", e.method, e.path);
        for name in e.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
            assert!(
                op["parameters"].as_array().unwrap().iter().any(|p| p["name"] == name && p["in"] == "path"),
                "{} {}: path parameter {name} undeclared",
                e.method,
                e.path
            );
        }
    }
    let routes = nexuslog_api::endpoints().len() + nexuslog_api::openapi::OTHER_ENDPOINTS.len();
    let described: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(described, routes, "the document describes routes that do not exist");
}

#[test]
fn parameters_and_bodies_follow_the_handlers_types() {
    let doc = nexuslog_api::openapi::document();
    let search = operation(&doc, "get", "/v1/projects/{project}/search");
    let names: Vec<&str> = search["parameters"].as_array().unwrap().iter().filter(|p| p["in"] == "query").filter_map(|p| p["name"].as_str()).collect();
    for expected in ["q", "from", "to", "limit"] {
        assert!(names.contains(&expected), "search lacks the query parameter {expected}: {names:?}");
    }
    let rule = &operation(&doc, "post", "/v1/projects/{project}/alert-rules")["requestBody"]["content"]["application/json"]["schema"];
    let required: Vec<&str> = rule["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(required.contains(&"name") && required.contains(&"window"), "alert rule body: {rule}");
    assert!(rule["properties"]["query"]["type"] == "string", "alert rule body: {rule}");
    assert!(rule["properties"]["group_by"].is_object(), "alert rule body: {rule}");
    let login = operation(&doc, "post", "/v1/auth/login");
    assert_eq!(login["security"], serde_json::json!([]), "login needs no credential");
    assert!(operation(&doc, "get", "/v1/projects")["security"][0]["bearer"].is_array());
}

#[test]
fn the_document_is_valid_openapi_3_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&nexuslog_api::openapi::document()).unwrap()).unwrap();
    let cache = std::env::var_os("NEXUSLOG_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nexuslog"));
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; \
                      d, _ = read_from_filename(sys.argv[1]); validate(d); print('valid')"])
        .arg(&path)
        .env("PYTHONPATH", cache.join("python"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document (or is not installed: run scripts/python-deps.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "valid");
}

#[tokio::test]
async fn the_document_is_served_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn nexuslog_logstore::LogStore> = Arc::new(nexuslog_logstore::TantivyLogStore::open(dir.path()).unwrap());
    let h = common::harness(store).await;
    let (status, body) = h.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, nexuslog_api::openapi::document());
}
