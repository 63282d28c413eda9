//! Live tail end to end, on the embedded path and on Kafka with two API instances: a filtered
//! subscriber receives exactly its project's matching events, a slow subscriber is told what
//! it missed while memory stays bounded, and a revoked key's stream is closed.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::{Duration, Instant};

use nexuslog_common::testing::unique_name;
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "admin password for tests";

/// A Server-Sent Events reader over a streaming HTTP response.
struct Sse {
    resp: reqwest::Response,
    buf: String,
}

#[derive(Debug, Clone, PartialEq)]
struct SseEvent {
    event: String,
    data: Value,
}

impl Sse {
    async fn open(url: &str, token: &str) -> Sse {
        let resp = reqwest::Client::new().get(url).bearer_auth(token).send().await.expect("tail request");
        assert_eq!(resp.status(), 200, "tail opens: {url}");
        assert!(resp.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/event-stream"));
        Sse { resp, buf: String::new() }
    }

    /// The next event (heartbeat comments skipped), or `None` at the end of the stream or
    /// after `within`.
    async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = "message".to_owned();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (heartbeat)
                }
                return Some(SseEvent { event, data: serde_json::from_str(&data).unwrap_or(Value::String(data)) });
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None) | Err(_)) | Err(_) => return None,
            }
        }
    }
}

struct Setup {
    /// Where events are ingested.
    ingest_url: String,
    /// Where tails are opened (another API instance on the Kafka path).
    tail_url: String,
    admin: String,
    key: String,
}

async fn call(url: &str, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{url}{path}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn ingest(url: &str, key: &str, events: &[Value]) {
    let body: Vec<String> = events.iter().map(Value::to_string).collect();
    let resp = reqwest::Client::new().post(format!("{url}/v1/logs/bulk")).bearer_auth(key).body(body.join("\n")).send().await.expect("ingest");
    assert_eq!(resp.status(), 200);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

async fn a_filtered_tail_gets_exactly_its_projects_matching_events(s: &Setup) {
    let run = unique_name("tail").replace('-', "");
    // Another project with its own ingest key: its events must never reach this tail.
    let (status, other) = call(&s.ingest_url, &s.admin, reqwest::Method::POST, "/v1/projects", Some(json!({"slug": format!("o{}", &run[..12]), "name": "Other"}))).await;
    assert_eq!(status, 201, "{other}");
    let slug = other["project"]["slug"].as_str().expect("slug").to_owned();
    let (status, other_key) =
        call(&s.ingest_url, &s.admin, reqwest::Method::POST, &format!("/v1/projects/{slug}/api-keys"), Some(json!({"name": "ingest", "scopes": ["ingest"]}))).await;
    assert_eq!(status, 201, "{other_key}");
    let other_key = other_key["key"].as_str().expect("secret").to_owned();

    let mut tail = Sse::open(&format!("{}/v1/projects/default/tail?q=level:error%20{run}", s.tail_url), &s.admin).await;
    // The reader starts at the end of the stream: give it a moment to be there.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = Instant::now();
    let mut events = Vec::new();
    for i in 0..20 {
        let level = if i % 2 == 0 { "error" } else { "info" };
        events.push(json!({"level": level, "message": format!("{run} request {i}"), "seq": i}));
    }
    ingest(&s.ingest_url, &s.key, &events).await;
    ingest(&s.ingest_url, &other_key, &[json!({"level": "error", "message": format!("{run} from another project")})]).await;

    let mut got = Vec::new();
    while got.len() < 10 {
        let e = tail.next(Duration::from_secs(30)).await.expect("a matching event within 30 s");
        assert_eq!(e.event, "message", "{e:?}");
        got.push(e.data);
    }
    let latency = sent.elapsed();
    let mut seqs: Vec<i64> = got.iter().map(|r| r["fields"]["seq"].as_i64().unwrap_or(-1)).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..20).step_by(2).collect::<Vec<i64>>(), "exactly the errors of this run");
    // Nothing more: not the info lines, not the other project's error.
    assert_eq!(tail.next(Duration::from_secs(3)).await, None);
    eprintln!("tail: 10 events received {latency:?} after the ingest request was sent");
}

