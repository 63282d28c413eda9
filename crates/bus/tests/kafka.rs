//! `KafkaBus` against the real broker started by `infra/services up kafka`.

use std::time::Duration;

use nexuslog_bus::{positions, Bus, InRecord, KafkaBus, KafkaBusConfig, OutRecord};
use nexuslog_common::testing::{service_env, unique_name};

fn bus() -> KafkaBus {
    KafkaBus::new(KafkaBusConfig::new(service_env("KAFKA_BROKERS"))).expect("kafka client")
}

fn records(topic: &str, range: std::ops::Range<u32>) -> Vec<OutRecord> {
    range
        .map(|i| OutRecord { topic: topic.into(), key: Some(i.to_be_bytes().to_vec()), payload: format!("event-{i}").into_bytes() })
        .collect()
}

async fn drain(consumer: &mut dyn nexuslog_bus::Consumer, want: usize) -> Vec<InRecord> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while got.len() < want && std::time::Instant::now() < deadline {
        got.extend(consumer.poll(want - got.len(), Duration::from_millis(500)).await.expect("poll"));
    }
    got
}

fn payloads(rs: &[InRecord]) -> Vec<String> {
    let mut v: Vec<String> = rs.iter().map(|r| String::from_utf8_lossy(&r.payload).into_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn committed_offsets_survive_a_consumer_restart() {
    let bus = bus();
    bus.health().await.expect("broker reachable");
    let topic = unique_name("t-commit");
    bus.create_topic(&topic, 3).await.expect("create");
    bus.create_topic(&topic, 3).await.expect("create is idempotent");
    bus.produce(records(&topic, 0..100)).await.expect("produce acked");

    let group = unique_name("g");
    let mut first = bus.consumer(&group, &[topic.clone()]).await.expect("consumer");
    let all = drain(first.as_mut(), 100).await;
    assert_eq!(all.len(), 100);
    // Commit only what is "handled": the first half of each partition.
    let mut handled = Vec::new();
    for p in 0..3 {
        let mut part: Vec<&InRecord> = all.iter().filter(|r| r.partition == p).collect();
        part.sort_by_key(|r| r.offset);
        handled.extend(part.iter().take(part.len() / 2).map(|r| (*r).clone()));
    }
    first.commit(&positions(&handled)).await.expect("commit");
    drop(first);

    // A new member of the group resumes exactly after the committed positions.
    let mut second = bus.consumer(&group, &[topic.clone()]).await.expect("consumer");
    let rest = drain(second.as_mut(), 100 - handled.len()).await;
    let mut expected: Vec<InRecord> = all.iter().filter(|r| !handled.contains(r)).cloned().collect();
    expected.sort_by_key(|r| (r.partition, r.offset));
    assert_eq!(payloads(&rest), payloads(&expected));
    // And nothing beyond.
    assert!(second.poll(10, Duration::from_millis(500)).await.expect("poll").is_empty());
}

#[tokio::test]
async fn transactional_produce_and_commit_is_atomic() {
    let bus = bus();
    let input = unique_name("t-in");
    let output = unique_name("t-out");
    bus.create_topic(&input, 2).await.expect("create");
    bus.create_topic(&output, 2).await.expect("create");
    bus.produce(records(&input, 0..20)).await.expect("produce");

    let group = unique_name("g-txn");
    let mut c = bus.consumer(&group, &[input.clone()]).await.expect("consumer");
    let got = drain(c.as_mut(), 20).await;
    assert_eq!(got.len(), 20);
    let outputs: Vec<OutRecord> = got
        .iter()
        .map(|r| OutRecord { topic: output.clone(), key: r.key.clone(), payload: [b"processed:", r.payload.as_slice()].concat() })
        .collect();
    c.commit_with_outputs(outputs, &positions(&got)).await.expect("transaction commits");

    // The group's offsets moved inside the transaction.
    let committed = c.committed(&input).await.expect("committed");
    let total: i64 = committed.iter().map(|p| p.next_offset).sum();
    assert_eq!(total, 20, "{committed:?}");
    drop(c);

    // A read_committed reader sees every output exactly once.
    let mut reader = bus.consumer(&unique_name("g-read"), &[output.clone()]).await.expect("reader");
    let out = drain(reader.as_mut(), 20).await;
    assert_eq!(out.len(), 20);
    assert!(out.iter().all(|r| r.payload.starts_with(b"processed:")));
    assert!(reader.poll(10, Duration::from_millis(500)).await.expect("poll").is_empty(), "no duplicates");

    // Restarting the processing group finds no input left.
    let mut again = bus.consumer(&group, &[input.clone()]).await.expect("consumer");
    assert!(again.poll(10, Duration::from_secs(3)).await.expect("poll").is_empty());
}

#[tokio::test]
async fn unreachable_broker_is_reported_unavailable() {
    let mut cfg = KafkaBusConfig::new("127.0.0.1:1");
    cfg.extra.push(("socket.connection.setup.timeout.ms".into(), "1000".into()));
    let bus = KafkaBus::new(cfg).expect("client builds without connecting");
    let err = bus.health().await.expect_err("nothing listens on port 1");
    assert!(matches!(err, nexuslog_bus::BusError::Unavailable(_)), "{err}");
}
