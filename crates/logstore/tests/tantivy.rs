//! The log store conformance suite on Tantivy.

use nexuslog_logstore::{LogStore, SearchQuery, TantivyLogStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tantivy_logstore_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TantivyLogStore::open(dir.path()).expect("open");
    nexuslog_logstore::conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_reopen_and_retention_drops_whole_days() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = nexuslog_logstore::conformance::record(1, "p", "kept");
    {
        let store = TantivyLogStore::open(dir.path()).expect("open");
        store.index(std::slice::from_ref(&rec)).await.expect("index");
    }
    let store = TantivyLogStore::open(dir.path()).expect("reopen");
    let fields: Vec<String> = store.fields("p").await.expect("fields").into_iter().map(|f| f.name).collect();
    assert_eq!(fields, vec!["cached", "path", "ratio", "status"], "the field catalog survives a restart");
    let q = SearchQuery { project_id: "p".into(), from_micros: 0, to_micros: i64::MAX / 2, limit: 10, ..SearchQuery::default() };
    assert_eq!(store.search(&q).await.expect("search").hits, vec![rec.clone()]);
    let dropped = store.drop_older_than(rec.timestamp + 3 * 86_400_000_000, 1).await.expect("retention");
    assert_eq!(dropped, 1);
    assert_eq!(store.search(&q).await.expect("search").total, 0);
}