async fn a_slow_tail_is_told_what_it_missed_and_memory_stays_bounded(s: &Setup, pid: u32) {
    let run = unique_name("slow").replace('-', "");
    let mut tail = Sse::open(&format!("{}/v1/projects/default/tail?q={run}", s.tail_url), &s.admin).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = rss_kib(pid);
    // The client reads nothing while 40 000 events (≈ 8 MB of JSON) stream by: far more than
    // the socket buffers and the tail's buffer hold.
    let payload = "x".repeat(120);
    for chunk in 0..20 {
        let events: Vec<Value> = (0..2000).map(|i| json!({"message": format!("{run} {chunk}-{i} {payload}")})).collect();
        ingest(&s.ingest_url, &s.key, &events).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_kib(pid);
    let mut skipped = 0;
    let mut records = 0;
    while let Some(e) = tail.next(Duration::from_secs(5)).await {
        match e.event.as_str() {
            "skipped" => skipped += e.data["count"].as_u64().unwrap_or(0),
            _ => records += 1,
        }
        if records + skipped >= 40_000 {
            break;
        }
    }
    assert!(skipped > 0, "a slow client is told it missed records (got {records} records)");
    assert_eq!(records + skipped, 40_000, "every record is either delivered or counted as skipped");
    let growth_mib = after.saturating_sub(before) / 1024;
    eprintln!("slow tail: {records} delivered, {skipped} skipped; RSS {before} KiB → {after} KiB");
    assert!(growth_mib < 256, "memory stays bounded while a client does not read: grew {growth_mib} MiB");
}

async fn a_revoked_keys_tail_is_closed(s: &Setup) {
    let (status, key) =
        call(&s.ingest_url, &s.admin, reqwest::Method::POST, "/v1/projects/default/api-keys", Some(json!({"name": "reader", "scopes": ["read"]}))).await;
    assert_eq!(status, 201, "{key}");
    let secret = key["key"].as_str().expect("secret").to_owned();
    let id = key["id"].as_str().expect("id").to_owned();
    let mut tail = Sse::open(&format!("{}/v1/tail", s.tail_url), &secret).await;
    let (status, _) = call(&s.ingest_url, &s.admin, reqwest::Method::DELETE, &format!("/v1/projects/default/api-keys/{id}"), None).await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    let closed = loop {
        match tail.next(Duration::from_secs(10)).await {
            Some(e) if e.event == "closed" => break e,
            Some(_) => continue,
            None => panic!("the stream of a revoked key must say it is closed"),
        }
    };
    assert!(closed.data["reason"].as_str().is_some_and(|r| r.contains("revoked")), "{closed:?}");
    assert_eq!(tail.next(Duration::from_secs(2)).await, None, "and then end");
    eprintln!("revoked key's tail closed {:?} after the revocation", revoked.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_live_tail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::with_admin_password(support::standalone_env(dir.path()), ADMIN_PASSWORD);
    env.push(("NEXUSLOG_TAIL_BUFFER".into(), "100".into()));
    let key = support::test_key();
    let node = support::start(&[], env, &key).await;
    let admin = support::login(&node.url, "admin@localhost", ADMIN_PASSWORD).await;
    let s = Setup { ingest_url: node.url.clone(), tail_url: node.url.clone(), admin, key };
    a_filtered_tail_gets_exactly_its_projects_matching_events(&s).await;
    a_slow_tail_is_told_what_it_missed_and_memory_stays_bounded(&s, node.child.id()).await;
    a_revoked_keys_tail_is_closed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_live_tail_on_a_second_api_instance() {
    let prefix = unique_name("tail");
    let mut env = support::with_own_metastore(support::distributed_env(&prefix), ADMIN_PASSWORD).await;
    env.push(("NEXUSLOG_TAIL_BUFFER".into(), "100".into()));
    let key = support::test_key();
    let node = support::start(&["standalone"], env.clone(), &key).await;
    let api = support::start(&["api"], env, &key).await;
    let admin = support::login(&api.url, "admin@localhost", ADMIN_PASSWORD).await;
    let s = Setup { ingest_url: node.url.clone(), tail_url: api.url.clone(), admin, key };
    a_filtered_tail_gets_exactly_its_projects_matching_events(&s).await;
    a_slow_tail_is_told_what_it_missed_and_memory_stays_bounded(&s, api.child.id()).await;
    a_revoked_keys_tail_is_closed(&s).await;
}
