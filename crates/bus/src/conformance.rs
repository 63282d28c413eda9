//! The behaviour every [`Bus`] must show, run against each implementation by its test target
//! (`tests/kafka.rs`, `tests/embedded.rs`). Topic and group names are unique per call.

use std::time::{Duration, Instant};

use crate::{positions, Bus, Consumer, Headers, InRecord, OutRecord};

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn records(topic: &str, range: std::ops::Range<u32>) -> Vec<OutRecord> {
    range
        .map(|i| OutRecord { topic: topic.into(), key: Some(i.to_be_bytes().to_vec()), payload: format!("event-{i}").into_bytes(), ..Default::default() })
        .collect()
}

async fn drain(consumer: &mut dyn Consumer, want: usize) -> Vec<InRecord> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while got.len() < want && Instant::now() < deadline {
        got.extend(consumer.poll(want - got.len(), Duration::from_millis(500)).await.expect("poll"));
    }
    got
}

fn payloads(rs: &[InRecord]) -> Vec<String> {
    let mut v: Vec<String> = rs.iter().map(|r| String::from_utf8_lossy(&r.payload).into_owned()).collect();
    v.sort();
    v
}

/// Runs every check; panics on the first difference from the contract.
pub async fn run_all(bus: &dyn Bus) {
    bus.health().await.expect("health");
    committed_offsets_survive_a_consumer_restart(bus).await;
    transactional_output_and_offsets_are_atomic(bus).await;
    same_key_keeps_order(bus).await;
    the_last_committed_record_survives_truncation(bus).await;
    a_tail_starts_at_the_end(bus).await;
    headers_round_trip(bus).await;
}

/// Headers come back as written, in order, through `produce`, through a transaction and
/// through `last_record`; a record without headers reads without any (the trace context rides
/// in headers and must survive every path a record takes).
pub async fn headers_round_trip(bus: &dyn Bus) {
    let input = unique("t-headers");
    let output = unique("t-headers-out");
    bus.create_topic(&input, 2).await.expect("create");
    bus.create_topic(&output, 1).await.expect("create");
    let traced = |i: u32| -> Headers {
        vec![
            ("traceparent".into(), format!("00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b{i}-01").into_bytes()),
            ("tracestate".into(), b"congo=t61rcWkgMzE".to_vec()),
            ("empty".into(), Vec::new()),
        ]
    };
    let mut batch = records(&input, 0..6);
    for (i, r) in (0u32..).zip(batch.iter_mut()) {
        if i & 1 == 0 {
            r.headers = traced(i);
        }
    }
    bus.produce(batch).await.expect("produce");
    let mut c = bus.consumer(&unique("g-headers"), std::slice::from_ref(&input)).await.expect("consumer");
    let got = drain(c.as_mut(), 6).await;
    assert_eq!(got.len(), 6);
    for r in &got {
        let i: u32 = String::from_utf8_lossy(&r.payload).trim_start_matches("event-").parse().expect("event number");
        let want = if i & 1 == 0 { traced(i) } else { Vec::new() };
        assert_eq!(r.headers, want, "headers of event-{i}");
        assert_eq!(r.header("traceparent"), want.first().map(|(_, v)| v.as_slice()));
    }
    let outputs: Vec<OutRecord> =
        got.iter().map(|r| OutRecord { topic: output.clone(), payload: r.payload.clone(), headers: r.headers.clone(), ..Default::default() }).collect();
    c.commit_with_outputs(outputs, &positions(&got)).await.expect("transaction commits");
    let mut reader = bus.consumer(&unique("g-headers-read"), std::slice::from_ref(&output)).await.expect("reader");
    let out = drain(reader.as_mut(), 6).await;
    let mut pairs: Vec<(Vec<u8>, Headers)> = out.iter().map(|r| (r.payload.clone(), r.headers.clone())).collect();
    let mut want: Vec<(Vec<u8>, Headers)> = got.iter().map(|r| (r.payload.clone(), r.headers.clone())).collect();
    pairs.sort();
    want.sort();
    assert_eq!(pairs, want, "a transaction keeps headers");
    let last = bus.last_record(&output, 0).await.expect("last").expect("a record");
    let same = out.iter().find(|r| r.offset == last.offset).expect("the last record was read");
    assert_eq!(last.headers, same.headers, "last_record keeps headers");
}

