//! Scenarios from the hardening review (issue #16), each on the Kafka/OpenSearch path and the
//! embedded one: input that used to stall a partition or could spoof provenance.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::time::Duration;

use nexuslog_common::testing::{unique_name, wait_until};
use serde_json::Value;
use support::{bulk, search};

/// A record limit a little above the 1 MiB event limit, so that a processed record (about
/// twice its raw event) must be shortened.
const RECORD_LIMIT: &str = "1200000";



/// A JSON object without `message` just under the 1 MiB event limit: its processed record holds
/// the whole text twice (as message and as a field), about 2 MB. Then ordinary events, on every
/// partition: all of them, and the big one shortened, must become searchable.
async fn oversized_record_does_not_stall(node: &support::Node) {
    let run = unique_name("big");
    let blob = "x".repeat(1_000_000);
    let big = format!(r#"{{"run":"{run}","kind":"big","blob":"{blob}"}}"#);
    assert!(big.len() < 1 << 20 && big.len() > 1_000_000, "between librdkafka's default limit and the gateway's");
    let (status, ack) = bulk(node, big).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(1)), "{ack}");

    let small: Vec<String> = (0..60).map(|i| format!(r#"{{"run":"{run}","kind":"small","message":"after the big one {i}"}}"#)).collect();
    let (status, ack) = bulk(node, small.join("\n")).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(60)), "{ack}");

    let found = wait_until("the big event and the 60 after it searchable", Duration::from_secs(90), || async {
        let v = search(node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(61)).then_some(v)
    })
    .await;
    let big = found["hits"].as_array().expect("hits").iter().find(|h| h["fields"]["kind"] == "big").expect("the big event").clone();
    let message = big["message"].as_str().expect("message");
    assert!(message.starts_with(&format!(r#"{{"run":"{run}""#)), "keeps its start");
    let blob_field = big["fields"]["blob"].as_str().map_or(0, str::len);
    assert!(message.len() + blob_field < 1_200_000, "fits the record limit: message {} + blob {blob_field}", message.len());
    let notes = big["parse_errors"].to_string();
    assert!(notes.contains("bus.max_record_bytes"), "says why it was cut: {notes}");
    assert!(message.ends_with("bytes removed]") || big["fields"]["blob"].as_str().is_some_and(|b| b.ends_with("bytes removed]")), "marked");
}

#[tokio::test]
async fn distributed_an_oversized_record_never_stalls_a_partition() {
    let prefix = unique_name("harden");
    let mut env = support::distributed_env(&prefix);
    env.push(("NEXUSLOG_BUS_MAX_RECORD_BYTES".into(), RECORD_LIMIT.into()));
    let node = support::start(&[], env, &support::test_key()).await;
    oversized_record_does_not_stall(&node).await;
}

#[tokio::test]
async fn standalone_an_oversized_record_never_stalls_a_partition() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = support::standalone_env(dir.path());
    env.push(("NEXUSLOG_BUS_MAX_RECORD_BYTES".into(), RECORD_LIMIT.into()));
    let node = support::start(&[], env, &support::test_key()).await;
    oversized_record_does_not_stall(&node).await;
}

/// SIGTERM while a bulk request is being uploaded: the request still completes and is
/// acknowledged, the process then exits cleanly, and the events are there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_sigterm_finishes_in_flight_requests_before_stopping() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("tempdir");
    let key = support::test_key();
    let mut node = support::start(&[], support::standalone_env(dir.path()), &key).await;
    let run = unique_name("term");
    let body: String = (0..200).map(|i| format!("{{\"run\":\"{run}\",\"message\":\"in flight {i}\"}}\n")).collect();
    let (head, tail) = body.as_bytes().split_at(body.len() / 2);

    let addr = node.url.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let headers = format!(
        "POST /v1/logs/bulk HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(headers.as_bytes()).await.expect("headers");
    conn.write_all(head).await.expect("first half");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let pid = node.child.id().to_string();
    let killed = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    // The roles stop within milliseconds; the request is still uploading.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    conn.write_all(tail).await.expect("second half after SIGTERM");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.expect("the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "the in-flight request completes: {answer}");
    assert!(answer.contains("\"accepted\":200"), "{answer}");

    let status = wait_until("nexuslog exits after SIGTERM", Duration::from_secs(60), || {
        let status = node.child.try_wait().ok().flatten();
        async move { status }
    })
    .await;
    assert!(status.success(), "clean exit: {status:?}");

    let node = support::start(&[], support::standalone_env(dir.path()), &key).await;
    wait_until("the 200 acknowledged events searchable after the restart", Duration::from_secs(60), || async {
        let v = search(&node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(200)).then_some(())
    })
    .await;
}

/// Events stamped 2000-01-01 (a reset clock) and 2099-12-31: acknowledged, searchable now at
/// their receipt time with their own time kept, and still there after a restart (when the
/// embedded store's retention has run).
async fn out_of_window_times_are_indexed_at_receipt(node: &support::Node) -> String {
    let run = unique_name("clock");
    let body = format!(
        "{{\"run\":\"{run}\",\"message\":\"reset clock\",\"timestamp\":\"2000-01-01T00:00:00Z\"}}\n{{\"run\":\"{run}\",\"message\":\"far future\",\"timestamp\":\"2099-12-31T00:00:00Z\"}}\n{{\"run\":\"{run}\",\"message\":\"on time\"}}"
    );
    let (status, ack) = bulk(node, body).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(3)), "{ack}");
    let found = wait_until("the three events searchable in the last day", Duration::from_secs(60), || async {
        let v = search(node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(3)).then_some(v)
    })
    .await;
    for h in found["hits"].as_array().expect("hits") {
        let kept = &h["fields"]["event.original_timestamp"];
        match h["message"].as_str() {
            Some("reset clock") => assert_eq!(kept, "2000-01-01T00:00:00Z", "{h}"),
            Some("far future") => assert_eq!(kept, "2099-12-31T00:00:00Z", "{h}"),
            _ => assert!(kept.is_null(), "{h}"),
        }
        assert_eq!(h["timestamp_source"], "received", "{h}");
    }
    run
}

