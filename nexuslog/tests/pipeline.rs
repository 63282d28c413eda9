//! End to end over the real services: HTTP in, Kafka, processor, sink, OpenSearch, search out.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::io::Write;
use std::time::Duration;

use nexuslog_bus::{Bus, KafkaBus, KafkaBusConfig, Topics};
use nexuslog_common::testing::{service_env, unique_name, wait_until};
use nexuslog_schemas::wire::{Codec, RegistryCodec};
use nexuslog_schemas::{DeadLetter, Stage};
use serde_json::Value;

async fn search(node: &support::Node, q: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/v1/search", node.url))
        .query(&[("q", q), ("from", "2023-01-01T00:00:00Z"), ("limit", "100")])
        .bearer_auth(&node.api_key)
        .send()
        .await
        .expect("search answers")
        .json()
        .await
        .expect("json")
}

/// Sends a mixed request and checks what search returns; returns the run id.
async fn ingest_and_search(node: &support::Node) {
    let client = reqwest::Client::new();
    let run = unique_name("run");

    // NDJSON with a JSON event, a plain-text event and one broken line.
    let body = format!(
        "{{\"ts\":\"2023-11-14T22:13:20.5Z\",\"level\":\"WARNING\",\"msg\":\"disk almost full\",\"host\":\"db-1\",\"service\":\"postgres\",\"run\":\"{run}\",\"pct\":97.5,\"mount\":{{\"path\":\"/var\"}}}}\n\
         2023-11-14 22:13:21 ERROR {run} payment gateway timeout\n\
         {{\"broken\": \n"
    );
    let resp = client.post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&node.api_key).body(body).send().await.expect("post");
    assert_eq!(resp.status(), 200);
    let ack: Value = resp.json().await.expect("json");
    assert_eq!(ack["accepted"], 2, "{ack}");
    assert_eq!(ack["rejected"][0]["line"], 3, "{ack}");

    // A gzip-compressed JSON array through X-API-Key.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!(r#"[{{"message":"compressed one","run":"{run}"}},{{"message":"compressed two","run":"{run}"}}]"#).as_bytes()).expect("gzip");
    let resp = client
        .post(format!("{}/v1/logs/bulk", node.url))
        .header("X-API-Key", &node.api_key)
        .header("Content-Encoding", "gzip")
        .body(gz.finish().expect("gzip"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);

    let found = wait_until("the three events with a run field searchable", Duration::from_secs(60), || async {
        let v = search(node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(3)).then_some(v)
    })
    .await;
    let hits = found["hits"].as_array().expect("hits");
    let json_event = hits.iter().find(|h| h["message"] == "disk almost full").expect("json event");
    assert_eq!(json_event["level"], "warn");
    assert_eq!(json_event["host"], "db-1");
    assert_eq!(json_event["service"], "postgres");
    assert_eq!(json_event["timestamp"], "2023-11-14T22:13:20.500000Z");
    assert_eq!(json_event["timestamp_source"], "event");
    assert_eq!(json_event["fields"]["pct"], 97.5);
    assert_eq!(json_event["fields"]["mount.path"], "/var");
    // The plain-text line has no `run` field: find it by text.
    let text = wait_until("plain-text event searchable", Duration::from_secs(30), || async {
        let v = search(node, &format!("{run} payment")).await;
        (v["total"].as_u64() == Some(1)).then_some(v)
    })
    .await;
    assert_eq!(text["hits"][0]["level"], "error");
    assert_eq!(text["hits"][0]["timestamp"], "2023-11-14T22:13:21.000000Z");
    let errors = search(node, &format!("run:{run} level:warn")).await;
    assert_eq!(errors["total"], 1, "field filters combine: {errors}");
}

fn assert_broken_line_dead_lettered(letters: &[DeadLetter]) {
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].stage, Stage::Gateway);
    assert_eq!(letters[0].error_kind, "invalid_json");
    assert!(letters[0].reason.contains("line 3"), "{}", letters[0].reason);
    assert_eq!(letters[0].original, b"{\"broken\":");
}