/// A tail reader sees only what is written after it started, on every partition.
pub async fn a_tail_starts_at_the_end(bus: &dyn Bus) {
    let topic = unique("t-tail");
    bus.create_topic(&topic, 3).await.expect("create");
    bus.produce(records(&topic, 0..10)).await.expect("before");
    let mut tail = bus.tail(std::slice::from_ref(&topic)).await.expect("tail");
    // Kafka joins the group and resolves `latest` on the first poll: give it that moment.
    let early = tail.poll(100, Duration::from_secs(5)).await.expect("poll");
    assert!(early.is_empty(), "nothing from before the tail started: {early:?}");
    bus.produce(records(&topic, 10..30)).await.expect("after");
    let got = drain(tail.as_mut(), 20).await;
    let mut want: Vec<String> = (10..30).map(|i| format!("event-{i}")).collect();
    want.sort();
    assert_eq!(payloads(&got), want);
}

/// A changelog: snapshots written in transactions, the newest one read back, older ones
/// deleted; nothing of an empty partition.
pub async fn the_last_committed_record_survives_truncation(bus: &dyn Bus) {
    let input = unique("t-snap-in");
    let changelog = unique("t-snap");
    bus.create_topic(&input, 1).await.expect("create");
    bus.create_topic(&changelog, 1).await.expect("create");
    assert_eq!(bus.last_record(&changelog, 0).await.expect("empty partition"), None);
    bus.produce(records(&input, 0..3)).await.expect("produce");
    let mut c = bus.consumer(&unique("g-snap"), std::slice::from_ref(&input)).await.expect("consumer");
    let got = drain(c.as_mut(), 3).await;
    for (i, r) in got.iter().enumerate() {
        let snapshot = OutRecord { topic: changelog.clone(), key: Some(b"state".to_vec()), payload: format!("snapshot-{i}").into_bytes(), ..Default::default() };
        c.commit_with_outputs(vec![snapshot], &positions(std::slice::from_ref(r))).await.expect("commit");
    }
    let last = bus.last_record(&changelog, 0).await.expect("last").expect("a snapshot");
    assert_eq!(last.payload, b"snapshot-2");
    bus.delete_before(&changelog, 0, last.offset).await.expect("truncate");
    let after = bus.last_record(&changelog, 0).await.expect("last").expect("the newest stays");
    assert_eq!((after.offset, after.payload), (last.offset, b"snapshot-2".to_vec()));
    let mut reader = bus.consumer(&unique("g-snap-read"), std::slice::from_ref(&changelog)).await.expect("reader");
    let left = drain(reader.as_mut(), 1).await;
    assert_eq!(payloads(&left), vec!["snapshot-2"], "older snapshots are gone");
    assert!(reader.poll(10, Duration::from_millis(500)).await.expect("poll").is_empty());
}