#[tokio::test]
async fn distributed_event_times_outside_the_window_are_indexed_at_receipt() {
    let node = support::start(&[], support::distributed_env(&unique_name("clock")), &support::test_key()).await;
    out_of_window_times_are_indexed_at_receipt(&node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_event_times_outside_the_window_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = support::test_key();
    let node = support::start(&[], support::standalone_env(dir.path()), &key).await;
    let run = out_of_window_times_are_indexed_at_receipt(&node).await;
    drop(node);
    let node = support::start(&[], support::standalone_env(dir.path()), &key).await;
    // Retention runs at start; give it a moment, then the events must all still be there.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let v = search(&node, &format!("run:{run}")).await;
    assert_eq!(v["total"], 3, "{v}");
}

/// A request with an `Idempotency-Key` retried later (here 2 s, in life possibly after UTC
/// midnight): the retry's events keep the first attempt's receive time, so they go to the same
/// daily index under the same ids and overwrite instead of being indexed twice.
async fn idempotent_retry_keeps_its_first_receive_time(node: &support::Node) {
    let run = unique_name("idem");
    let post = || async {
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/logs/bulk", node.url))
            .bearer_auth(&node.api_key)
            .header("idempotency-key", &run)
            .body(format!("{{\"run\":\"{run}\",\"message\":\"no time of its own\"}}"))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 200);
    };
    post().await;
    let first = wait_until("the first attempt searchable", Duration::from_secs(60), || async {
        let v = search(node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(1)).then(|| v["hits"][0]["timestamp"].clone())
    })
    .await;
    assert!(first.is_string(), "{first}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    post().await;
    // The retry is indexed once the marker sent after it is (same partition order is not
    // guaranteed, so wait for the marker and then a moment for the retry's batch).
    let (status, _) = bulk(node, format!("{{\"run\":\"{run}\",\"message\":\"marker\"}}")).await;
    assert_eq!(status, 200);
    wait_until("the marker searchable", Duration::from_secs(60), || async { (search(node, &format!("run:{run} AND marker")).await["total"].as_u64() == Some(1)).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let v = search(node, &format!("run:{run} AND NOT marker")).await;
    assert_eq!(v["total"], 1, "the retry overwrote the first attempt: {v}");
    assert_eq!(v["hits"][0]["timestamp"], first, "the retry kept the first receive time: {v}");
}

#[tokio::test]
async fn distributed_an_idempotent_retry_keeps_its_first_receive_time() {
    let node = support::start(&[], support::distributed_env(&unique_name("idem")), &support::test_key()).await;
    idempotent_retry_keeps_its_first_receive_time(&node).await;
}

#[tokio::test]
async fn standalone_an_idempotent_retry_keeps_its_first_receive_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = support::start(&[], support::standalone_env(dir.path()), &support::test_key()).await;
    idempotent_retry_keeps_its_first_receive_time(&node).await;
}

/// A TCP proxy in front of the real schema registry that a test can cut (connections refused
/// and open ones closed) and restore: an outage of the registry alone.
struct CuttableProxy {
    url: String,
    down: tokio::sync::watch::Sender<bool>,
}

async fn cuttable_registry() -> CuttableProxy {
    let real = nexuslog_common::testing::service_env("SCHEMA_REGISTRY_URL");
    let rest = real.strip_prefix("http://").expect("http registry url");
    let (target, path) = rest.split_once('/').map_or((rest.to_owned(), String::new()), |(h, p)| (h.to_owned(), format!("/{p}")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}{path}", listener.local_addr().expect("addr"));
    let (down, watch) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if *watch.borrow() {
                continue; // dropped: the connection is closed at once
            }
            let (target, mut watch) = (target.clone(), watch.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                    _ = watch.wait_for(|down| *down) => {}
                }
            });
        }
    });
    CuttableProxy { url, down }
}

