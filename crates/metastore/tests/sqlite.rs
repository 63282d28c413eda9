//! The metadata conformance suite on SQLite.

#[tokio::test]
async fn sqlite_metastore_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = nexuslog_metastore::SqliteMetaStore::open(&dir.path().join("meta.db")).expect("open");
    nexuslog_metastore::conformance::run_all(&store).await;
}

#[tokio::test]
async fn sqlite_keeps_credentials_sealed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("meta.db");
    let open = |keys: Option<&str>| {
        let store = nexuslog_metastore::SqliteMetaStore::open(&path).expect("open");
        match keys {
            Some(k) => store.with_sealing(nexuslog_metastore::SealingKeys::parse(k).expect("keys")),
            None => store,
        }
    };
    let raw = async || {
        let db = rusqlite::Connection::open(&path).expect("open the file directly");
        let mut stmt = db.prepare("SELECT config FROM alert_channels UNION ALL SELECT value FROM settings").expect("prepare");
        stmt.query_map([], |r| r.get::<_, String>(0)).expect("query").collect::<Result<Vec<_>, _>>().expect("rows")
    };
    nexuslog_metastore::conformance::sealed_credentials(open, raw).await;
}
