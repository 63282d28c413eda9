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
