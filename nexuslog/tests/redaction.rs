//! Redaction before the first write, end to end. A corpus with a secret of every built-in kind
//! — in JSON fields, in message text, in a syslog line and in a line the gateway dead-letters —
//! goes to a standalone NexusLog (embedded stores) and to the distributed path (Kafka,
//! OpenSearch, PostgreSQL). Afterwards no secret is anywhere: not in search answers, not in any
//! byte of the data directory (zstd frames decompressed), not in any record of any Kafka topic
//! read from the beginning, not in any OpenSearch document, not in NexusLog's own log. A
//! canary sent beside the secrets is found by the same scans, which proves they see stored
//! events. Search shows the masked and hashed forms, and equal secrets hash equally. A rule
//! change through the API applies to the next events.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use nexuslog_bus::{Bus, KafkaBus, KafkaBusConfig, Topics};
use nexuslog_common::testing::{service_env, unique_name, wait_until};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "redaction-admin-password-1";

/// The secrets of the corpus, built at run time from parts (so this file holds none whole).
struct Secrets {
    card: String,
    card_in_field: String,
    jwt: String,
    aws_key_id: String,
    aws_secret: String,
    bearer: String,
    pem_body: String,
    json_password: String,
    text_password: String,
    syslog_token: String,
    dead_letter_password: String,
}

impl Secrets {
    fn new() -> Self {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        Self {
            card: ["4111", "1111", "1111", "1111"].join(" "),
            card_in_field: ["5500", "0000", "0000", "0004"].join("-"),
            jwt: format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{tag}In0.{}", "c2lnbmF0dXJlLXZhbHVl"),
            aws_key_id: format!("AKIA{}", tag.to_uppercase().replace(|c: char| !c.is_ascii_alphanumeric(), "X") + "QWERTYXY"),
            aws_secret: format!("wJalrXUtnFEMI/K7MDENG/{tag}{}", "bPxRfiCYEX"),
            bearer: format!("tok{tag}{}", "ABCDEFGHIJ12345"),
            pem_body: format!("MIIEowIBAAKCAQEA{tag}"),
            json_password: format!("pw-{tag}-json"),
            text_password: format!("pw-{tag}-text"),
            syslog_token: format!("sl-{tag}-token"),
            dead_letter_password: format!("pw-{tag}-dead"),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.card,
            &self.card_in_field,
            &self.jwt,
            &self.aws_key_id,
            &self.aws_secret,
            &self.bearer,
            &self.pem_body,
            &self.json_password,
            &self.text_password,
            &self.syslog_token,
            &self.dead_letter_password,
        ]
    }

    /// Two JSON events and a malformed line, as one NDJSON body.
    fn body(&self, canary: &str) -> String {
        let first = json!({
            "message": format!("{canary} paid with {} using key {} and aws_secret_access_key={} session {} password={}", self.card, self.aws_key_id, self.aws_secret, self.jwt, self.text_password),
            "service": "checkout",
            "card": self.card_in_field,
            "password": self.json_password,
            "auth": format!("Bearer {}", self.bearer),
            "key": format!("-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----", self.pem_body),
        });
        // The same token again: its hash must be the same.
        let second = json!({ "message": format!("{canary} again session {}", self.jwt), "service": "checkout" });
        let malformed = format!("{{\"message\": \"{canary} broken password={}", self.dead_letter_password);
        format!("{first}\n{second}\n{malformed}\n")
    }
}

