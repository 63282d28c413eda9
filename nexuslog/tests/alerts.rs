//! Alerting end to end, on the embedded path and on Kafka + PostgreSQL + Redis with two
//! processor replicas: a rule created through the API fires on the event that crosses its
//! threshold, a webhook receiver started here gets a signed notification, and a receiver that
//! fails twice sees the same delivery id on the third attempt, with three attempts in the history.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use nexuslog_common::testing::{unique_name, wait_until};
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "admin password for tests";
const SECRET: &str = "webhook signing secret";

#[derive(Default)]
struct Receiver {
    /// (delivery id header, body, signature header) of every request, in arrival order.
    requests: Vec<(String, Value, String)>,
    /// Requests answered 500 before succeeding, per delivery id.
    fail_first: usize,
    seen: HashMap<String, usize>,
}

type Shared = Arc<Mutex<Receiver>>;

async fn hook(State(r): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut r = r.lock().expect("lock");
    let delivery = header("x-nexuslog-delivery");
    let expected = format!("sha256={}", hex::encode(nexuslog_alerting::channel::hmac_sha256(SECRET.as_bytes(), &body)));
    let signature = header("x-nexuslog-signature");
    assert_eq!(signature, expected, "the signature is the HMAC-SHA256 of the raw body");
    r.requests.push((delivery.clone(), serde_json::from_slice(&body).unwrap_or(Value::Null), signature));
    let fail_first = r.fail_first;
    let n = r.seen.entry(delivery).or_default();
    *n += 1;
    if *n <= fail_first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn start_receiver(fail_first: usize) -> (String, Shared) {
    let shared: Shared = Arc::new(Mutex::new(Receiver { fail_first, ..Receiver::default() }));
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), shared)
}

struct Client {
    url: String,
    admin: String,
    key: String,
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.url)).bearer_auth(&self.admin);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
    }

    async fn ingest(&self, events: &[Value]) {
        let body: Vec<String> = events.iter().map(Value::to_string).collect();
        let resp = reqwest::Client::new().post(format!("{}/v1/logs/bulk", self.url)).bearer_auth(&self.key).body(body.join("\n")).send().await.expect("ingest");
        assert_eq!(resp.status(), 200);
    }
}

fn alert_env(mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    env.push(("NEXUSLOG_ALERTING_ALLOW_PRIVATE_TARGETS".into(), "true".into()));
    env.push(("NEXUSLOG_ALERTING_RETRY_INITIAL_MS".into(), "200".into()));
    env
}

