//! The state conformance suite on the in-process implementation, and its checkpoints.

use std::time::Duration;

use nexuslog_state::{MemoryState, StateStore};

#[tokio::test]
async fn memory_state_conforms() {
    let store = MemoryState::new();
    nexuslog_state::conformance::run_all(&store, "memory").await;
}

#[tokio::test]
async fn checkpoint_restores_values_counters_and_expiry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("state.json");
    {
        let s = MemoryState::open(&file).expect("open empty");
        s.set("kept", b"v", None).await.expect("set");
        s.set("short", b"v", Some(Duration::from_millis(200))).await.expect("set");
        s.set("long", b"v", Some(Duration::from_secs(3600))).await.expect("set");
        s.incr("n", 7, None).await.expect("incr");
        s.checkpoint().expect("checkpoint");
        s.set("after-checkpoint", b"v", None).await.expect("set");
    }
    // Time has to pass while the process is "down" for the 200 ms entry to expire.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = MemoryState::open(&file).expect("reopen");
    assert_eq!(s.get("kept").await.expect("get"), Some(b"v".to_vec()));
    assert_eq!(s.get("long").await.expect("get"), Some(b"v".to_vec()));
    assert_eq!(s.get("short").await.expect("get"), None, "expired while down");
    assert_eq!(s.incr("n", 1, None).await.expect("incr"), 8);
    assert_eq!(s.get("after-checkpoint").await.expect("get"), None, "only the checkpoint survives");
}