/// A new member of a group resumes exactly after the positions the previous one committed.
pub async fn committed_offsets_survive_a_consumer_restart(bus: &dyn Bus) {
    let topic = unique("t-commit");
    bus.create_topic(&topic, 3).await.expect("create");
    bus.create_topic(&topic, 3).await.expect("create is idempotent");
    bus.produce(records(&topic, 0..100)).await.expect("produce acked");

    let group = unique("g");
    let mut first = bus.consumer(&group, std::slice::from_ref(&topic)).await.expect("consumer");
    let all = drain(first.as_mut(), 100).await;
    assert_eq!(all.len(), 100);
    let mut handled = Vec::new();
    for p in 0..3 {
        let mut part: Vec<&InRecord> = all.iter().filter(|r| r.partition == p).collect();
        part.sort_by_key(|r| r.offset);
        handled.extend(part.iter().take(part.len() / 2).map(|r| (*r).clone()));
    }
    let untouched = unique("g-none");
    let lag: i64 = bus.lag(&untouched, &topic).await.expect("lag").iter().map(|l| l.records).sum();
    assert_eq!(lag, 100, "a group that committed nothing lags by every record");
    first.commit(&positions(&handled)).await.expect("commit");
    let lag = bus.lag(&group, &topic).await.expect("lag");
    assert_eq!(lag.iter().map(|l| l.partition).collect::<Vec<_>>(), vec![0, 1, 2], "every partition");
    assert_eq!(lag.iter().map(|l| l.records).sum::<i64>(), i64::try_from(100 - handled.len()).expect("small"), "{lag:?}");
    drop(first);

    let mut second = bus.consumer(&group, std::slice::from_ref(&topic)).await.expect("consumer");
    let rest = drain(second.as_mut(), 100 - handled.len()).await;
    let expected: Vec<InRecord> = all.iter().filter(|r| !handled.contains(r)).cloned().collect();
    assert_eq!(payloads(&rest), payloads(&expected));
    assert!(second.poll(10, Duration::from_millis(500)).await.expect("poll").is_empty(), "nothing beyond");
}

/// Outputs become visible and input offsets move together; a read-committed reader sees each
/// output once and a restarted group finds no input left.
pub async fn transactional_output_and_offsets_are_atomic(bus: &dyn Bus) {
    let input = unique("t-in");
    let output = unique("t-out");
    bus.create_topic(&input, 2).await.expect("create");
    bus.create_topic(&output, 2).await.expect("create");
    bus.produce(records(&input, 0..20)).await.expect("produce");

    let group = unique("g-txn");
    let mut c = bus.consumer(&group, std::slice::from_ref(&input)).await.expect("consumer");
    let got = drain(c.as_mut(), 20).await;
    assert_eq!(got.len(), 20);
    let outputs: Vec<OutRecord> = got
        .iter()
        .map(|r| OutRecord { topic: output.clone(), key: r.key.clone(), payload: [b"processed:", r.payload.as_slice()].concat(), ..Default::default() })
        .collect();
    c.commit_with_outputs(outputs, &positions(&got)).await.expect("transaction commits");
    let committed = c.committed(&input).await.expect("committed");
    assert_eq!(committed.iter().map(|p| p.next_offset).sum::<i64>(), 20, "{committed:?}");
    drop(c);

    let mut reader = bus.consumer(&unique("g-read"), std::slice::from_ref(&output)).await.expect("reader");
    let out = drain(reader.as_mut(), 20).await;
    assert_eq!(out.len(), 20);
    assert!(out.iter().all(|r| r.payload.starts_with(b"processed:")));
    assert!(reader.poll(10, Duration::from_millis(500)).await.expect("poll").is_empty(), "no duplicates");

    let mut again = bus.consumer(&group, std::slice::from_ref(&input)).await.expect("consumer");
    assert!(again.poll(10, Duration::from_secs(2)).await.expect("poll").is_empty());
}

/// Records with one key land in one partition, in the order produced.
pub async fn same_key_keeps_order(bus: &dyn Bus) {
    let topic = unique("t-order");
    bus.create_topic(&topic, 4).await.expect("create");
    let batch: Vec<OutRecord> =
        (0..50u32).map(|i| OutRecord { topic: topic.clone(), key: Some(b"same".to_vec()), payload: i.to_be_bytes().to_vec(), ..Default::default() }).collect();
    bus.produce(batch).await.expect("produce");
    let mut c = bus.consumer(&unique("g-order"), std::slice::from_ref(&topic)).await.expect("consumer");
    let got = drain(c.as_mut(), 50).await;
    assert!(got.iter().all(|r| r.partition == got[0].partition), "one partition per key");
    let seq: Vec<u32> = got.iter().map(|r| u32::from_be_bytes(r.payload[..4].try_into().expect("4 bytes"))).collect();
    assert_eq!(seq, (0..50).collect::<Vec<_>>());
}