/// The registry goes away after start-up, before the processor has decoded anything: the
/// acknowledged events wait (readiness says why) and are all indexed once it is back — none
/// is dead-lettered as undecodable.
#[tokio::test]
async fn distributed_a_registry_outage_delays_events_and_never_dead_letters_them() {
    let proxy = cuttable_registry().await;
    let mut env = support::distributed_env(&unique_name("registry"));
    env.retain(|(k, _)| k != "NEXUSLOG_SCHEMA_REGISTRY_URL");
    env.push(("NEXUSLOG_SCHEMA_REGISTRY_URL".into(), proxy.url.clone()));
    let node = support::start(&[], env, &support::test_key()).await;

    proxy.down.send_replace(true);
    let run = unique_name("outage");
    let body: Vec<String> = (0..20).map(|i| format!(r#"{{"run":"{run}","message":"during the outage {i}"}}"#)).collect();
    let (status, ack) = bulk(&node, body.join("\n")).await;
    assert_eq!((status, &ack["accepted"]), (200, &Value::from(20)), "the gateway's schema id is cached: {ack}");

    let client = reqwest::Client::new();
    let ready = wait_until("readiness reports the registry", Duration::from_secs(30), || async {
        let r = client.get(format!("{}/readyz", node.url)).send().await.ok()?;
        let status = r.status().as_u16();
        let body: Value = r.json().await.ok()?;
        (status == 503 && body["checks"]["schema_registry"] == "unavailable").then_some(body)
    })
    .await;
    assert!(!ready.to_string().contains("127.0.0.1"), "no addresses for anonymous callers: {ready}");
    assert_eq!(search(&node, &format!("run:{run}")).await["total"], 0, "nothing indexed while the registry is away");

    proxy.down.send_replace(false);
    wait_until("all 20 events indexed after the registry is back", Duration::from_secs(90), || async {
        let v = search(&node, &format!("run:{run}")).await;
        (v["total"].as_u64() == Some(20)).then_some(())
    })
    .await;
}
