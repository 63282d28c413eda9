//! The search language and aggregations through the HTTP API (on Tantivy; the stores' agreement
//! is proven in crates/logstore/tests/agreement.rs): answers, paging order, highlighting, totals,
//! and the error messages a user sees for a bad query.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::harness;
use nexuslog_logstore::conformance::record;
use nexuslog_logstore::{LogStore, TantivyLogStore};
use nexuslog_schemas::FieldValue;
use serde_json::{json, Value};

/// Covers the conformance records' timestamps (2023-11-14T22:13:20Z + i s).
const RANGE: &str = "from=2023-11-14T00:00:00Z&to=2023-11-16T00:00:00Z";

async fn setup() -> (common::Harness, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn LogStore> = Arc::new(TantivyLogStore::open(dir.path()).unwrap());
    let h = harness(store.clone()).await;
    let p = h.meta.create_project("shop", "Shop").await.unwrap();
    let mut records: Vec<_> = (0..40)
        .map(|i| {
            let msg = match i % 4 {
                0 => format!("payment failed for order {i}: connection reset"),
                1 => "用户登录失败 timeout".to_owned(),
                2 => format!("GET /cart/{i} served"),
                _ => "cache miss, retrying".to_owned(),
            };
            let mut r = record(i, &p.id, &msg);
            r.fields.insert("latency".into(), FieldValue::Long(i * 10));
            r
        })
        .collect();
    records[3].fields.insert("user".into(), FieldValue::String("John Smith".into()));
    assert!(store.index(&records).await.unwrap().failures.is_empty());
    let (_, key) = h.key(&p.id, "read", false).await;
    (h, key, dir)
}

async fn search(h: &common::Harness, key: &str, params: &str) -> (StatusCode, Value) {
    h.call(Method::GET, &format!("/v1/search?{RANGE}&{params}"), Some(key), None).await
}

