//! `OpenSearchLogStore` against the real OpenSearch started by `infra/services up opensearch`.
//! Each test uses its own index prefix.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_logstore::conformance::record;
use nexuslog_logstore::{FieldType, LogStore, OpenSearchConfig, OpenSearchLogStore, SearchQuery};
use nexuslog_schemas::FieldValue;

fn store() -> OpenSearchLogStore {
    OpenSearchLogStore::new(&OpenSearchConfig {
        url: service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", unique_name("nxt")),
        ca_pem: None,
        identity_pem: None,
        verify: true,
    })
    .expect("client")
}

#[tokio::test]
async fn opensearch_logstore_conforms() {
    nexuslog_logstore::conformance::run_all(&store()).await;
}

/// Values of another type than the first, and a date-like string followed by another string, are
/// indexed like any other: typed objects and no date detection leave no type to conflict with.
#[tokio::test]
async fn type_changes_index_every_item() {
    let s = store();
    s.prepare().await.expect("template");
    s.index(&[record(1, "delta", "numeric status")]).await.expect("bulk");
    let mut text = record(2, "delta", "string status");
    text.fields.insert("status".into(), FieldValue::String("not-a-number".into()));
    let mut as_double = record(3, "delta", "double status");
    as_double.fields.insert("status".into(), FieldValue::Double(1.5));
    let mut date_like = record(4, "delta", "date-like string");
    date_like.fields.insert("when".into(), FieldValue::String("2024-05-01T12:00:00Z".into()));
    let mut not_a_date = record(5, "delta", "plain string");
    not_a_date.fields.insert("when".into(), FieldValue::String("yesterday".into()));
    let outcome = s.index(&[text, as_double, date_like]).await.expect("bulk");
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let outcome = s.index(&[not_a_date]).await.expect("bulk");
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
    let types: Vec<_> = s.fields("delta").await.expect("fields").into_iter().map(|f| (f.name, f.types)).collect();
    assert!(types.contains(&("status".into(), vec![FieldType::Double, FieldType::Long, FieldType::String])), "{types:?}");
    assert!(types.contains(&("when".into(), vec![FieldType::String])), "{types:?}");
}

/// A document OpenSearch still refuses fails alone, permanently (dead-letter, not retry): here
/// a name that is a value in one record and, dotted, an object path in another (`a`, `a.b`).
#[tokio::test]
async fn refused_item_is_reported_alone_and_not_retryable() {
    let s = store();
    s.prepare().await.expect("template");
    let mut first = record(1, "delta", "a is a value");
    first.fields.insert("a".into(), FieldValue::String("x".into()));
    s.index(&[first]).await.expect("bulk");
    let mut bad = record(2, "delta", "a is an object");
    bad.fields.insert("a.b".into(), FieldValue::String("y".into()));
    let outcome = s.index(&[bad.clone(), record(3, "delta", "fine")]).await.expect("bulk");
    assert_eq!(outcome.indexed, 1);
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].id, bad.id);
    assert_eq!(outcome.failures[0].status, 400);
    assert!(!outcome.failures[0].retryable);
}

/// A write of thousands of records goes as concurrent requests (here 3, each body bounded to
/// 64 KiB, so each part is several requests): every record is indexed once, a record refused in
/// one part is reported alone with its id, and writing the whole batch again (a replay)
/// replaces documents instead of adding any.
#[tokio::test]
async fn a_large_write_goes_in_concurrent_parts_and_indexes_each_record_once() {
    let s = store().with_bulk_concurrency(3).with_bulk_max_bytes(64 << 10);
    s.prepare().await.expect("template");
    let mut first = record(0, "delta", "a is a value");
    first.fields.insert("a".into(), FieldValue::String("x".into()));
    s.index(&[first]).await.expect("bulk");
    let mut records: Vec<_> = (1..2_400).map(|i| record(i, "delta", &format!("record {i}"))).collect();
    records[1_999].fields.insert("a.b".into(), FieldValue::String("refused: a is a value".into()));
    let refused = records[1_999].id.clone();
    for _ in 0..2 {
        let outcome = s.index(&records).await.expect("bulk");
        assert_eq!(outcome.indexed, 2_398);
        assert_eq!(outcome.failures.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), [refused.as_str()]);
    }
    s.refresh().await.expect("refresh");
    let all = SearchQuery {
        project_id: "delta".into(),
        query: nexuslog_query::parse("").expect("query"),
        // Around `record`'s times (1 700 000 000 s and one second per record).
        from_micros: 1_699_999_000_000_000,
        to_micros: 1_700_010_000_000_000,
        limit: 1,
        ..SearchQuery::default()
    };
    assert_eq!(s.search(&all).await.expect("search").total, 2_399);
}
