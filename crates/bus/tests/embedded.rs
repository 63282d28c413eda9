//! The bus conformance suite on the embedded log, plus what only it must show: data and
//! committed offsets survive reopening the file.

use std::time::Duration;

use nexuslog_bus::{positions, Bus, EmbeddedBus, EmbeddedBusConfig, OutRecord};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_bus_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bus = EmbeddedBus::open(&dir.path().join("log.redb"), EmbeddedBusConfig::default()).expect("open");
    nexuslog_bus::conformance::run_all(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_offsets_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.redb");
    {
        let bus = EmbeddedBus::open(&path, EmbeddedBusConfig::default()).expect("open");
        bus.create_topic("t", 2).await.expect("create");
        let recs = (0..10u8).map(|i| OutRecord { topic: "t".into(), key: Some(vec![i]), payload: vec![i], ..Default::default() }).collect();
        bus.produce(recs).await.expect("produce");
        let mut c = bus.consumer("g", &["t".into()]).await.expect("consumer");
        let got = c.poll(4, Duration::from_millis(100)).await.expect("poll");
        assert!(!got.is_empty());
        c.commit(&positions(&got)).await.expect("commit");
    }
    // The writer thread releases the file once the last handle is gone; in production the
    // reopen is a new process, here we wait for the thread to finish.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let bus = loop {
        match EmbeddedBus::open(&path, EmbeddedBusConfig::default()) {
            Ok(b) => break b,
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "reopen: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let mut c = bus.consumer("g", &["t".into()]).await.expect("consumer");
    let mut total = 0;
    loop {
        let got = c.poll(100, Duration::from_millis(100)).await.expect("poll");
        if got.is_empty() {
            break;
        }
        total += got.len();
    }
    let mut fresh = bus.consumer("other", &["t".into()]).await.expect("consumer");
    let all = fresh.poll(100, Duration::from_millis(100)).await.expect("poll");
    assert_eq!(all.len(), 10, "every record kept");
    assert!(total < 10 && total > 0, "the group resumed after its committed positions ({total} left)");
}

/// With `max_bytes`, a log whose consumer has stopped stays near the cap: the oldest records
/// go (counted as lost, see `cap.rs`), the newest are read.
#[tokio::test]
async fn a_size_cap_bounds_a_log_nobody_consumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bus = EmbeddedBus::open(&dir.path().join("log.redb"), EmbeddedBusConfig { max_bytes: 20_000, ..Default::default() }).expect("open");
    bus.create_topic("raw", 1).await.expect("topic");
    // A group that read nothing yet: every record is unprocessed.
    let mut consumer = bus.consumer("stopped", &["raw".to_owned()]).await.expect("consumer");
    consumer.commit(&[nexuslog_bus::Position { topic: "raw".into(), partition: 0, next_offset: 0 }]).await.expect("commit");
    // Incompressible payloads, one batch each: 200 × ~1 KiB, ten times the cap.
    for i in 0..200u32 {
        let payload: String = (0..128).map(|j| format!("{:08x}", (i * 7919 + j).wrapping_mul(2_654_435_761))).collect();
        bus.produce(vec![OutRecord { topic: "raw".into(), payload: payload.into_bytes(), ..Default::default() }]).await.expect("produce");
    }
    let mut reader = bus.consumer("reader", &["raw".to_owned()]).await.expect("reader");
    let mut offsets = Vec::new();
    loop {
        let got = reader.poll(1_000, std::time::Duration::from_millis(200)).await.expect("poll");
        if got.is_empty() {
            break;
        }
        offsets.extend(got.iter().map(|r| r.offset));
    }
    assert_eq!(offsets.last(), Some(&199), "the newest record is kept");
    assert!(offsets.len() < 40, "about 20 KB of ~1 KB records stay, not {}", offsets.len());
    assert!(offsets.windows(2).all(|w| w[1] == w[0] + 1), "what stays is the newest, contiguous: {offsets:?}");
}