#[tokio::test]
async fn distributed_events_become_searchable_normalized_and_bad_lines_are_dead_lettered() {
    let prefix = unique_name("e2e");
    let node = support::start(&["standalone"], support::keeping_history(support::distributed_env(&prefix)), &support::test_key()).await;
    ingest_and_search(&node).await;

    // The broken line is in the dead-letter topic with its reason and original bytes.
    let bus = KafkaBus::new(KafkaBusConfig::new(service_env("KAFKA_BROKERS"))).expect("kafka");
    let topics = Topics::with_prefix(&node.topic_prefix);
    let codec = Codec::Registry(RegistryCodec::new(&service_env("SCHEMA_REGISTRY_URL")).expect("registry"));
    let mut consumer = bus.consumer(&unique_name("dlq-reader"), std::slice::from_ref(&topics.deadletter)).await.expect("consumer");
    let mut letters: Vec<DeadLetter> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while letters.is_empty() && std::time::Instant::now() < deadline {
        for r in consumer.poll(10, Duration::from_millis(500)).await.expect("poll") {
            letters.push(codec.decode(&r.payload).await.expect("dead letter decodes"));
        }
    }
    assert_broken_line_dead_lettered(&letters);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_events_become_searchable_and_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = support::keeping_history(support::standalone_env(dir.path()));
    let key = support::test_key();
    let mut node = support::start(&[], env.clone(), &key).await;
    ingest_and_search(&node).await;

    // Acknowledged, then killed at once: the events must be there after a restart.
    let run = unique_name("kill");
    let body: String = (0..500).map(|i| format!("{{\"message\":\"after ack {i}\",\"run\":\"{run}\"}}\n")).collect();
    let resp = reqwest::Client::new().post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&key).body(body).send().await.expect("post");
    assert_eq!(resp.status(), 200);
    node.child.kill().expect("kill -9");
    node.child.wait().expect("reaped");
    drop(node);

    let node = support::start(&[], env.clone(), &key).await;
    let found = wait_until("acknowledged events after restart", Duration::from_secs(60), || async {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/v1/search", node.url))
            .query(&[("q", format!("run:{run}").as_str()), ("limit", "1")])
            .bearer_auth(&key)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["total"].as_u64() == Some(500)).then_some(v)
    })
    .await;
    assert_eq!(found["total"], 500, "none lost, none duplicated");
    drop(node);

    // The embedded log holds the dead letter; read it the way an operator tool would.
    let letters = support::embedded_dead_letters(dir.path()).await;
    assert_broken_line_dead_lettered(&letters);
}

#[tokio::test]
async fn client_errors_have_actionable_status_codes() {
    let prefix = unique_name("e2e-codes");
    let mut env = support::distributed_env(&prefix);
    env.push(("NEXUSLOG_HTTP_MAX_BODY_BYTES".into(), "1000".into()));
    env.push(("NEXUSLOG_HTTP_MAX_EVENT_BYTES".into(), "100".into()));
    let node = support::start(&["standalone"], env, &support::test_key()).await;
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>, key: Option<&str>| {
        let mut req = client.post(format!("{}/v1/logs/bulk", node.url)).body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send()
    };
    assert_eq!(post(b"x".to_vec(), None).await.expect("post").status(), 401);
    assert_eq!(post(b"x".to_vec(), Some("nxl_not_a_real_key_at_all")).await.expect("post").status(), 401);
    assert_eq!(post(vec![b'a'; 2000], Some(&node.api_key)).await.expect("post").status(), 413);
    let resp = post(b"[1, 2".to_vec(), Some(&node.api_key)).await.expect("post");
    assert_eq!(resp.status(), 400, "an unparseable array is refused whole");
    let resp = post(format!("{}\nok line", "y".repeat(150)).into_bytes(), Some(&node.api_key)).await.expect("post");
    assert_eq!(resp.status(), 200, "valid lines of a partly bad request are accepted");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["accepted"], 1);
    assert!(v["rejected"][0]["reason"].as_str().expect("reason").contains("exceeds"), "{v}");
    let bad_search = client.get(format!("{}/v1/search?from=yesterday", node.url)).bearer_auth(&node.api_key).send().await.expect("get");
    assert_eq!(bad_search.status(), 400);
}

