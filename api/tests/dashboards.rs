//! Dashboards and saved searches through the API, on both log stores: a dashboard with every
//! widget type renders the same numbers the aggregate API gives for each widget; variables
//! narrow the widgets; bad widgets are refused naming the widget; export → import round-trips;
//! saved searches are private unless shared, and only their owner (or an admin) changes them.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{harness, user};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, TantivyLogStore};
use nexuslog_metastore::Role;
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use serde_json::{json, Value};

/// 2024-03-01T00:00:00Z.
const T0: i64 = 1_709_251_200_000_000;
const FROM: &str = "2024-03-01T00:00:00Z";
const TO: &str = "2024-03-01T01:00:00Z";

fn fixtures(project: &str) -> Vec<LogRecord> {
    let levels = [Level::Info, Level::Warn, Level::Error, Level::Info];
    (0..240)
        .map(|i: i64| LogRecord {
            id: format!("d{i:04}"),
            project_id: project.into(),
            timestamp: T0 + i * 15_000_000,
            timestamp_source: TimestampSource::Event,
            received_at: T0 + i * 15_000_000,
            level: levels[(i % 4) as usize],
            message: format!("request {i} handled"),
            host: Some(format!("web-{}", i % 3)),
            service: Some(format!("svc-{}", i % 5)),
            source: SourceKind::Http,
            fields: BTreeMap::from([("latency_ms".to_owned(), FieldValue::Long(10 + (i * 37) % 500))]),
            parse_status: ParseStatus::Ok,
            parse_errors: Vec::new(),
            trace_id: None,
            span_id: None,
        })
        .collect()
}

fn widget(kind: &str, title: &str, query: &str, aggregation: Value, x: u32) -> Value {
    json!({"type": kind, "title": title, "query": query, "aggregation": aggregation, "position": {"x": x, "y": 0, "w": 6, "h": 4},
        "options": {"unit": "ms"}})
}

fn dashboard() -> Value {
    json!({
        "name": "Checkout",
        "time_range": {"from": "now-6h"},
        "refresh": "30s",
        "variables": [{"name": "service", "field": "service", "size": 10}],
        "widgets": [
            widget("line", "Requests by level", "service:$service", json!({"date_histogram": {"interval": "5m", "split_by": "level"}}), 0),
            widget("bar", "By service", "", json!({"terms": {"field": "service", "size": 5}}), 6),
            widget("pie", "By host", "level:error service:$service", json!({"terms": {"field": "host", "size": 3}}), 12),
            widget("single_value", "Errors", "level:error service:$service", json!({"count": {}}), 18),
            widget("table", "Latency", "service:$service", json!({"stats": {"field": "latency_ms"}}), 24),
        ]
    })
}

