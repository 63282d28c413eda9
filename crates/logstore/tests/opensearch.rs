//! `OpenSearchLogStore` against the real OpenSearch started by `infra/services up opensearch`.
//! Each test uses its own index prefix.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_logstore::conformance::record;
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore};
use nexuslog_schemas::FieldValue;

fn store() -> OpenSearchLogStore {
    OpenSearchLogStore::new(&OpenSearchConfig {
        url: service_env("OPENSEARCH_URL"),
        username: None,
        password: None,
        index_prefix: format!("{}-", unique_name("nxt")),
    })
    .expect("client")
}

#[tokio::test]
async fn opensearch_logstore_conforms() {
    nexuslog_logstore::conformance::run_all(&store()).await;
}

/// OpenSearch types a field by its first value; a later value of another type is refused for
/// that item only, and the refusal is permanent (dead-letter, not retry).
#[tokio::test]
async fn mapping_conflict_is_reported_per_item_and_not_retryable() {
    let s = store();
    s.prepare().await.expect("template");
    s.index(&[record(1, "delta", "numeric status")]).await.expect("bulk");
    let mut bad = record(2, "delta", "string status");
    bad.fields.insert("status".into(), FieldValue::String("not-a-number".into()));
    let outcome = s.index(&[bad.clone(), record(3, "delta", "fine")]).await.expect("bulk");
    assert_eq!(outcome.indexed, 1);
    assert_eq!(outcome.failures.len(), 1);
    assert_eq!(outcome.failures[0].id, bad.id);
    assert_eq!(outcome.failures[0].status, 400);
    assert!(!outcome.failures[0].retryable);
}
