//! `PostgresMetaStore` against the real PostgreSQL started by `infra/services up postgres`.
//! Each test works in a database of its own, created here.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_metastore::{MetaStore, MetaStoreError, PostgresMetaStore};

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
async fn postgres_metastore_conforms() {
    let store = fresh_store().await;
    nexuslog_metastore::conformance::run_all(&store).await;
}

#[tokio::test]
async fn wrong_password_is_reported() {
    let url = service_env("POSTGRES_URL").replacen("nexuslog:nexuslog@", "nexuslog:wrong@", 1);
    let store = PostgresMetaStore::new(&url, 1).expect("url parses");
    let err = store.health().await.expect_err("authentication fails");
    assert!(matches!(err, MetaStoreError::Unavailable(_)), "{err}");
}