/// The aggregate API's answer for one widget, as the dashboard would ask it.
async fn aggregate(h: &common::Harness, token: &str, q: &str, agg: &Value) -> Value {
    let body = json!({"q": q, "from": FROM, "to": TO, "aggs": {"v": agg}});
    let (s, v) = h.call(Method::POST, "/v1/projects/shop/aggregate", Some(token), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["aggs"]["v"].clone()
}

async fn dashboards_render_what_the_aggregate_api_answers(store: Arc<dyn LogStore>) {
    store.prepare().await.unwrap();
    let h = harness(store.clone()).await;
    let p = h.meta.create_project("shop", "Shop").await.unwrap();
    let outcome = store.index(&fixtures(&p.id)).await.unwrap();
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    store.refresh().await.unwrap();
    let ed = user(h.meta.as_ref(), "ed@shop.example", false).await;
    h.meta.set_member(&p.id, &ed.id, Role::Editor).await.unwrap();
    let (token, _) = h.login("ed@shop.example").await;

    // Bad widgets are refused, naming the widget.
    let mut bad = dashboard();
    bad["widgets"][3]["query"] = json!("level:error AND");
    let (s, v) = h.call(Method::POST, "/v1/projects/shop/dashboards", Some(&token), Some(bad)).await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::BAD_REQUEST, Some("widgets[3].query")), "{v}");
    assert!(v["error"].as_str().unwrap_or_default().contains("Errors"), "the widget's title is in the message: {v}");
    let mut bad = dashboard();
    bad["widgets"][0]["type"] = json!("gauge");
    let (s, v) = h.call(Method::POST, "/v1/projects/shop/dashboards", Some(&token), Some(bad)).await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::BAD_REQUEST, Some("widgets[0].type")), "{v}");
    let mut bad = dashboard();
    bad["widgets"][4]["aggregation"] = json!({"stats": {}});
    let (s, _) = h.call(Method::POST, "/v1/projects/shop/dashboards", Some(&token), Some(bad)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, created) = h.call(Method::POST, "/v1/projects/shop/dashboards", Some(&token), Some(dashboard())).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["widgets"][2]["id"], "w3", "widgets get ids");

    // Rendered with every variable open: each widget equals the aggregate API's answer.
    let (s, r) = h.call(Method::POST, &format!("/v1/projects/shop/dashboards/{id}/render?from={FROM}&to={TO}"), Some(&token), None).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let widgets = dashboard()["widgets"].as_array().unwrap().clone();
    for (w, got) in widgets.iter().zip(r["widgets"].as_array().unwrap()) {
        let q = w["query"].as_str().unwrap().replace("$service", "*");
        let want = aggregate(&h, &token, &q, &w["aggregation"]).await;
        assert_eq!(got["data"], want, "widget {}", w["title"]);
    }
    assert_eq!(r["widgets"][3]["data"]["value"], 60, "a quarter of the records are errors");
    let services = r["variables"]["service"]["values"].as_array().unwrap();
    assert_eq!(services.len(), 5, "{r}");

    // A chosen value narrows every widget that uses the variable.
    let (s, r) = h
        .call(Method::POST, &format!("/v1/projects/shop/dashboards/{id}/render?from={FROM}&to={TO}"), Some(&token), Some(json!({"variables": {"service": "svc-1"}})))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let want = aggregate(&h, &token, "level:error service:\"svc-1\"", &json!({"count": {}})).await;
    assert_eq!(r["widgets"][3]["data"], want);
    assert_eq!(r["variables"]["service"]["selected"], "svc-1");
    assert_ne!(r["widgets"][3]["data"]["value"], 60);

    // Export, import: a new dashboard with the same widgets.
    let (s, exported) = h.call(Method::GET, &format!("/v1/projects/shop/dashboards/{id}/export"), Some(&token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(exported["dashboard"].get("id").is_none() && exported["dashboard"].get("owner").is_none(), "{exported}");
    let (s, imported) = h.call(Method::POST, "/v1/projects/shop/dashboards/import", Some(&token), Some(exported.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{imported}");
    assert_ne!(imported["id"], created["id"]);
    assert_eq!(imported["widgets"], created["widgets"]);
    let (_, list) = h.call(Method::GET, "/v1/projects/shop/dashboards", Some(&token), None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tantivy_dashboards_render_what_the_aggregate_api_answers() {
    let dir = tempfile::tempdir().unwrap();
    dashboards_render_what_the_aggregate_api_answers(Arc::new(TantivyLogStore::open(dir.path()).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opensearch_dashboards_render_what_the_aggregate_api_answers() {
    let store = OpenSearchLogStore::new(&OpenSearchConfig {
        url: nexuslog_common::testing::service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", nexuslog_common::testing::unique_name("dash")),
        ca_pem: None,
        identity_pem: None,
        verify: true,
    })
    .unwrap();
    dashboards_render_what_the_aggregate_api_answers(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_searches_are_private_unless_shared_and_changed_by_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(Arc::new(TantivyLogStore::open(dir.path()).unwrap())).await;
    let p = h.meta.create_project("ops", "Ops").await.unwrap();
    for (email, role) in [("ann@ops.example", Role::Editor), ("bob@ops.example", Role::Editor), ("amy@ops.example", Role::Admin)] {
        let u = user(h.meta.as_ref(), email, false).await;
        h.meta.set_member(&p.id, &u.id, role).await.unwrap();
    }
    let (ann, _) = h.login("ann@ops.example").await;
    let (bob, _) = h.login("bob@ops.example").await;
    let (amy, _) = h.login("amy@ops.example").await;
    let path = "/v1/projects/ops/saved-searches";

    let (s, v) = h.call(Method::POST, path, Some(&ann), Some(json!({"name": "bad", "query": "a AND"}))).await;
    assert_eq!((s, v["field"].as_str()), (StatusCode::BAD_REQUEST, Some("query")), "{v}");
    let (s, private) = h
        .call(Method::POST, path, Some(&ann), Some(json!({"name": "my errors", "query": "level:error", "time_range": {"from": "now-1h"}, "columns": ["host"]})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{private}");
    let (s, shared) = h.call(Method::POST, path, Some(&ann), Some(json!({"name": "team errors", "query": "level:error", "shared": true}))).await;
    assert_eq!(s, StatusCode::CREATED, "{shared}");

    let names = |v: &Value| v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(&h.call(Method::GET, path, Some(&ann), None).await.1), vec!["my errors", "team errors"]);
    assert_eq!(names(&h.call(Method::GET, path, Some(&bob), None).await.1), vec!["team errors"], "a private search is its owner's");
    let (s, _) = h.call(Method::GET, &format!("{path}/{}", private["id"].as_str().unwrap()), Some(&bob), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let change = json!({"name": "team errors v2", "query": "level:error service:api", "shared": true});
    let shared_path = format!("{path}/{}", shared["id"].as_str().unwrap());
    let (s, _) = h.call(Method::PUT, &shared_path, Some(&bob), Some(change.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another editor cannot change it");
    let (s, v) = h.call(Method::PUT, &shared_path, Some(&amy), Some(change)).await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("team errors v2")), "a project admin can");
    let (s, _) = h.call(Method::DELETE, &shared_path, Some(&ann), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}