async fn send_syslog(port: u16, canary: &str, s: &Secrets) {
    // Stamped now: search looks at the last day (a fixed date made this test expire).
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let line = format!("<134>1 {now} host-a app 1 - - {canary} syslog login token={} jwt {}\n", s.syslog_token, s.jwt);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("syslog connect");
    stream.write_all(line.as_bytes()).expect("syslog write");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Sends the corpus and checks what search shows; returns once the three events are searchable.
async fn send_and_check_search(node: &support::Node, syslog_port: u16, canary: &str, s: &Secrets) {
    let (status, answer) = support::bulk(node, s.body(canary)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["rejected"].as_array().map(Vec::len), Some(1), "{answer}");
    send_syslog(syslog_port, canary, s).await;
    let hits = wait_until("the three events searchable", Duration::from_secs(60), || async {
        let v = support::search(node, canary).await;
        let hits = v["hits"].as_array().cloned().unwrap_or_default();
        (hits.len() == 3).then_some(hits)
    })
    .await;
    let text = serde_json::to_string(&hits).expect("json");
    for secret in s.all() {
        assert!(!text.contains(secret), "search shows {secret:?}: {text}");
    }
    let first = hits.iter().find(|h| h["message"].as_str().is_some_and(|m| m.contains("paid with"))).expect("first event");
    let message = first["message"].as_str().expect("message");
    assert!(message.contains("***************1111"), "card masked to its last four: {message}");
    assert!(message.contains("password=[REDACTED]"), "{message}");
    let field = |h: &Value, name: &str| h["fields"][name].clone();
    assert_eq!(field(first, "card"), "***************0004");
    assert_eq!(field(first, "password"), "[REDACTED]");
    assert!(field(first, "key").as_str().is_some_and(|k| k == "[REDACTED]"), "{}", field(first, "key"));
    let fired = field(first, "ingest.redacted");
    let fired = fired.as_str().expect("the rules that fired are recorded");
    for rule in ["private_key", "jwt", "bearer_token", "aws_access_key_id", "aws_secret_access_key", "secret_field", "secret_key_value", "credit_card"] {
        assert!(fired.split(',').any(|f| f == rule), "{rule} not in {fired}");
    }
    // Equal secrets hash equally (the first event's and the second's session token).
    let token_of = |m: &str| m.split_whitespace().skip_while(|w| *w != "session").nth(1).map(str::to_owned);
    let second = hits.iter().find(|h| h["message"].as_str().is_some_and(|m| m.contains("again session"))).expect("second event");
    let (a, b) = (token_of(message).expect("token"), token_of(second["message"].as_str().expect("message")).expect("token"));
    assert!(a.starts_with("hmac_"), "{a}");
    assert_eq!(a, b, "the same JWT gives the same hash");
    // The hash is searchable: the three events carrying that token come back, whichever
    // protocol brought them.
    let by_hash = support::search(node, &a).await;
    assert_eq!(by_hash["hits"].as_array().map(Vec::len), Some(3), "{by_hash}");
    let syslog = hits.iter().find(|h| h["message"].as_str().is_some_and(|m| m.contains("syslog login"))).expect("syslog event");
    assert!(syslog["message"].as_str().is_some_and(|m| m.contains("token=[REDACTED]") && m.contains("jwt hmac_")), "{syslog}");
}

/// A rule change through the API applies to the next events: the project's own pattern is
/// hashed, and a built-in turned off no longer masks.
async fn change_rules(node: &support::Node, canary: &str) {
    let token = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let http = reqwest::Client::new();
    let spec = json!({ "builtins": { "credit_card": false }, "rules": [{ "name": "employee", "pattern": "EMP-(\\d{6})", "action": "hash" }] });
    let dry = http
        .post(format!("{}/v1/projects/default/redaction/dry-run", node.url))
        .bearer_auth(&token)
        .json(&json!({ "spec": spec, "lines": ["badge EMP-123456 card 4012 8888 8888 1881"] }))
        .send()
        .await
        .expect("dry run");
    assert_eq!(dry.status(), 200);
    let dry: Value = dry.json().await.expect("json");
    let out = dry["results"][0]["output"].as_str().expect("output");
    assert!(out.starts_with("badge EMP-hmac_") && out.ends_with("card 4012 8888 8888 1881"), "{out}");
    assert_eq!(dry["results"][0]["redacted"], json!(["employee"]));

    let rules_url = format!("{}/v1/projects/default/redaction", node.url);
    let current = async || -> Value { http.get(&rules_url).bearer_auth(&token).send().await.expect("get").json().await.expect("json") };
    let before = current().await;
    let bad = http.put(&rules_url).bearer_auth(&token).json(&json!({ "rules": [{ "name": "x", "pattern": "(", "action": "mask" }] })).send().await.expect("put");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap_or_default().contains("redaction rule x"));
    let unknown = http.put(&rules_url).bearer_auth(&token).json(&json!({ "builtins": { "no_such_rule": false } })).send().await.expect("put");
    assert_eq!(unknown.status(), 400, "an unknown built-in is refused");
    let bad_dry = http.post(format!("{rules_url}/dry-run")).bearer_auth(&token).json(&json!({ "lines": "not a list" })).send().await.expect("dry run");
    assert_eq!(bad_dry.status(), 400);
    assert_eq!(current().await, before, "refused changes store nothing");
    // The ingest key may read but not change the rules.
    let refused = http.put(format!("{}/v1/projects/default/redaction", node.url)).bearer_auth(&node.api_key).json(&spec).send().await.expect("put");
    assert_eq!(refused.status(), 403);
    let saved = http.put(format!("{}/v1/projects/default/redaction", node.url)).bearer_auth(&token).json(&spec).send().await.expect("put");
    assert_eq!(saved.status(), 200);
    let shown: Value = http.get(format!("{}/v1/projects/default/redaction", node.url)).bearer_auth(&token).send().await.expect("get").json().await.expect("json");
    assert_eq!(shown["spec"], spec);
    let card = shown["builtins"].as_array().and_then(|b| b.iter().find(|b| b["name"] == "credit_card")).expect("credit_card listed");
    assert_eq!(card["enabled"], false);

    // Gateways reload within two seconds; send until the new rules show.
    let marker = format!("{canary}-changed");
    let mut attempt = 0;
    wait_until("the changed rules applied", Duration::from_secs(30), || {
        attempt += 1;
        let probe = format!("{marker}-{attempt}");
        async move {
            let (status, _) = support::bulk(node, format!("{}\n", json!({ "message": format!("{probe} badge EMP-654321 card 4012 8888 8888 1881") }))).await;
            assert_eq!(status, 200);
            // This probe searchable, then: redacted by the old rules or the new?
            let hits = wait_until("the probe searchable", Duration::from_secs(20), || async {
                let hits = support::search(node, &probe).await["hits"].as_array().cloned().unwrap_or_default();
                (!hits.is_empty()).then_some(hits)
            })
            .await;
            hits.iter().any(|h| h["message"].as_str().is_some_and(|m| m.contains("EMP-hmac_") && m.contains("4012 8888 8888 1881"))).then_some(())
        }
    })
    .await;
    let audit: Value = http.get(format!("{}/v1/projects/default/audit", node.url)).bearer_auth(&token).send().await.expect("audit").json().await.expect("json");
    assert!(audit.to_string().contains("redaction.update"), "the change is audited: {audit}");
}