async fn a_count_rule_fires_and_its_webhook_is_delivered_once(c: &Client) {
    let run = unique_name("alert").replace('-', "");
    let p = "/v1/projects/default";
    let (hook_url, receiver) = start_receiver(2).await;

    // Validation errors name the field.
    let (status, v) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(json!({"name": "x", "window": "1m"}))).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("condition")), "{v}");
    let (status, v) =
        c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "meta", "type": "webhook", "config": {"url": "http://169.254.169.254/x"}}))).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("config.url")), "metadata addresses are refused: {v}");

    let (status, channel) = c
        .call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}})))
        .await;
    assert_eq!(status, 201, "{channel}");
    assert_eq!(channel["config"]["secret"], "********", "secrets are not returned");
    let channel_id = channel["id"].as_str().expect("id").to_owned();
    // A test notification reports what the receiver answered (this one fails its first two).
    let (status, tested) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels/{channel_id}/test"), None).await;
    assert_eq!((status, tested["ok"].as_bool(), tested["detail"].as_str()), (200, Some(false), Some("HTTP 500")), "{tested}");
    {
        let mut r = receiver.lock().expect("lock");
        assert_eq!(r.requests.len(), 1);
        assert_eq!(r.requests[0].1["rule"]["name"], "Test of channel hook");
        r.requests.clear();
    }
    let rule = json!({"name": format!("errors {run}"), "query": format!("level:error {run}"), "window": "1m",
        "condition": {"op": ">", "threshold": 4}, "severity": "critical", "channels": [channel_id], "labels": {"team": "core"}});
    let (status, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule)).await;
    assert_eq!(status, 201, "{created}");
    let rule_id = created["id"].as_str().expect("id").to_owned();
    // Rules reach the processors within a second.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let now = chrono::Utc::now();
    let event = |i: i64, level: &str| json!({"timestamp": now.timestamp_millis() + i, "level": level, "message": format!("request failed {run} #{i}")});
    // Four errors: not yet over 4; noise of another level does not count.
    c.ingest(&[event(0, "error"), event(1, "error"), event(2, "error"), event(3, "error"), event(4, "info")]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(receiver.lock().expect("lock").requests.is_empty(), "four errors do not cross `> 4`");
    c.ingest(&[event(5, "error")]).await;

    // Two 500s, then success: three requests with one delivery id.
    let requests = wait_until("three webhook attempts", Duration::from_secs(60), || async {
        let r = receiver.lock().expect("lock");
        (r.requests.len() >= 3).then(|| r.requests.clone())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.lock().expect("lock").requests.len(), 3, "delivered once, not again");
    let ids: Vec<&str> = requests.iter().map(|(d, _, _)| d.as_str()).collect();
    assert!(ids.iter().all(|d| *d == ids[0]) && !ids[0].is_empty(), "one delivery id across retries: {ids:?}");
    let body = &requests[2].1;
    assert_eq!(body["delivery_id"], ids[0]);
    assert_eq!((body["state"].as_str(), body["value"].as_f64(), body["threshold"].as_f64()), (Some("firing"), Some(5.0), Some(4.0)), "{body}");
    assert_eq!(body["rule"]["id"], rule_id);
    assert_eq!((body["severity"].as_str(), body["labels"]["team"].as_str()), (Some("critical"), Some("core")));
    assert_eq!(body["samples"].as_array().map(Vec::len), Some(5), "the window's matching events: {body}");
    assert!(body["link"].as_str().is_some_and(|l| l.contains("/search?q=")), "{body}");

    // The history: one transition, one delivery, three attempts, the last one ok.
    let alerts = wait_until("the delivery recorded as delivered", Duration::from_secs(10), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={rule_id}"), None).await;
        let done = v["alerts"][0]["notifications"][0]["status"] == "delivered";
        done.then_some(v)
    })
    .await;
    let list = alerts["alerts"].as_array().expect("alerts");
    assert_eq!(list.len(), 1, "{alerts}");
    let attempts = list[0]["notifications"][0]["attempts"].as_array().expect("attempts");
    let oks: Vec<bool> = attempts.iter().map(|a| a["ok"].as_bool().unwrap_or_default()).collect();
    assert_eq!(oks, vec![false, false, true], "{alerts}");
    assert_eq!((list[0]["from"].as_str(), list[0]["to"].as_str()), (Some("ok"), Some("firing")));

    // The rule's live state says firing with the current value.
    let state = wait_until("the rule's state published", Duration::from_secs(10), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("{p}/alert-rules/{rule_id}"), None).await;
        (v["state"]["groups"][0]["state"] == "firing").then_some(v)
    })
    .await;
    assert_eq!(state["state"]["groups"][0]["value"].as_f64(), Some(5.0), "{state}");

    // Acknowledge.
    let alert_id = list[0]["id"].as_str().expect("id");
    let (status, acked) = c.call(reqwest::Method::POST, &format!("{p}/alerts/{alert_id}/ack"), None).await;
    assert_eq!(status, 200, "{acked}");
    assert!(acked["acked_by"].as_str().is_some_and(|a| a.starts_with("user:")), "{acked}");

    // Disabled through the API: more errors in a new window do not fire again.
    let mut disabled = created.clone();
    for k in ["id", "created_at", "updated_at"] {
        disabled.as_object_mut().expect("object").remove(k);
    }
    disabled["enabled"] = json!(false);
    let (status, v) = c.call(reqwest::Method::PUT, &format!("{p}/alert-rules/{rule_id}"), Some(disabled)).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_alerts_fire_and_notify_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    a_count_rule_fires_and_its_webhook_is_delivered_once(&Client { url: node.url.clone(), admin, key }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_alerts_fire_and_notify_once_with_two_processor_replicas() {
    let prefix = unique_name("alerts");
    let env = alert_env(support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await);
    let key = support::test_key();
    let node = support::start(&["standalone"], env.clone(), &key).await;
    let mut replica = env;
    replica.push(("NEXUSLOG_BUS_KAFKA_INSTANCE_ID".into(), "replica-2".into()));
    let _replica = support::start(&["processor"], replica, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    a_count_rule_fires_and_its_webhook_is_delivered_once(&Client { url: node.url.clone(), admin, key }).await;
}

/// aiosmtpd (installed by `scripts/python-deps.sh`) on a free port, storing mail in a Maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> SmtpServer {
    let cache = std::env::var_os("NEXUSLOG_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nexuslog"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port");
    let maildir = tempfile::tempdir().expect("tempdir");
    let child = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("mail"))
        .env("PYTHONPATH", cache.join("python"))
        .spawn()
        .expect("aiosmtpd starts (run scripts/python-deps.sh)");
    SmtpServer { child, port, maildir }
}

impl SmtpServer {
    /// The messages received so far, quoted-printable decoded.
    fn messages(&self) -> Vec<String> {
        let dir = self.maildir.path().join("mail/new");
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| std::fs::read_to_string(e.path()).ok()).map(|m| quoted_printable(&m)).collect())
            .unwrap_or_default()
    }
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` escapes.
fn quoted_printable(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_reaches_a_real_smtp_server_with_the_rendered_subject_and_body() {
    let smtp = start_smtp();
    wait_until("aiosmtpd listening", Duration::from_secs(20), || async { tokio::net::TcpStream::connect(("127.0.0.1", smtp.port)).await.ok() }).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    for (k, v) in [
        ("NEXUSLOG_ALERTING_SMTP_HOST", "127.0.0.1".to_owned()),
        ("NEXUSLOG_ALERTING_SMTP_PORT", smtp.port.to_string()),
        ("NEXUSLOG_ALERTING_SMTP_TLS", "none".to_owned()),
        ("NEXUSLOG_ALERTING_SMTP_FROM", "NexusLog <alerts@nexuslog.test>".to_owned()),
    ] {
        env.push((k.into(), v));
    }
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin, key };
    let p = "/v1/projects/default";
    let run = unique_name("mail").replace('-', "");

    let (status, channel) =
        c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "oncall", "type": "email", "config": {"to": ["oncall@example.com"]}}))).await;
    assert_eq!(status, 201, "{channel}");
    let rule = json!({"name": format!("payment failures {run}"), "query": run, "window": "1m", "condition": {"op": ">=", "threshold": 1},
        "channels": [channel["id"]], "message": "{{value}} payment failures on {{group}}", "group_by": ["host"]});
    let (status, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule)).await;
    assert_eq!(status, 201, "{created}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.ingest(&[json!({"level": "error", "host": "pay-1", "message": format!("card declined {run}")})]).await;

    let mail = wait_until("a mail in the SMTP server's mailbox", Duration::from_secs(60), || async { smtp.messages().into_iter().next() }).await;
    assert!(mail.contains(&format!("Subject: [FIRING] payment failures {run} (warning)")), "{mail}");
    assert!(mail.contains("To: oncall@example.com") && mail.contains("alerts@nexuslog.test"), "{mail}");
    assert!(mail.contains("1 payment failures on pay-1"), "the rendered template: {mail}");
    assert!(mail.contains("Group:     host=pay-1"), "{mail}");
    assert!(mail.contains(&format!("/v1/projects/default/search?q={run}&from=")), "the link names the project by its slug: {mail}");
    let alerts = wait_until("the mail recorded as delivered", Duration::from_secs(10), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={}", created["id"].as_str().unwrap_or_default()), None).await;
        (v["alerts"][0]["notifications"][0]["status"] == "delivered").then_some(v)
    })
    .await;
    let detail = alerts["alerts"][0]["notifications"][0]["attempts"][0]["detail"].as_str().unwrap_or_default().to_owned();
    assert!(detail.starts_with("SMTP 250"), "{alerts}");
    assert_eq!(smtp.messages().len(), 1, "one transition, one mail");
}

fn kill_9(mut node: support::Node) {
    node.child.kill().expect("kill -9");
    node.child.wait().expect("reaped");
}

/// Events of one window, half before and half after the processes are killed with SIGKILL and
/// restarted: the window fires once, with the exact count. The window lies `ahead` in the
/// future (event times are capped at their receipt for the watermark, so it stays open while
/// the processes restart).
async fn a_window_spanning_a_kill_fires_once_with_the_exact_value(c: &Client, ahead: Duration, restart: impl AsyncFnOnce() -> Client) {
    let run = unique_name("kill").replace('-', "");
    let p = "/v1/projects/default";
    let (hook_url, receiver) = start_receiver(0).await;
    let (_, channel) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}}))).await;
    // `for` as long as the window: judged when the window closes, on its final count.
    let rule = json!({"name": format!("crash {run}"), "query": run, "window": "10s", "for": "10s", "allowed_lateness": "2s",
        "condition": {"op": ">", "threshold": 5}, "channels": [channel["id"]]});
    let (status, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule)).await;
    assert_eq!(status, 201, "{created}");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let now_ms = chrono::Utc::now().timestamp_millis();
    let start = (now_ms + i64::try_from(ahead.as_millis()).unwrap_or(0)) / 10_000 * 10_000 + 10_000;
    let event = |i: i64| json!({"timestamp": start + i * 100, "level": "error", "message": format!("crash test {run} {i}")});
    c.ingest(&[event(0), event(1), event(2)]).await;
    // Processed (and its partials committed) before the kill: searchable means the processor's
    // transaction is done.
    wait_until("the first half processed", Duration::from_secs(30), || async {
        let from = start.to_string();
        let to = (start + 10_000).to_string();
        let (_, v) = c.call(reqwest::Method::GET, &format!("/v1/search?project=default&q={run}&from={from}&to={to}"), None).await;
        (v["total"].as_u64() == Some(3)).then_some(())
    })
    .await;
    let c = restart().await;
    c.ingest(&[event(3), event(4), event(5)]).await;

    let requests = wait_until("the firing notification", ahead + Duration::from_secs(60), || async {
        let r = receiver.lock().expect("lock");
        (!r.requests.is_empty()).then(|| r.requests.clone())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = receiver.lock().expect("lock").requests.clone();
    assert_eq!(all.len(), 1, "exactly one notification: {all:?}");
    let body = &requests[0].1;
    assert_eq!((body["state"].as_str(), body["value"].as_f64()), (Some("firing"), Some(6.0)), "the exact count over the kill: {body}");
    let (_, history) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={}", created["id"].as_str().unwrap_or_default()), None).await;
    assert_eq!(history["alerts"].as_array().map(Vec::len), Some(1), "one transition: {history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_window_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    let key = support::test_key();
    let node = support::start(&[], env.clone(), &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin: admin.clone(), key: key.clone() };
    let mut slot = Some(node);
    let mut restarted = None;
    a_window_spanning_a_kill_fires_once_with_the_exact_value(&c, Duration::from_secs(20), async || {
        if let Some(n) = slot.take() {
            kill_9(n);
        }
        let node = support::start(&[], env, &key).await;
        let c = Client { url: node.url.clone(), admin, key: key.clone() };
        restarted = Some(node);
        c
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_window_survives_kill_9_of_both_processor_replicas() {
    let prefix = unique_name("alertkill");
    let env = alert_env(support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await);
    let key = support::test_key();
    let node = support::start(&["standalone"], env.clone(), &key).await;
    let mut replica_env = env.clone();
    replica_env.push(("NEXUSLOG_BUS_KAFKA_INSTANCE_ID".into(), "replica-2".into()));
    let replica = support::start(&["processor"], replica_env.clone(), &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin: admin.clone(), key: key.clone() };
    let mut slots = Some((node, replica));
    let mut restarted = None;
    a_window_spanning_a_kill_fires_once_with_the_exact_value(&c, Duration::from_secs(45), async || {
        if let Some((n, r)) = slots.take() {
            kill_9(r);
            kill_9(n);
        }
        let node = support::start(&["standalone"], env, &key).await;
        let replica = support::start(&["processor"], replica_env, &key).await;
        let c = Client { url: node.url.clone(), admin, key: key.clone() };
        restarted = Some((node, replica));
        c
    })
    .await;
}

/// Notifications received, by rule name.
fn by_rule(receiver: &Shared) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for (_, body, _) in &receiver.lock().expect("lock").requests {
        out.entry(body["rule"]["name"].as_str().unwrap_or_default().to_owned()).or_default().push(body.clone());
    }
    out
}

/// Several rules over one window `ahead` in the future: an exact count of events spread over
/// every partition, a group-by that fires for one group, an average, an out-of-order event
/// within the lateness, an event after the window closed (late, not counted), and an absence.
async fn rules_judge_a_window_exactly(c: &Client, ahead: Duration) {
    let run = unique_name("rules").replace('-', "");
    let p = "/v1/projects/default";
    let (hook_url, receiver) = start_receiver(0).await;
    let (_, channel) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}}))).await;
    let ch = channel["id"].clone();
    // `for` equal to the window: each is judged on the closed window's exact value.
    let base = json!({"window": "10s", "for": "10s", "allowed_lateness": "3s", "channels": [ch]});
    let rule = |name: &str, extra: Value| {
        let mut r = base.clone();
        r["name"] = json!(name);
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            r[k] = v;
        }
        r
    };
    let rules = [
        rule("spread", json!({"query": format!("spread{run}"), "condition": {"op": "==", "threshold": 300}})),
        rule("by-host", json!({"query": format!("byhost{run}"), "group_by": ["host"], "condition": {"op": ">=", "threshold": 3}})),
        rule("avg", json!({"query": format!("avg{run}"), "aggregation": {"avg": {"field": "latency_ms"}}, "condition": {"op": ">", "threshold": 150}})),
        rule("ooo", json!({"query": format!("ooo{run}"), "condition": {"op": ">=", "threshold": 3}})),
        rule("late", json!({"query": format!("late{run}"), "condition": {"op": ">=", "threshold": 3}})),
        rule("absence", json!({"query": format!("absent{run}"), "kind": "absence", "for": "0s", "allowed_lateness": "0s"})),
        rule("pending", json!({"query": format!("pending{run}"), "for": "30s", "condition": {"op": ">=", "threshold": 1}})),
    ];
    let mut ids = HashMap::new();
    for r in &rules {
        let (status, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(r.clone())).await;
        assert_eq!(status, 201, "{created}");
        ids.insert(r["name"].as_str().unwrap_or_default().to_owned(), created["id"].as_str().unwrap_or_default().to_owned());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let now_ms = chrono::Utc::now().timestamp_millis();
    let start = (now_ms + i64::try_from(ahead.as_millis()).unwrap_or(0)) / 10_000 * 10_000 + 10_000;
    let at = |ms: i64| start + ms;
    let mut events: Vec<Value> = (0..300).map(|i| json!({"timestamp": at(i * 20), "message": format!("spread{run} {i}")})).collect();
    for (i, host) in ["h1", "h2", "h1", "h1", "h2"].iter().enumerate() {
        events.push(json!({"timestamp": at(100 + i as i64), "host": host, "message": format!("byhost{run}")}));
    }
    for v in [100, 300] {
        events.push(json!({"timestamp": at(200), "latency_ms": v, "message": format!("avg{run}")}));
    }
    events.push(json!({"timestamp": at(9000), "message": format!("ooo{run} a")}));
    events.push(json!({"timestamp": at(9500), "message": format!("ooo{run} b")}));
    events.push(json!({"timestamp": at(300), "message": format!("pending{run}")}));
    events.push(json!({"timestamp": at(1000), "message": format!("late{run} a")}));
    events.push(json!({"timestamp": at(1100), "message": format!("late{run} b")}));
    c.ingest(&events).await;
    // Out of order, within the lateness: older than what was already processed, still counted.
    tokio::time::sleep(Duration::from_secs(1)).await;
    c.ingest(&[json!({"timestamp": at(500), "message": format!("ooo{run} c")})]).await;

    let fired = wait_until("the window's notifications", ahead + Duration::from_secs(60), || async {
        let m = by_rule(&receiver);
        ["spread", "by-host", "avg", "ooo"].iter().all(|r| m.contains_key(*r)).then_some(m)
    })
    .await;
    // Closed now: a third `late` event for it arrives after the window and its lateness.
    c.ingest(&[json!({"timestamp": at(1200), "message": format!("late{run} c")})]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fired = {
        let mut m = by_rule(&receiver);
        m.retain(|k, _| fired.contains_key(k) || k == "late" || k == "absence");
        m
    };
    let value = |r: &str| fired[r][0]["value"].as_f64();
    assert_eq!(value("spread"), Some(300.0), "every event over every partition, once");
    assert_eq!(fired["by-host"].len(), 1, "only one group crosses: {:?}", fired["by-host"]);
    assert_eq!(fired["by-host"][0]["group"]["host"], "h1");
    assert_eq!(value("avg"), Some(200.0));
    assert_eq!(value("ooo"), Some(3.0), "the out-of-order event counts");
    assert!(!fired.contains_key("late"), "an event after the window closed does not count: {:?}", fired.get("late"));
    let (_, late) = c.call(reqwest::Method::GET, &format!("{p}/alert-rules/{}", ids["late"]), None).await;
    let late_events = wait_until("the late event counted on the rule", Duration::from_secs(10), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("{p}/alert-rules/{}", ids["late"]), None).await;
        v["state"]["late_events"].as_u64().filter(|n| *n >= 1)
    })
    .await;
    assert_eq!(late_events, 1, "{late}");
    // Nothing matched the absence rule since it was created: it fires once a whole window passed.
    let absent = wait_until("the absence rule firing", Duration::from_secs(30), || async { by_rule(&receiver).remove("absence") }).await;
    assert_eq!((absent[0]["state"].as_str(), absent[0]["value"].as_f64()), (Some("firing"), Some(0.0)));
    // Held for one window of the 30 s it needs: pending, in the history, notifying nobody.
    let (_, history) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={}", ids["pending"]), None).await;
    let moves: Vec<(String, String)> = history["alerts"]
        .as_array()
        .map(|a| a.iter().map(|t| (t["from"].as_str().unwrap_or_default().to_owned(), t["to"].as_str().unwrap_or_default().to_owned())).collect())
        .unwrap_or_default();
    assert!(moves.contains(&("ok".to_owned(), "pending".to_owned())), "{history}");
    assert!(!by_rule(&receiver).contains_key("pending"), "pending notifies nobody");
}

/// A rule changed through the API acts within 2 s: lowered, it fires on the next event;
/// disabled, it does not.
async fn rule_changes_take_effect_within_2_seconds(c: &Client) {
    let run = unique_name("change").replace('-', "");
    let p = "/v1/projects/default";
    let (hook_url, receiver) = start_receiver(0).await;
    let (_, channel) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}}))).await;
    let mut rule = json!({"name": "change", "query": run, "window": "1m", "condition": {"op": ">", "threshold": 100}, "channels": [channel["id"]]});
    let (_, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule.clone())).await;
    let id = created["id"].as_str().expect("id").to_owned();
    // One event time for both, so they share a window whatever minute boundary the test crosses.
    let t0 = chrono::Utc::now().timestamp_millis();
    let event = |i: u32| json!({"timestamp": t0, "message": format!("{run} {i}")});
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.ingest(&[event(0)]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(receiver.lock().expect("lock").requests.is_empty(), "1 is not > 100");

    rule["condition"]["threshold"] = json!(1);
    let (status, _) = c.call(reqwest::Method::PUT, &format!("{p}/alert-rules/{id}"), Some(rule.clone())).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.ingest(&[event(1)]).await;
    let first = wait_until("the lowered rule firing", Duration::from_secs(20), || async {
        let r = receiver.lock().expect("lock");
        r.requests.first().map(|x| x.1.clone())
    })
    .await;
    assert_eq!(first["value"].as_f64(), Some(2.0), "both events of the window count: {first}");

    // Disabled: a new run of events does not notify.
    rule["enabled"] = json!(false);
    rule["query"] = json!(format!("{run}x"));
    c.call(reqwest::Method::PUT, &format!("{p}/alert-rules/{id}"), Some(rule)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.ingest(&[json!({"message": format!("{run}x 1")}), json!({"message": format!("{run}x 2")}), json!({"message": format!("{run}x 3")})]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.lock().expect("lock").requests.len(), 1, "a disabled rule is silent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_rules_judge_windows_exactly_and_follow_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin, key };
    rules_judge_a_window_exactly(&c, Duration::from_secs(15)).await;
    rule_changes_take_effect_within_2_seconds(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_rules_judge_windows_exactly_and_follow_changes_with_two_replicas() {
    let prefix = unique_name("alertrules");
    let env = alert_env(support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await);
    let key = support::test_key();
    let node = support::start(&["standalone"], env.clone(), &key).await;
    let mut replica = env;
    replica.push(("NEXUSLOG_BUS_KAFKA_INSTANCE_ID".into(), "replica-2".into()));
    let _replica = support::start(&["processor"], replica, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin, key };
    rules_judge_a_window_exactly(&c, Duration::from_secs(15)).await;
    rule_changes_take_effect_within_2_seconds(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_over_the_throttle_are_recorded_not_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    env.push(("NEXUSLOG_ALERTING_THROTTLE_PER_MINUTE".into(), "1".into()));
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin, key };
    let p = "/v1/projects/default";
    let run = unique_name("throttle").replace('-', "");
    let (hook_url, receiver) = start_receiver(0).await;
    let (_, channel) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}}))).await;
    let rule = json!({"name": "per host", "query": run, "window": "1m", "group_by": ["host"], "condition": {"op": ">=", "threshold": 1}, "channels": [channel["id"]]});
    let (_, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Two groups fire in the same minute: one notification goes out, the other is throttled.
    c.ingest(&[json!({"host": "a", "message": run}), json!({"host": "b", "message": run})]).await;
    let history = wait_until("both transitions recorded and decided", Duration::from_secs(30), || async {
        let (_, v) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={}", created["id"].as_str().unwrap_or_default()), None).await;
        let alerts = v["alerts"].as_array().cloned().unwrap_or_default();
        let decided = alerts.len() == 2 && alerts.iter().all(|a| a["notifications"][0]["status"] != "pending");
        decided.then_some(alerts)
    })
    .await;
    let mut statuses: Vec<String> = history.iter().map(|a| a["notifications"][0]["status"].as_str().unwrap_or_default().to_owned()).collect();
    statuses.sort();
    assert_eq!(statuses, vec!["delivered", "throttled"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.lock().expect("lock").requests.len(), 1);
}

/// The process is killed between two attempts of one delivery: after the restart the same
/// delivery id is retried and delivered once; the history keeps both attempts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_interrupted_by_kill_9_resumes_under_its_delivery_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = alert_env(support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD));
    env.retain(|(k, _)| k != "NEXUSLOG_ALERTING_RETRY_INITIAL_MS");
    env.push(("NEXUSLOG_ALERTING_RETRY_INITIAL_MS".into(), "60000".into()));
    let key = support::test_key();
    let node = support::start(&[], env.clone(), &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let c = Client { url: node.url.clone(), admin: admin.clone(), key: key.clone() };
    let p = "/v1/projects/default";
    let run = unique_name("resume").replace('-', "");
    let (hook_url, receiver) = start_receiver(1).await;
    let (_, channel) = c.call(reqwest::Method::POST, &format!("{p}/alert-channels"), Some(json!({"name": "hook", "type": "webhook", "config": {"url": hook_url, "secret": SECRET}}))).await;
    let rule = json!({"name": "resume", "query": run, "window": "1m", "condition": {"op": ">=", "threshold": 1}, "channels": [channel["id"]]});
    let (_, created) = c.call(reqwest::Method::POST, &format!("{p}/alert-rules"), Some(rule)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.ingest(&[json!({"message": run})]).await;
    // The first attempt fails; the next one would come a minute later: kill now.
    wait_until("the first attempt", Duration::from_secs(30), || async { (!receiver.lock().expect("lock").requests.is_empty()).then_some(()) }).await;
    kill_9(node);

    env.retain(|(k, _)| k != "NEXUSLOG_ALERTING_RETRY_INITIAL_MS");
    let node = support::start(&[], env, &key).await;
    let c = Client { url: node.url.clone(), admin, key };
    let requests = wait_until("the delivery resumed after the restart", Duration::from_secs(60), || async {
        let r = receiver.lock().expect("lock");
        (r.requests.len() >= 2).then(|| r.requests.clone())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.lock().expect("lock").requests.len(), 2, "delivered once after the retry");
    assert_eq!(requests[0].0, requests[1].0, "the same delivery id before and after the crash");
    let (_, history) = c.call(reqwest::Method::GET, &format!("{p}/alerts?rule_id={}", created["id"].as_str().unwrap_or_default()), None).await;
    assert_eq!(history["alerts"].as_array().map(Vec::len), Some(1), "{history}");
    let attempts: Vec<bool> =
        history["alerts"][0]["notifications"][0]["attempts"].as_array().map(|a| a.iter().map(|x| x["ok"].as_bool().unwrap_or_default()).collect()).unwrap_or_default();
    assert_eq!(attempts, vec![false, true], "{history}");
    drop(node);
}