#[tokio::test]
async fn a_key_over_its_rate_limit_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_HTTP_RATE_LIMIT_EVENTS_PER_SEC".into(), "10".into()));
    let node = support::start(&[], env, &support::test_key()).await;
    let client = reqwest::Client::new();
    let body = "a\n".repeat(10);
    let first = client.post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&node.api_key).body(body.clone()).send().await.expect("post");
    assert_eq!(first.status(), 200, "the first second's worth passes");
    let second = client.post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&node.api_key).body(body).send().await.expect("post");
    assert_eq!(second.status(), 429);
    let retry: u64 = second.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=2).contains(&retry), "retry after {retry}s");
}

/// Two gateway replicas sharing Redis share one budget per key: 80 events through each within
/// one second exceed 100/s together, although each replica alone is under it.
#[tokio::test]
async fn gateway_replicas_share_one_rate_limit_per_key() {
    let prefix = unique_name("quota");
    let mut env = support::distributed_env(&prefix);
    env.push(("NEXUSLOG_HTTP_RATE_LIMIT_EVENTS_PER_SEC".into(), "100".into()));
    let key = support::test_key();
    let a = support::start(&["gateway"], env.clone(), &key).await;
    let b = support::start(&["gateway"], env, &key).await;
    let client = reqwest::Client::new();
    let body = "shared budget\n".repeat(80);
    let post = |url: String| client.post(format!("{url}/v1/logs/bulk")).bearer_auth(&key).body(body.clone()).send();
    // One token bucket per key in Redis, bursts of one second's worth: the second replica's
    // 80 would need 0.6 s of refill.
    let first = post(a.url.clone()).await.expect("post to a").status();
    assert_eq!(first, 200, "the first replica's 80 are within the budget");
    let second = post(b.url.clone()).await.expect("post to b");
    assert_eq!(second.status(), 429, "the second replica admitted 80 more events of the same 100/s budget");
    assert!(second.headers().contains_key("retry-after"));
}

/// The distributed environment, its bus on the broker's SASL/PLAIN listener as `user` with
/// `password`.
fn sasl_env(prefix: &str, user: &str, password: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = support::distributed_env(prefix).into_iter().filter(|(k, _)| k != "NEXUSLOG_BUS_KAFKA_BROKERS").collect();
    env.extend([
        ("NEXUSLOG_BUS_KAFKA_BROKERS".into(), service_env("KAFKA_SASL_BROKERS")),
        ("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL".into(), "sasl_plaintext".into()),
        ("NEXUSLOG_BUS_KAFKA_SASL_MECHANISM".into(), "PLAIN".into()),
        ("NEXUSLOG_BUS_KAFKA_SASL_USERNAME".into(), user.into()),
        ("NEXUSLOG_BUS_KAFKA_SASL_PASSWORD".into(), password.into()),
    ]);
    env
}

/// With `bus.kafka.security_protocol = sasl_plaintext` every client (gateway, processor, sink,
/// admin) authenticates, and events flow as on the plain listener.
#[tokio::test]
async fn the_bus_authenticates_with_sasl() {
    let env = sasl_env(&unique_name("sasl"), &service_env("KAFKA_SASL_USER"), &service_env("KAFKA_SASL_PASSWORD"));
    let node = support::start(&[], env, &support::test_key()).await;
    let run = unique_name("run");
    let (status, ack) = support::bulk(&node, format!("{{\"run\":\"{run}\",\"message\":\"over sasl\"}}")).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(1)), "{ack}");
    wait_until("the event searchable", Duration::from_secs(60), || async { (support::search(&node, &format!("run:{run}")).await["total"] == 1).then_some(()) }).await;
}

