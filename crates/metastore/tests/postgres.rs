//! `PostgresMetaStore` against the real PostgreSQL started by `infra/services up postgres`.
//! Each test works in a database of its own, created here.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_metastore::{MetaStore, MetaStoreError, PostgresMetaStore};

/// Creates a fresh database and returns its URL.
async fn fresh_database() -> String {
    let url = service_env("POSTGRES_URL");
    let admin = PostgresMetaStore::new(&url, 1).expect("url parses");
    admin.health().await.expect("postgres reachable");
    let db = unique_name("t").replace('-', "_");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create database");
    let base = url.rsplit_once('/').map(|(b, _)| b).expect("url has a database part");
    format!("{base}/{db}")
}

async fn fresh_store() -> PostgresMetaStore {
    PostgresMetaStore::new(&fresh_database().await, 4).expect("url parses")
}

/// Replicas of a rollout start together on an empty database: every one of them must come up,
/// with the migrations applied once.
#[tokio::test]
async fn replicas_migrating_at_once_all_succeed() {
    let url = fresh_database().await;
    let runs = (0..8).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { PostgresMetaStore::new(&url, 1).expect("url parses").migrate().await })
    });
    let versions: Vec<u32> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("every replica migrates"))
        .collect();
    assert!(versions.windows(2).all(|w| w[0] == w[1]) && versions[0] > 0, "{versions:?}");
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

#[tokio::test]
async fn postgres_keeps_credentials_sealed() {
    let url = fresh_database().await;
    let open = |keys: Option<&str>| {
        let store = PostgresMetaStore::new(&url, 1).expect("url parses");
        match keys {
            Some(k) => store.with_sealing(nexuslog_metastore::SealingKeys::parse(k).expect("keys")),
            None => store,
        }
    };
    let raw = async || {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect directly");
        tokio::spawn(conn);
        let rows = client.query("SELECT config FROM alert_channels UNION ALL SELECT value FROM settings", &[]).await.expect("query");
        rows.iter().map(|r| r.get::<_, String>(0)).collect()
    };
    nexuslog_metastore::conformance::sealed_credentials(open, raw).await;
}