/// Every byte of the files under `dir`, and the decompressed contents of every zstd frame in
/// them (the embedded log and the index's document store compress).
fn readable_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else { continue };
            let mut expanded = bytes.clone();
            let magic = [0x28, 0xb5, 0x2f, 0xfd];
            let mut at = 0;
            while let Some(pos) = bytes[at..].windows(4).position(|w| w == magic) {
                let start = at + pos;
                if let Ok(decoder) = zstd::stream::read::Decoder::new(&bytes[start..]) {
                    let mut frame = Vec::new();
                    let _ = decoder.single_frame().take(64 << 20).read_to_end(&mut frame);
                    expanded.extend_from_slice(&frame);
                }
                at = start + 4;
            }
            out.push((path.display().to_string(), expanded));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn assert_log_clean(node: &support::Node, s: &Secrets) {
    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
    for secret in s.all() {
        assert!(!log.contains(secret), "NexusLog's own log holds {secret:?}");
    }
}

/// Starts NexusLog with `env` and a syslog TCP listener, sends the corpus, checks search,
/// changes the rules and checks NexusLog's own log; returns the node, the secrets and the canary.
async fn exercise(mut env: Vec<(String, String)>) -> (support::Node, Secrets, String) {
    let syslog_port = free_port();
    env.push(("NEXUSLOG_SYSLOG_TCP_ADDR".into(), format!("127.0.0.1:{syslog_port}")));
    env.push(("NEXUSLOG_SYSLOG_DEFAULT_PROJECT".into(), "default".into()));
    let node = support::start(&["standalone"], env, &support::test_key()).await;
    let (s, canary) = (Secrets::new(), unique_name("canary"));
    send_and_check_search(&node, syslog_port, &canary, &s).await;
    change_rules(&node, &canary).await;
    assert_log_clean(&node, &s);
    (node, s, canary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_stores_keep_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (node, s, canary) = exercise(support::with_admin_password(support::standalone_env(&data), ADMIN_PASSWORD)).await;
    drop(node);

    let letters = support::embedded_dead_letters(&data).await;
    let letter = letters.iter().find(|l| contains(&l.original, &canary)).expect("the malformed line is a dead letter");
    assert!(contains(&letter.original, "password=[REDACTED]"), "{:?}", String::from_utf8_lossy(&letter.original));

    let files = readable_contents(&data);
    for (path, bytes) in &files {
        for secret in s.all() {
            assert!(!contains(bytes, secret), "{path} holds {secret:?}");
        }
    }
    // The scan sees what is stored: the canary is in the log and in the index.
    for part in ["bus", "index"] {
        assert!(
            files.iter().any(|(p, b)| p.contains(&format!("/{part}/")) && contains(b, &canary)),
            "the canary is not found under {part}/ — the scan would be blind there"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_path_keeps_no_secret() {
    let prefix = unique_name("redact");
    let (node, s, canary) = exercise(support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await).await;

    // Every topic, from the beginning.
    let bus = KafkaBus::new(KafkaBusConfig::new(service_env("KAFKA_BROKERS"))).expect("kafka");
    let topics = Topics::with_prefix(&node.topic_prefix);
    for topic in [&topics.raw, &topics.logs, &topics.alerts, &topics.deadletter] {
        let mut consumer = bus.consumer(&unique_name("scan"), std::slice::from_ref(topic)).await.expect("consumer");
        let mut seen_canary = false;
        let deadline = std::time::Instant::now() + Duration::from_secs(8);
        while std::time::Instant::now() < deadline {
            for r in consumer.poll(500, Duration::from_millis(500)).await.expect("poll") {
                for secret in s.all() {
                    assert!(!contains(&r.payload, secret), "{topic} holds {secret:?}");
                }
                seen_canary |= contains(&r.payload, &canary);
            }
        }
        // Processed records are deleted once indexed; the raw and dead-letter topics keep theirs.
        if topic == &topics.raw || topic == &topics.deadletter {
            assert!(seen_canary, "the canary is not found in {topic} — the scan would be blind there");
        }
    }

    // Every document of every index of this test.
    let os = service_env("OPENSEARCH_URL");
    let http = reqwest::Client::new();
    let _ = http.post(format!("{os}/{prefix}-*/_refresh")).send().await;
    let docs = http.get(format!("{os}/{prefix}-*/_search?size=1000")).send().await.expect("search").text().await.expect("text");
    assert!(docs.contains(&canary), "the canary is not in OpenSearch: {}", &docs[..docs.len().min(500)]);
    for secret in s.all() {
        assert!(!docs.contains(secret), "OpenSearch holds {secret:?}");
    }
}
