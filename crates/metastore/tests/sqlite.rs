//! The metadata conformance suite on SQLite.

#[tokio::test]
async fn sqlite_metastore_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = nexuslog_metastore::SqliteMetaStore::open(&dir.path().join("meta.db")).expect("open");
    nexuslog_metastore::conformance::run_all(&store).await;
}
