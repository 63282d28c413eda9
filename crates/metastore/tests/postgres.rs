//! `PostgresMetaStore` against the real PostgreSQL started by `infra/services up postgres`.
//! Each test works in a database of its own, created here.

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_metastore::{MetaStore, MetaStoreError, PgTls, PostgresMetaStore, SslMode};

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

fn tls(mode: SslMode, ca: &str) -> PgTls {
    let path = format!("{}/{ca}", service_env("TLS_DIR"));
    PgTls { mode, ca: Some(("metastore.postgres.tls_ca".into(), path)) }
}

/// The whole suite over TLS, with the server's certificate checked against the test CA and
/// for the host connected to (`verify-full`).
#[tokio::test]
async fn postgres_metastore_conforms_over_verified_tls() {
    let url = fresh_database().await;
    let store = PostgresMetaStore::with_tls(&url, 4, &tls(SslMode::VerifyFull, "ca.pem")).expect("tls config");
    nexuslog_metastore::conformance::run_all(&store).await;
    // The server agrees: the pool's open sessions on this database are all encrypted.
    let db = url.rsplit_once('/').map(|(_, db)| db.to_owned()).expect("database");
    let (client, conn) = tokio_postgres::connect(&service_env("POSTGRES_URL"), tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    let row = client
        .query_one("SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1", &[&db])
        .await
        .expect("query");
    let (encrypted, plain): (i64, i64) = (row.get(0), row.get(1));
    assert!(encrypted > 0 && plain == 0, "encrypted {encrypted}, plain {plain}");
}

/// A CA that did not sign the server's certificate fails the connection, under both verifying
/// modes, and never falls back to plain TCP.
#[tokio::test]
async fn a_wrong_ca_is_refused() {
    let url = service_env("POSTGRES_URL");
    for mode in [SslMode::VerifyCa, SslMode::VerifyFull] {
        let store = PostgresMetaStore::with_tls(&url, 1, &tls(mode, "other-ca.pem")).expect("tls config");
        let err = store.health().await.expect_err("wrong CA");
        assert!(err.to_string().contains("TLS handshake"), "{mode:?}: {err}");
    }
}
