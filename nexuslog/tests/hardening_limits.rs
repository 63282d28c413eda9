//! Scenarios from the hardening review (issue #16) about limits of shared resources: sink
//! batches against a log store that refuses requests (3), ingest that authenticates before it
//! reads and bounds connections (10), syslog batches and certificate projects (11), pipeline
//! rules (9).

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use nexuslog_bus::{Bus, KafkaBus, KafkaBusConfig, Topics};
use nexuslog_common::testing::{service_env, unique_name, wait_until};
use nexuslog_schemas::wire::{Codec, RegistryCodec};
use nexuslog_schemas::DeadLetter;
use serde_json::Value;
use support::{bulk, search};



/// The value of an unlabelled counter in the node's `/metrics` (0 when not yet reported).
async fn counter(node: &support::Node, name: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", node.url)).await.expect("metrics").text().await.expect("text");
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Every dead letter in the node's Kafka dead-letter topic, read for `wait`.
async fn kafka_dead_letters(node: &support::Node, wait: Duration) -> Vec<DeadLetter> {
    let bus = KafkaBus::new(KafkaBusConfig::new(service_env("KAFKA_BROKERS"))).expect("kafka");
    let topics = Topics::with_prefix(&node.topic_prefix);
    let codec = Codec::Registry(RegistryCodec::new(&service_env("SCHEMA_REGISTRY_URL")).expect("registry"));
    let mut consumer = bus.consumer(&unique_name("dlq-reader"), std::slice::from_ref(&topics.deadletter)).await.expect("consumer");
    let mut letters = Vec::new();
    let deadline = std::time::Instant::now() + wait;
    while std::time::Instant::now() < deadline {
        for r in consumer.poll(100, Duration::from_millis(500)).await.expect("poll") {
            letters.push(codec.decode(&r.payload).await.expect("dead letter decodes"));
        }
    }
    letters
}

// ---------------------------------------------------------------------------------------------
// 3. Sink batches against a log store that refuses whole requests
// ---------------------------------------------------------------------------------------------

/// What the proxy in front of OpenSearch does with `_bulk` requests.
#[derive(Default)]
struct ProxyRules {
    /// Answer every `_bulk` with this status and body (content type, body) instead of forwarding.
    refuse: Option<(u16, &'static str, &'static str)>,
    /// Answer 413 with a proxy's HTML page to `_bulk` bodies larger than this.
    too_large_above: Option<usize>,
    /// Body sizes of the `_bulk` requests forwarded.
    forwarded: Vec<usize>,
    /// Statuses answered instead of forwarding.
    refused: Vec<u16>,
}

/// An HTTP proxy in front of the real OpenSearch, playing a proxy or security plugin that
/// refuses bulk requests (401/403 for a while, 413 above a body size) with non-JSON bodies.
#[derive(Clone)]
struct StoreProxy {
    url: String,
    rules: Arc<Mutex<ProxyRules>>,
}

impl StoreProxy {
    fn rules(&self) -> std::sync::MutexGuard<'_, ProxyRules> {
        self.rules.lock().expect("proxy rules")
    }
}

