//! Starting `nexuslog` as a child process against the real services.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nexuslog_common::testing::{service_env, unique_name, wait_until};

/// A running `nexuslog` process, killed when dropped.
pub struct Node {
    pub child: Child,
    pub url: String,
    pub api_key: String,
    pub topic_prefix: String,
    pub log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The environment that points every backend at the services from `infra/services up`, with
/// topic and index prefixes unique to this test.
pub fn distributed_env(prefix: &str) -> Vec<(String, String)> {
    vec![
        ("NEXUSLOG_BUS_KIND".into(), "kafka".into()),
        ("NEXUSLOG_BUS_KAFKA_BROKERS".into(), service_env("KAFKA_BROKERS")),
        ("NEXUSLOG_BUS_KAFKA_PARTITIONS".into(), "3".into()),
        ("NEXUSLOG_BUS_TOPIC_PREFIX".into(), format!("{prefix}.")),
        ("NEXUSLOG_LOGSTORE_KIND".into(), "opensearch".into()),
        ("NEXUSLOG_LOGSTORE_OPENSEARCH_URL".into(), service_env("OPENSEARCH_URL")),
        ("NEXUSLOG_LOGSTORE_INDEX_PREFIX".into(), format!("{prefix}-")),
        ("NEXUSLOG_METASTORE_KIND".into(), "postgres".into()),
        ("NEXUSLOG_METASTORE_POSTGRES_URL".into(), service_env("POSTGRES_URL")),
        ("NEXUSLOG_STATE_KIND".into(), "redis".into()),
        ("NEXUSLOG_STATE_REDIS_URL".into(), service_env("REDIS_URL")),
        ("NEXUSLOG_SCHEMA_REGISTRY_URL".into(), service_env("SCHEMA_REGISTRY_URL")),
    ]
}

/// `env` keeping a century of data: for tests whose events carry fixed dates (2023, 2024),
/// which the default window (`logstore.retention_days`) would index at their receipt time.
pub fn keeping_history(mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.push(("NEXUSLOG_LOGSTORE_RETENTION_DAYS".into(), "36500".into()));
    env
}

/// The environment of standalone mode on embedded storage in `data_dir`.
pub fn standalone_env(data_dir: &std::path::Path) -> Vec<(String, String)> {
    vec![("NEXUSLOG_DATA_DIR".into(), data_dir.display().to_string())]
}

/// Every dead letter in the embedded log under `data_dir` (the process must have exited).
pub async fn embedded_dead_letters(data_dir: &std::path::Path) -> Vec<nexuslog_schemas::DeadLetter> {
    use nexuslog_bus::Bus;
    let path = data_dir.join("bus/log.redb");
    let bus = wait_until("embedded log released", Duration::from_secs(10), || async {
        nexuslog_bus::EmbeddedBus::open(&path, nexuslog_bus::EmbeddedBusConfig::default()).ok()
    })
    .await;
    let topics = nexuslog_bus::Topics::with_prefix("nexuslog.");
    let mut c = bus.consumer(&unique_name("reader"), std::slice::from_ref(&topics.deadletter)).await.expect("consumer");
    let records = c.poll(1000, Duration::from_millis(200)).await.expect("poll");
    records.iter().map(|r| nexuslog_schemas::wire::EmbeddedCodec.decode(&r.payload).expect("dead letter decodes")).collect()
}

/// Starts `nexuslog <args>` with `env` and waits until `/readyz` answers 200.
/// `env` may set `NEXUSLOG_HTTP_ADDR` (`127.0.0.1:<port>`), for a test that picks several
/// ports at once so they cannot collide.
pub async fn start(args: &[&str], env: Vec<(String, String)>, api_key: &str) -> Node {
    let given = env.iter().find(|(k, _)| k == "NEXUSLOG_HTTP_ADDR").and_then(|(_, v)| v.rsplit(':').next()?.parse::<u16>().ok());
    let port = given.unwrap_or_else(free_port);
    let url = format!("http://127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("{}.log", unique_name("nexuslog-test")));
    let file = std::fs::File::create(&log).expect("log file");
    let prefix = env.iter().find(|(k, _)| k == "NEXUSLOG_BUS_TOPIC_PREFIX").map(|(_, v)| v.clone()).unwrap_or_default();
    let child = Command::new(env!("CARGO_BIN_EXE_nexuslog"))
        .args(args)
        .envs(env)
        .env("NEXUSLOG_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("NEXUSLOG_BOOTSTRAP_API_KEY", api_key)
        .env("NEXUSLOG_LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .env_remove("NEXUSLOG_CONFIG")
        .spawn()
        .expect("spawn nexuslog");
    let node = Node { child, url: url.clone(), api_key: api_key.to_owned(), topic_prefix: prefix, log };
    let client = reqwest::Client::new();
    let log_path = node.log.clone();
    wait_until(&format!("nexuslog ready (log: {})", log_path.display()), Duration::from_secs(90), || {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r = client.get(format!("{url}/readyz")).send().await.ok()?;
            r.status().is_success().then_some(())
        }
    })
    .await;
    node
}

/// A fixed-format key unique to a test.
pub fn test_key() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("nxl_{id}")
}

/// A PostgreSQL database of the test's own (so bootstrap, e.g. the admin's password, is the
/// test's); returns its URL.
pub async fn fresh_database() -> String {
    let url = service_env("POSTGRES_URL");
    let db = unique_name("db").replace('-', "_");
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create database");
    format!("{}/{db}", url.rsplit_once('/').map(|(b, _)| b).expect("url has a database"))
}

/// `env` on a PostgreSQL database of its own, with the first admin's password set: what a test
/// that signs in as the admin of a distributed deployment needs.
pub async fn with_own_metastore(mut env: Vec<(String, String)>, admin_password: &str) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != "NEXUSLOG_METASTORE_POSTGRES_URL");
    env.push(("NEXUSLOG_METASTORE_POSTGRES_URL".into(), fresh_database().await));
    with_admin_password(env, admin_password)
}

/// `env` with the first admin's password set.
pub fn with_admin_password(mut env: Vec<(String, String)>, admin_password: &str) -> Vec<(String, String)> {
    env.push(("NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD".into(), admin_password.into()));
    env
}

/// Signs in through the API; returns the access token.
pub async fn login(url: &str, email: &str, password: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{url}/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200, "login as {email}");
    resp.json::<serde_json::Value>().await.expect("json")["access_token"].as_str().expect("token").to_owned()
}

/// `GET /v1/search` over the last day with the node's key (up to 200 hits).
pub async fn search(node: &Node, q: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/v1/search", node.url))
        .query(&[("q", q), ("from", "now-1d"), ("limit", "200")])
        .bearer_auth(&node.api_key)
        .send()
        .await
        .expect("search answers")
        .json()
        .await
        .expect("json")
}

/// `POST /v1/logs/bulk` with the node's key; the status and the answer.
pub async fn bulk(node: &Node, body: String) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new().post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&node.api_key).body(body).send().await.expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}