/// Starts nexuslog with `env`, expects it to exit unsuccessfully, and returns what it printed.
async fn failed_start(env: Vec<(String, String)>) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("stderr.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nexuslog"))
        .envs(env)
        .env("NEXUSLOG_DATA_DIR", dir.path())
        .env("NEXUSLOG_HTTP_ADDR", "127.0.0.1:0")
        .env_remove("NEXUSLOG_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn nexuslog");
    let status = wait_until("nexuslog to exit", Duration::from_secs(90), || {
        let exited = child.try_wait().expect("wait");
        async move { exited }
    })
    .await;
    let stderr = std::fs::read_to_string(&log).expect("stderr");
    assert!(!status.success(), "the start should fail: {stderr}");
    stderr
}

/// A wrong password stops the start with an error naming the setting, instead of a process that
/// runs and never delivers.
#[tokio::test]
async fn a_wrong_sasl_password_fails_the_start_clearly() {
    let stderr = failed_start(sasl_env(&unique_name("sasl"), &service_env("KAFKA_SASL_USER"), "not-the-password")).await;
    assert!(stderr.contains("bus.kafka"), "names the setting: {stderr}");
    assert!(stderr.to_lowercase().contains("authentication"), "says authentication failed: {stderr}");
}

fn tls_file(name: &str) -> String {
    format!("{}/{name}", service_env("TLS_DIR"))
}