async fn store_proxy() -> StoreProxy {
    let real = service_env("OPENSEARCH_URL").trim_end_matches('/').to_owned();
    let rules = Arc::new(Mutex::new(ProxyRules::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = (real, rules.clone(), reqwest::Client::new());
    let app = axum::Router::new().fallback(forward).with_state(Arc::new(state));
    tokio::spawn(async move { axum::serve(listener, app).await });
    StoreProxy { url, rules }
}

type ProxyState = Arc<(String, Arc<Mutex<ProxyRules>>, reqwest::Client)>;

async fn forward(State(state): State<ProxyState>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let (real, rules, client) = &*state;
    if uri.path().ends_with("/_bulk") {
        let mut r = rules.lock().expect("proxy rules");
        let refusal = match (r.refuse, r.too_large_above) {
            (Some(refusal), _) => Some(refusal),
            (None, Some(max)) if body.len() > max => {
                Some((413, "text/html", "<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>"))
            }
            _ => None,
        };
        if let Some((status, content_type, text)) = refusal {
            r.refused.push(status);
            return (StatusCode::from_u16(status).expect("status"), [("content-type", content_type)], text).into_response();
        }
        r.forwarded.push(body.len());
    }
    let target = format!("{real}{}", uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut request = client.request(method, target).body(body);
    if let Some(ct) = headers.get("content-type") {
        request = request.header("content-type", ct);
    }
    match request.send().await {
        Ok(resp) => {
            let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
            let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_owned();
            let bytes = resp.bytes().await.unwrap_or_default();
            (status, [("content-type", ct)], bytes).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

fn env_behind(proxy: &StoreProxy, prefix: &str) -> Vec<(String, String)> {
    let mut env = support::distributed_env(prefix);
    env.retain(|(k, _)| k != "NEXUSLOG_LOGSTORE_OPENSEARCH_URL");
    env.push(("NEXUSLOG_LOGSTORE_OPENSEARCH_URL".into(), proxy.url.clone()));
    env
}

/// `n` events of the run, each with a message of about `size` bytes.
fn events(run: &str, n: usize, size: usize) -> String {
    let filler = "y".repeat(size);
    (0..n).map(|i| format!(r#"{{"run":"{run}","message":"event {i} {filler}"}}"#)).collect::<Vec<_>>().join("\n")
}

/// `logstore.bulk_max_bytes` bounds every `_bulk` request: 60 events of about 1 KiB each go as
/// many requests of at most 8 KiB, and all are indexed.
#[tokio::test]
async fn distributed_bulk_requests_are_bounded_by_bytes() {
    const BOUND: usize = 8 * 1024;
    let proxy = store_proxy().await;
    let mut env = env_behind(&proxy, &unique_name("bulkbytes"));
    env.push(("NEXUSLOG_LOGSTORE_BULK_MAX_BYTES".into(), BOUND.to_string()));
    let node = support::start(&[], env, &support::test_key()).await;

    let run = unique_name("bytes");
    let (status, ack) = bulk(&node, events(&run, 60, 1000)).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(60)), "{ack}");
    wait_until("the 60 events searchable", Duration::from_secs(60), || async {
        (search(&node, &format!("run:{run}")).await["total"].as_u64() == Some(60)).then_some(())
    })
    .await;
    let sizes = proxy.rules().forwarded.clone();
    assert!(sizes.iter().all(|&s| s <= BOUND), "every bulk request within {BOUND} bytes: {sizes:?}");
    assert!(sizes.len() >= 60_000 / BOUND, "the events went as several requests: {sizes:?}");
    assert_eq!(counter(&node, "nexuslog_sink_dead_letters_total").await, 0.0);
}

/// A proxy in front of OpenSearch refuses bodies over 32 KiB with 413 and an HTML page: the
/// batch is halved until its requests pass, so 100 ordinary events are indexed, and the one
/// event too large to pass alone is dead-lettered with the reason — not the batch.
#[tokio::test]
async fn distributed_a_413_splits_the_batch_and_dead_letters_only_what_never_fits() {
    const PROXY_LIMIT: usize = 32 * 1024;
    let proxy = store_proxy().await;
    proxy.rules().too_large_above = Some(PROXY_LIMIT);
    let node = support::start(&[], env_behind(&proxy, &unique_name("bulk413")), &support::test_key()).await;

    let run = unique_name("split");
    let body = format!("{}\n{}", events(&run, 100, 1000), events(&format!("{run}-big"), 1, 60_000));
    let (status, ack) = bulk(&node, body).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(101)), "{ack}");
    wait_until("the 100 ordinary events searchable", Duration::from_secs(60), || async {
        (search(&node, &format!("run:{run}")).await["total"].as_u64() == Some(100)).then_some(())
    })
    .await;
    let letters = wait_until("the big event dead-lettered", Duration::from_secs(60), || async {
        let letters = kafka_dead_letters(&node, Duration::from_secs(2)).await;
        (!letters.is_empty()).then_some(letters)
    })
    .await;
    assert_eq!(letters.len(), 1, "only the event that never fits: {:?}", letters.iter().map(|l| &l.reason).collect::<Vec<_>>());
    assert!(letters[0].reason.contains("413"), "the reason says why: {}", letters[0].reason);
    assert!(String::from_utf8_lossy(&letters[0].original).contains("-big"), "it is the big event");
    assert_eq!(search(&node, &format!("run:{run}-big")).await["total"], 0);
    let r = proxy.rules();
    assert!(r.refused.contains(&413) && r.forwarded.iter().all(|&s| s <= PROXY_LIMIT), "split below the proxy's limit: {:?}", r.forwarded);
}

/// OpenSearch (its security plugin, or a proxy) answers bulk requests 401 with an HTML page,
/// then 403 with JSON: the events wait, `/readyz` reports the log store, nothing is
/// dead-lettered, and everything is indexed once the store accepts again.
#[tokio::test]
async fn distributed_auth_refusals_hold_the_batch_and_report_not_ready() {
    let proxy = store_proxy().await;
    let node = support::start(&[], env_behind(&proxy, &unique_name("bulkauth")), &support::test_key()).await;
    proxy.rules().refuse = Some((401, "text/html", "<html><body><h1>401 Authorization Required</h1></body></html>"));

    let run = unique_name("auth");
    let (status, ack) = bulk(&node, events(&run, 20, 100)).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(20)), "{ack}");

    let client = reqwest::Client::new();
    let ready_while = |expect: u16| {
        let (client, url) = (client.clone(), node.url.clone());
        async move {
            let r = client.get(format!("{url}/readyz")).send().await.ok()?;
            let status = r.status().as_u16();
            let body: Value = r.json().await.ok()?;
            (status == expect).then_some(body)
        }
    };
    let body = wait_until("readiness reports the log store", Duration::from_secs(30), || ready_while(503)).await;
    assert_eq!(body["checks"]["logstore"], "unavailable", "{body}");

    proxy.rules().refuse = Some((
        403,
        "application/json",
        r#"{"error":{"type":"security_exception","reason":"no permissions for [indices:data/write/bulk]"},"status":403}"#,
    ));
    let refused_401 = proxy.rules().refused.len();
    wait_until("403 answered too", Duration::from_secs(30), || async { (proxy.rules().refused.len() > refused_401 + 1).then_some(()) })
        .await;
    assert_eq!(search(&node, &format!("run:{run}")).await["total"], 0, "nothing indexed while refused");
    assert_eq!(counter(&node, "nexuslog_sink_dead_letters_total").await, 0.0, "nothing dead-lettered");

    proxy.rules().refuse = None;
    wait_until("all 20 events indexed once the store accepts", Duration::from_secs(60), || async {
        (search(&node, &format!("run:{run}")).await["total"].as_u64() == Some(20)).then_some(())
    })
    .await;
    wait_until("ready again", Duration::from_secs(30), || ready_while(200)).await;
    assert_eq!(counter(&node, "nexuslog_sink_dead_letters_total").await, 0.0, "nothing dead-lettered");
    assert!(kafka_dead_letters(&node, Duration::from_secs(2)).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 10. Ingest: authenticate before reading, read timeouts, connection cap
// ---------------------------------------------------------------------------------------------

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn addr_of(node: &support::Node) -> String {
    node.url.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection or `wait` passes; returns the
/// text and whether the connection was closed.
async fn read_until_closed(conn: &mut tokio::net::TcpStream, wait: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

/// A bad key with a 5 MB body that trickles in: answered 401 at once from the headers, the
/// connection closed with the body unread. A good key with a body that stops coming: 408 after
/// `http.body_read_timeout_secs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_ingest_authenticates_before_reading_and_bounds_body_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_HTTP_BODY_READ_TIMEOUT_SECS".into(), "2".into()));
    let node = support::start(&[], env, &support::test_key()).await;
    let addr = addr_of(&node);

    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /v1/logs/bulk HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer nxl_{}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 5000000\r\n\r\n",
        "0".repeat(32)
    );
    conn.write_all(head.as_bytes()).await.expect("headers");
    conn.write_all(&[b'x'; 1024]).await.expect("first KiB of the body");
    let started = std::time::Instant::now();
    let (answer, closed) = read_until_closed(&mut conn, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "a bad key is refused from its headers: {answer:?}");
    assert!(closed && started.elapsed() < Duration::from_secs(3), "at once, the connection closed: {:?}", started.elapsed());

    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /v1/logs/bulk HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{{\"message\":",
        node.api_key
    );
    conn.write_all(head.as_bytes()).await.expect("headers and a little body");
    let started = std::time::Instant::now();
    let (answer, closed) = read_until_closed(&mut conn, Duration::from_secs(8)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "a body that stops coming times out: {answer:?}");
    assert!(closed && started.elapsed() >= Duration::from_millis(1500), "after the body timeout: {:?}", started.elapsed());

    // Ordinary requests still work.
    let (status, ack) = bulk(&node, r#"{"message":"still fine"}"#.to_owned()).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(1)), "{ack}");
}

/// Slow loris: headers sent a line at a time, never finished. The connection is closed after
/// `http.header_read_timeout_secs`, while the client is still sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_a_slow_loris_connection_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_HTTP_HEADER_READ_TIMEOUT_SECS".into(), "2".into()));
    let node = support::start(&[], env, &support::test_key()).await;

    let conn = tokio::net::TcpStream::connect(addr_of(&node)).await.expect("connect");
    let (mut reader, mut writer) = conn.into_split();
    let started = std::time::Instant::now();
    let trickle = tokio::spawn(async move {
        writer.write_all(b"POST /v1/logs/bulk HTTP/1.1\r\n").await.ok()?;
        for i in 0..40 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            writer.write_all(format!("X-Slow-{i}: a\r\n").as_bytes()).await.ok()?;
        }
        Some(())
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the slow connection was closed within 8 s");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(6), "after the 2 s header timeout: {elapsed:?}");
    trickle.abort();
    // Still serving.
    assert_eq!(reqwest::get(format!("{}/healthz", node.url)).await.expect("healthz").status(), 200);
}

/// `http.max_connections` = 3: with three idle connections open, a fourth waits unanswered;
/// it is served as soon as one of the three closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_connections_beyond_the_cap_wait_until_one_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_HTTP_MAX_CONNECTIONS".into(), "3".into()));
    let node = support::start(&[], env, &support::test_key()).await;
    let addr = addr_of(&node);
    // The readiness client's pooled connections close with it; give the server a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(&addr).await.expect("connect"));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fourth = tokio::net::TcpStream::connect(&addr).await.expect("the kernel queues the fourth");
    fourth.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).await.expect("request");
    let (answer, _) = read_until_closed(&mut fourth, Duration::from_secs(2)).await;
    assert!(answer.is_empty(), "not served while three connections are open: {answer:?}");

    drop(idle.pop());
    let (answer, _) = read_until_closed(&mut fourth, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "served once one closed: {answer:?}");
}

// ---------------------------------------------------------------------------------------------
// 11. Syslog batches bounded by bytes
// ---------------------------------------------------------------------------------------------

/// `syslog.max_batch_bytes` = 64 KiB: 2 MiB of messages sent at once over one TCP connection are
/// written to the bus in batches that stay near the bound (at most one 64 KiB read and one
/// message past it), every message arriving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_syslog_batches_are_bounded_by_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_SYSLOG_TCP_ADDR".into(), format!("127.0.0.1:{tcp}")));
    env.push(("NEXUSLOG_SYSLOG_DEFAULT_PROJECT".into(), "default".into()));
    env.push(("NEXUSLOG_SYSLOG_MAX_BATCH_BYTES".into(), "65536".into()));
    let node = support::start(&[], env, &support::test_key()).await;

    let run = unique_name("sysbatch");
    let filler = "z".repeat(1000);
    let messages: String = (0..2000).map(|i| format!("<14>1 2024-01-01T00:00:00Z host app - - - {run} {i} {filler}\n")).collect();
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", tcp)).await.expect("connect");
    conn.write_all(messages.as_bytes()).await.expect("send");
    conn.shutdown().await.expect("close");
    wait_until("the 2000 messages received", Duration::from_secs(60), || async {
        (counter(&node, "nexuslog_syslog_messages_total").await >= 2000.0).then_some(())
    })
    .await;
    let text = reqwest::get(format!("{}/metrics", node.url)).await.expect("metrics").text().await.expect("text");
    let value = |prefix: &str| -> f64 {
        text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(-1.0)
    };
    let batches = value("nexuslog_syslog_batch_bytes_count{listener=\"tcp\"}");
    let within = value("nexuslog_syslog_batch_bytes_bucket{listener=\"tcp\",le=\"262144\"}");
    assert!(batches >= 8.0, "2 MiB went as several batches: {batches}");
    assert_eq!(within, batches, "every batch under 256 KiB");
}

// ---------------------------------------------------------------------------------------------
// Backpressure: ingest held while the pipeline's backlog is over `bus.max_backlog_records`
// ---------------------------------------------------------------------------------------------

/// A gateway with no processor or sink behind it: what it accepts stays on the bus, so once
/// the sampled backlog passes the bound, HTTP ingest is refused with 503 and `Retry-After`
/// (before the body is read) and a syslog TCP connection is held unread.
#[tokio::test]
async fn ingest_is_held_while_the_pipeline_backlog_is_over_its_bound() {
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let mut env = support::distributed_env(&unique_name("backlog"));
    env.push(("NEXUSLOG_BUS_MAX_BACKLOG_RECORDS".into(), "50".into()));
    env.push(("NEXUSLOG_SYSLOG_TCP_ADDR".into(), format!("127.0.0.1:{tcp}")));
    let key = support::test_key();
    let node = support::start(&["gateway"], env, &key).await;

    let lines: String = (0..100).map(|i| format!("{{\"message\":\"backlog {i}\"}}\n")).collect();
    let (status, answer) = bulk(&node, lines.clone()).await;
    assert_eq!(status, 200, "under the bound ingest is accepted: {answer}");

    let client = reqwest::Client::new();
    let refused = wait_until("ingest refused for the backlog", Duration::from_secs(30), || {
        let (client, lines, node) = (client.clone(), lines.clone(), &node);
        async move {
            let resp = client.post(format!("{}/v1/logs/bulk", node.url)).bearer_auth(&node.api_key).body(lines).send().await.expect("post");
            (resp.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(resp)
        }
    })
    .await;
    assert_eq!(refused.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = refused.json().await.expect("json");
    let error = body["error"].as_str().expect("an error message");
    assert!(error.contains("records behind"), "{error}");

    let _held = tokio::net::TcpStream::connect(("127.0.0.1", tcp)).await.expect("syslog connects");
    wait_until("the syslog connection held", Duration::from_secs(10), || async {
        let text = reqwest::get(format!("{}/metrics", node.url)).await.ok()?.text().await.ok()?;
        text.lines().any(|l| l.starts_with("nexuslog_gateway_backlog_holds_total{source=\"syslog\"} ")).then_some(())
    })
    .await;
    assert!(counter(&node, "nexuslog_gateway_backlog_holds_total").await >= 2.0);
}