fn ids(body: &Value) -> Vec<String> {
    body["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_works_through_the_api() {
    let (h, key, _dir) = setup().await;
    let total = |body: &Value| body["total"].as_u64().unwrap();
    let cases: &[(&str, u64)] = &[
        ("q=payment+failed", 10),
        ("q=%22connection+reset%22", 10),
        ("q=%22reset+connection%22", 0),
        ("q=%E7%99%BB%E5%BD%95", 10), // 登录, inside 用户登录失败
        ("q=timeout+OR+cache", 20),
        ("q=-timeout+-cache+-payment", 10),
        ("q=latency:%3E=200+level:error", 10),
        ("q=latency:[100+TO+150]", 6),
        ("q=user:%22John+Smith%22", 1),
        ("q=user:*", 1),
        ("q=level:%3E=warn", 20),
        ("q=host:web*", 40),
        ("q=ret*", 10),
        ("q=12:30", 0),
    ];
    for (params, want) in cases {
        let (s, body) = search(&h, &key, params).await;
        assert_eq!(s, StatusCode::OK, "{params}: {body}");
        assert_eq!(total(&body), *want, "{params}: {body}");
        assert_eq!(body["total_relation"], "eq");
    }

    // The answer says which range it searched, date math resolved.
    let (_, ranged) = h.call(Method::GET, "/v1/search?from=2024-03-12T10:00:00Z&to=2024-03-12T11:00:00Z", Some(&key), None).await;
    assert_eq!((ranged["from"].as_str(), ranged["to"].as_str()), (Some("2024-03-12T10:00:00.000000Z"), Some("2024-03-12T11:00:00.000000Z")), "{ranged}");

    // Order and paging: ascending pages continue where the last one ended.
    let (_, desc) = search(&h, &key, "limit=5").await;
    let (_, asc) = search(&h, &key, "limit=5&sort=asc").await;
    assert!(ids(&desc)[0].ends_with("-0039"), "{desc}");
    let first_asc = ids(&asc);
    assert!(first_asc[0].ends_with("-0000") && first_asc[4].ends_with("-0004"), "{first_asc:?}");
    let cursor = asc["next_cursor"].as_str().unwrap();
    let (_, next) = search(&h, &key, &format!("limit=5&sort=asc&cursor={cursor}")).await;
    assert!(ids(&next)[0].ends_with("-0005"), "{next}");

    // Highlighting marks the matched words by character offsets.
    let (_, body) = search(&h, &key, "q=%E7%99%BB%E5%BD%95+timeout&highlight=true&limit=1").await;
    assert_eq!(body["hits"][0]["highlight"]["message"], json!([[2, 4], [7, 14]]), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_name_the_problem_and_its_position() {
    let (h, key, _dir) = setup().await;
    let cases: &[(&str, &str, Option<u64>)] = &[
        ("q=level:error+OR", "invalid query: expected a term, found the end of the query", Some(14)),
        ("q=%22unclosed", "invalid query: unclosed `\"`", Some(0)),
        ("q=(a+b", "invalid query: unclosed `(`", Some(0)),
        ("q=host:%3E5", "invalid query: host is text: ranges apply to numbers, `timestamp` and `level`", Some(6)),
        ("q=level:loud", "invalid query: unknown level \"loud\": use trace, debug, info, warn, error, fatal or unknown", Some(6)),
        ("q=a*b", "invalid query: a wildcard `*` is only allowed at the end of a value", Some(1)),
        ("sort=up", "sort must be desc or asc, not \"up\"", None),
        ("to=now-1h&from=now", "`from` must be before `to`", None),
    ];
    for (params, message, position) in cases {
        let (s, body) = h.call(Method::GET, &format!("/v1/search?{params}"), Some(&key), None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{params}: {body}");
        assert_eq!(body["error"], *message, "{params}");
        assert_eq!(body["position"].as_u64(), *position, "{params}: {body}");
    }
    let long = "a+".repeat(2100);
    let (s, body) = h.call(Method::GET, &format!("/v1/search?q={long}"), Some(&key), None).await;
    assert_eq!((s, body["error"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "invalid query: the query is longer than 4096 bytes"));
    let (s, body) = h.call(Method::GET, "/v1/search?from=yesterday", Some(&key), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("from: invalid time \"yesterday\""), "{body}");
    // A time in the future is a valid end.
    let (s, _) = h.call(Method::GET, "/v1/search?from=now-1h&to=now%2B5m", Some(&key), None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregations_answer_and_refuse_clearly() {
    let (h, key, _dir) = setup().await;
    let body = json!({
        "q": "-cache",
        "from": "2023-11-14T22:12:00Z",
        "to": "2023-11-14T22:15:00Z",
        "aggs": {
            "n": { "count": {} },
            "over_time": { "date_histogram": { "interval": "30s", "split_by": "level", "size": 1 } },
            "auto": { "date_histogram": {} },
            "hosts": { "terms": { "field": "host", "size": 2 } },
            "latency": { "stats": { "field": "latency" } },
            "p": { "percentiles": { "field": "latency", "percents": [50] } },
            "users": { "cardinality": { "field": "host" } },
        }
    });
    let (s, a) = h.call(Method::POST, "/v1/aggregate", Some(&key), Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let aggs = &a["aggs"];
    assert_eq!(aggs["n"]["value"], 30);
    let buckets = aggs["over_time"]["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 6, "22:12:00 to 22:15:00 by 30 s, empty ones included: {a}");
    let counts: Vec<u64> = buckets.iter().map(|b| b["count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [0, 0, 8, 22, 0, 0], "records are at 22:13:20 to 22:13:59");
    assert_eq!(buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(), 30);
    assert_eq!(aggs["over_time"]["series"].as_array().unwrap().len(), 1);
    let auto = aggs["auto"]["buckets"].as_array().unwrap().len();
    assert!((60..=120).contains(&auto), "auto interval gives {auto} buckets");
    assert_eq!(aggs["hosts"]["buckets"].as_array().unwrap().len(), 2);
    assert_eq!(aggs["hosts"]["other"], 10);
    assert_eq!(aggs["latency"]["count"], 30);
    assert_eq!(aggs["users"]["value"], 3);
    assert!(aggs["p"]["values"][0]["value"].as_f64().is_some(), "{a}");

    let refused: &[(Value, &str)] = &[
        (json!({ "aggs": {} }), "aggs must name between 1 and 20 aggregations"),
        (json!({ "aggs": { "x": { "terms": { "field": "message" } } } }), "aggs.x: message is full text: aggregate on a field with values"),
        (
            json!({ "aggs": { "x": { "stats": { "field": "host" } } } }),
            "aggs.x: host has no numbers: statistics apply to extracted numeric fields",
        ),
        (
            json!({ "from": "now-1d", "aggs": { "x": { "date_histogram": { "interval": "1s" } } } }),
            "aggs.x: interval 1s gives more than 2000 buckets over this range: use a larger one or \"auto\"",
        ),
        (
            json!({ "aggs": { "x": { "date_histogram": { "interval": "5ms" } } } }),
            "aggs.x: invalid interval \"5ms\": the unit is one of s, m, h, d, w",
        ),
        (json!({ "q": "a OR", "aggs": { "n": { "count": {} } } }), "invalid query: expected a term, found the end of the query"),
    ];
    for (body, message) in refused {
        let (s, answer) = h.call(Method::POST, "/v1/aggregate", Some(&key), Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"], *message, "{body}");
    }
    let (s, answer) = h.call(Method::POST, "/v1/aggregate", Some(&key), Some(json!({ "aggs": { "x": { "median": {} } } }))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(answer["error"].as_str().unwrap().contains("unknown variant `median`"), "{answer}");
}