/// The distributed environment with every backend connection over TLS, verified against the
/// test CA: Kafka over SASL_SSL with SCRAM-SHA-512, OpenSearch over https with a client
/// certificate, PostgreSQL with `verify-full`, Redis over `rediss://`, the registry over https.
/// `ca` names the CA file each client trusts.
fn tls_env(prefix: &str, ca: &str, scram_password: &str) -> Vec<(String, String)> {
    let replaced = ["NEXUSLOG_BUS_KAFKA_BROKERS", "NEXUSLOG_LOGSTORE_OPENSEARCH_URL", "NEXUSLOG_METASTORE_POSTGRES_URL", "NEXUSLOG_STATE_REDIS_URL", "NEXUSLOG_SCHEMA_REGISTRY_URL"];
    let mut env: Vec<(String, String)> = support::distributed_env(prefix).into_iter().filter(|(k, _)| !replaced.contains(&k.as_str())).collect();
    let ca = tls_file(ca);
    env.extend(
        [
            ("NEXUSLOG_BUS_KAFKA_BROKERS", service_env("KAFKA_SASL_SSL_BROKERS")),
            ("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "sasl_ssl".into()),
            ("NEXUSLOG_BUS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512".into()),
            ("NEXUSLOG_BUS_KAFKA_SASL_USERNAME", service_env("KAFKA_SASL_USER")),
            ("NEXUSLOG_BUS_KAFKA_SASL_PASSWORD", scram_password.into()),
            ("NEXUSLOG_BUS_KAFKA_TLS_CA", ca.clone()),
            ("NEXUSLOG_LOGSTORE_OPENSEARCH_URL", service_env("OPENSEARCH_TLS_URL")),
            ("NEXUSLOG_LOGSTORE_OPENSEARCH_TLS_CA", ca.clone()),
            ("NEXUSLOG_LOGSTORE_OPENSEARCH_TLS_CERT", tls_file("client.pem")),
            ("NEXUSLOG_LOGSTORE_OPENSEARCH_TLS_KEY", tls_file("client.key")),
            ("NEXUSLOG_METASTORE_POSTGRES_URL", service_env("POSTGRES_TLS_URL")),
            ("NEXUSLOG_METASTORE_POSTGRES_SSLMODE", "verify-full".into()),
            ("NEXUSLOG_METASTORE_POSTGRES_TLS_CA", ca.clone()),
            ("NEXUSLOG_STATE_REDIS_URL", service_env("REDIS_TLS_URL")),
            ("NEXUSLOG_STATE_REDIS_TLS_CA", ca.clone()),
            ("NEXUSLOG_SCHEMA_REGISTRY_URL", service_env("SCHEMA_REGISTRY_TLS_URL")),
            ("NEXUSLOG_SCHEMA_REGISTRY_TLS_CA", ca),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    env
}

/// The whole data path with TLS on every hop: HTTP ingest → Kafka over SASL_SSL → processors →
/// OpenSearch over https → search, metadata and state over TLS too.
#[tokio::test]
async fn the_data_path_runs_over_tls_to_every_backend() {
    let env = tls_env(&unique_name("tls"), "ca.pem", &service_env("KAFKA_SASL_PASSWORD"));
    let node = support::start(&[], env, &support::test_key()).await;
    let run = unique_name("run");
    let (status, ack) = support::bulk(&node, format!("{{\"run\":\"{run}\",\"message\":\"over tls\"}}")).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(1)), "{ack}");
    wait_until("the event searchable", Duration::from_secs(60), || async { (support::search(&node, &format!("run:{run}")).await["total"] == 1).then_some(()) }).await;
}

/// Kafka's SSL listener demands a client certificate: `bus.kafka.tls_cert`/`tls_key` give one.
#[tokio::test]
async fn the_bus_authenticates_with_a_client_certificate() {
    let prefix = unique_name("mtls");
    let mut env: Vec<(String, String)> = support::distributed_env(&prefix).into_iter().filter(|(k, _)| k != "NEXUSLOG_BUS_KAFKA_BROKERS").collect();
    env.extend(
        [
            ("NEXUSLOG_BUS_KAFKA_BROKERS", service_env("KAFKA_SSL_BROKERS")),
            ("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "ssl".into()),
            ("NEXUSLOG_BUS_KAFKA_TLS_CA", tls_file("ca.pem")),
            ("NEXUSLOG_BUS_KAFKA_TLS_CERT", tls_file("client.pem")),
            ("NEXUSLOG_BUS_KAFKA_TLS_KEY", tls_file("client.key")),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let node = support::start(&[], env, &support::test_key()).await;
    let run = unique_name("run");
    let (status, ack) = support::bulk(&node, format!("{{\"run\":\"{run}\",\"message\":\"over mtls\"}}")).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(1)), "{ack}");
    wait_until("the event searchable", Duration::from_secs(60), || async { (support::search(&node, &format!("run:{run}")).await["total"] == 1).then_some(()) }).await;
}

/// A CA that did not sign a backend's certificate, or a wrong SCRAM password, stops the start
/// with an error naming the setting to fix; nothing falls back to plain text.
#[tokio::test]
async fn a_wrong_ca_or_scram_password_fails_the_start_naming_the_setting() {
    let good = || tls_env(&unique_name("tlsbad"), "ca.pem", &service_env("KAFKA_SASL_PASSWORD"));
    let with = |key: &str, value: String| {
        let mut env: Vec<(String, String)> = good().into_iter().filter(|(k, _)| k != key).collect();
        env.push((key.to_owned(), value));
        env
    };
    let cases = [
        (with("NEXUSLOG_BUS_KAFKA_TLS_CA", tls_file("other-ca.pem")), "bus.kafka.tls_ca"),
        (with("NEXUSLOG_BUS_KAFKA_SASL_PASSWORD", "not-the-password".into()), "bus.kafka.sasl_password"),
        (with("NEXUSLOG_LOGSTORE_OPENSEARCH_TLS_CA", tls_file("other-ca.pem")), "logstore.opensearch.tls_ca"),
        (with("NEXUSLOG_METASTORE_POSTGRES_TLS_CA", tls_file("other-ca.pem")), "metastore.postgres.tls_ca"),
        (with("NEXUSLOG_STATE_REDIS_TLS_CA", tls_file("other-ca.pem")), "state.redis.tls_ca"),
        (with("NEXUSLOG_BUS_KAFKA_TLS_CA", "/nonexistent/ca.pem".into()), "bus.kafka.tls_ca"),
    ];
    for (env, setting) in cases {
        let stderr = failed_start(env).await;
        assert!(stderr.contains(setting), "names `{setting}`: {stderr}");
    }
}
