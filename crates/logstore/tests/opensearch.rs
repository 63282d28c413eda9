//! `OpenSearchLogStore` against the real OpenSearch started by `infra/services up opensearch`.
//! Each test uses its own index prefix.

use std::collections::BTreeMap;

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, SearchQuery};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};

const T0: i64 = 1_700_000_000_000_000;

fn store() -> OpenSearchLogStore {
    OpenSearchLogStore::new(&OpenSearchConfig {
        url: service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", unique_name("nxt")),
    })
    .expect("client")
}

fn record(i: i64, project: &str, message: &str) -> LogRecord {
    LogRecord {
        id: format!("id-{project}-{i}"),
        project_id: project.into(),
        timestamp: T0 + i * 1_000_000,
        timestamp_source: TimestampSource::Event,
        received_at: T0 + i * 1_000_000 + 5,
        level: if i % 2 == 0 { Level::Info } else { Level::Error },
        message: message.into(),
        host: Some(format!("web-{}", i % 3)),
        service: Some("checkout".into()),
        source: SourceKind::Http,
        fields: BTreeMap::from([("status".into(), FieldValue::Long(200 + i)), ("path".into(), FieldValue::String("/cart".into()))]),
        parse_status: ParseStatus::Ok,
        parse_errors: vec![],
        trace_id: None,
        span_id: None,
    }
}

fn query(project: &str, text: Option<&str>) -> SearchQuery {
    SearchQuery {
        project_id: project.into(),
        text: text.map(str::to_owned),
        from_micros: T0 - 1,
        to_micros: T0 + 3_600_000_000,
        limit: 100,
        ..SearchQuery::default()
    }
}

#[tokio::test]
async fn bulk_index_then_search_newest_first() {
    let s = store();
    s.health().await.expect("cluster healthy");
    s.prepare().await.expect("template");
    let mut records: Vec<LogRecord> = (0..20).map(|i| record(i, "alpha", &format!("payment {} processed", if i % 2 == 0 { "ok" } else { "failed" }))).collect();
    records.push(record(0, "beta", "payment ok processed in another project"));
    let outcome = s.index(&records).await.expect("bulk");
    assert_eq!(outcome.indexed, 21);
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    s.refresh().await.expect("refresh");

    let all = s.search(&query("alpha", None)).await.expect("search");
    assert_eq!(all.total, 20, "project filter excludes beta");
    let stamps: Vec<i64> = all.hits.iter().map(|r| r.timestamp).collect();
    let mut sorted = stamps.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(stamps, sorted, "newest first");
    assert_eq!(all.hits[0], records[19], "documents read back as indexed");

    let failed = s.search(&query("alpha", Some("failed"))).await.expect("search");
    assert_eq!(failed.total, 10);
    assert!(failed.hits.iter().all(|r| r.message.contains("failed")));

    let narrow = SearchQuery { from_micros: T0 + 5_000_000, to_micros: T0 + 8_000_000, ..query("alpha", None) };
    assert_eq!(s.search(&narrow).await.expect("search").total, 3, "time range is [from, to)");
}

#[tokio::test]
async fn field_filters_and_paging_by_cursor() {
    let s = store();
    s.prepare().await.expect("template");
    let records: Vec<LogRecord> = (0..25).map(|i| record(i, "eps", "paged")).collect();
    s.index(&records).await.expect("bulk");
    s.refresh().await.expect("refresh");

    let errors = SearchQuery { filters: vec![("level".into(), "error".into()), ("host".into(), "web-1".into())], ..query("eps", None) };
    let res = s.search(&errors).await.expect("search");
    let expected = records.iter().filter(|r| r.level == Level::Error && r.host.as_deref() == Some("web-1")).count();
    assert_eq!(res.total as usize, expected);
    let by_field = SearchQuery { filters: vec![("status".into(), "207".into())], ..query("eps", None) };
    assert_eq!(s.search(&by_field).await.expect("search").hits[0].id, records[7].id);

    let mut seen = Vec::new();
    let mut q = SearchQuery { limit: 10, ..query("eps", None) };
    loop {
        let page = s.search(&q).await.expect("page");
        seen.extend(page.hits.iter().map(|h| h.id.clone()));
        match page.next {
            Some(after) => q.after = Some(after),
            None => break,
        }
    }
    let mut expected: Vec<String> = records.iter().rev().map(|r| r.id.clone()).collect();
    assert_eq!(seen, expected, "every record once, newest first");
    expected.dedup();
    assert_eq!(expected.len(), 25);
}

#[tokio::test]
async fn reindexing_the_same_ids_replaces_instead_of_duplicating() {
    let s = store();
    s.prepare().await.expect("template");
    let records: Vec<LogRecord> = (0..5).map(|i| record(i, "gamma", "first version")).collect();
    s.index(&records).await.expect("bulk");
    let replay: Vec<LogRecord> = records.iter().map(|r| LogRecord { message: "second version".into(), ..r.clone() }).collect();
    s.index(&replay).await.expect("bulk replay");
    s.refresh().await.expect("refresh");
    let res = s.search(&query("gamma", None)).await.expect("search");
    assert_eq!(res.total, 5);
    assert!(res.hits.iter().all(|r| r.message == "second version"));
}

#[tokio::test]
async fn mapping_conflict_is_reported_per_item_and_not_retryable() {
    let s = store();
    s.prepare().await.expect("template");
    let good = record(1, "delta", "numeric status");
    s.index(std::slice::from_ref(&good)).await.expect("bulk");
    let mut bad = record(2, "delta", "string status");
    bad.fields.insert("status".into(), FieldValue::String("not-a-number".into()));
    let outcome = s.index(&[bad.clone(), record(3, "delta", "fine")]).await.expect("bulk");
    assert_eq!(outcome.indexed, 1);
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].id, bad.id);
    assert_eq!(outcome.failures[0].status, 400);
    assert!(!outcome.failures[0].retryable);
}
