//! `PostgresMetaStore` against the real PostgreSQL started by `infra/services up postgres`.
//! Each test works in a database of its own, created here.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_metastore::{ApiKey, MetaStore, MetaStoreError, PostgresMetaStore};

/// Creates a fresh database and returns a store on it.
async fn fresh_store() -> PostgresMetaStore {
    let url = service_env("POSTGRES_URL");
    let admin = PostgresMetaStore::new(&url, 1).expect("url parses");
    admin.health().await.expect("postgres reachable");
    let db = unique_name("t").replace('-', "_");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create database");
    let base = url.rsplit_once('/').map(|(b, _)| b).expect("url has a database part");
    PostgresMetaStore::new(&format!("{base}/{db}"), 4).expect("url parses")
}

#[tokio::test]
async fn migrations_apply_once_and_queries_work() {
    let store = fresh_store().await;
    assert_eq!(store.migrate().await.expect("migrate"), 1);
    assert_eq!(store.migrate().await.expect("migrate again is a no-op"), 1);

    let p = store.create_project("default", "Default project").await.expect("create project");
    assert_eq!(store.project_by_slug("default").await.expect("query"), Some(p.clone()));
    assert_eq!(store.project_by_slug("nope").await.expect("query"), None);
    let dup = store.create_project("default", "again").await.expect_err("slug is unique");
    assert!(matches!(dup, MetaStoreError::Conflict(_)), "{dup}");

    let key = ApiKey {
        id: "k1".into(),
        project_id: p.id.clone(),
        name: "bootstrap".into(),
        prefix: "nxl_abcd".into(),
        key_hash: "hash".into(),
        scopes: "ingest,read".into(),
        created_at: 1,
        revoked_at: None,
    };
    store.create_api_key(&key).await.expect("create key");
    assert_eq!(store.api_key_by_prefix("nxl_abcd").await.expect("lookup"), Some(key));
}

#[tokio::test]
async fn wrong_password_is_reported() {
    let url = service_env("POSTGRES_URL").replacen("nexuslog:nexuslog@", "nexuslog:wrong@", 1);
    let store = PostgresMetaStore::new(&url, 1).expect("url parses");
    let err = store.health().await.expect_err("authentication fails");
    assert!(matches!(err, MetaStoreError::Unavailable(_)), "{err}");
}
