//! The behaviour every [`StateStore`] must show, run against each implementation by its
//! test target (`tests/memory.rs`, `tests/redis.rs`). Keys are prefixed so runs don't collide.

use std::time::Duration;

use crate::StateStore;

/// Runs every check; panics on the first difference from the contract.
pub async fn run_all(store: &dyn StateStore, prefix: &str) {
    set_get_delete(store, prefix).await;
    expiry(store, prefix).await;
    counters(store, prefix).await;
    first_writer_wins(store, prefix).await;
    token_buckets(store, prefix).await;
    store.health().await.expect("health");
}

async fn set_get_delete(s: &dyn StateStore, p: &str) {
    let k = format!("{p}:a");
    assert_eq!(s.get(&k).await.expect("get"), None);
    s.set(&k, b"one", None).await.expect("set");
    assert_eq!(s.get(&k).await.expect("get"), Some(b"one".to_vec()));
    s.set(&k, b"two", None).await.expect("overwrite");
    assert_eq!(s.get(&k).await.expect("get"), Some(b"two".to_vec()));
    assert!(s.delete(&k).await.expect("delete"));
    assert!(!s.delete(&k).await.expect("delete again"));
    assert_eq!(s.get(&k).await.expect("get"), None);
}

async fn expiry(s: &dyn StateStore, p: &str) {
    let k = format!("{p}:ttl");
    s.set(&k, b"v", Some(Duration::from_millis(300))).await.expect("set with ttl");
    assert_eq!(s.get(&k).await.expect("get"), Some(b"v".to_vec()), "present before expiry");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while s.get(&k).await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "key did not expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn counters(s: &dyn StateStore, p: &str) {
    let k = format!("{p}:n");
    assert_eq!(s.incr(&k, 1, Some(Duration::from_millis(400))).await.expect("incr"), 1);
    assert_eq!(s.incr(&k, 5, Some(Duration::from_secs(3600))).await.expect("incr"), 6);
    assert_eq!(s.get(&k).await.expect("get"), Some(b"6".to_vec()));
    // The window set at creation applies; a later incr does not extend it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while s.get(&k).await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "counter window did not expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.incr(&k, 2, None).await.expect("incr after expiry"), 2);
    assert!(s.delete(&k).await.expect("cleanup"));
}

async fn first_writer_wins(s: &dyn StateStore, p: &str) {
    let k = format!("{p}:first");
    assert_eq!(s.get_or_set(&k, b"first", Some(Duration::from_millis(400))).await.expect("set"), None, "absent: set");
    assert_eq!(s.get_or_set(&k, b"second", None).await.expect("get"), Some(b"first".to_vec()), "present: kept");
    assert_eq!(s.get(&k).await.expect("get"), Some(b"first".to_vec()));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while s.get(&k).await.expect("get").is_some() {
        assert!(std::time::Instant::now() < deadline, "the first value did not expire");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(s.get_or_set(&k, b"third", None).await.expect("set after expiry"), None);
    // Concurrent callers: exactly one sets, the rest see its value.
    let k = format!("{p}:race");
    let results = futures::future::join_all((0..8).map(|i| {
        let k = k.clone();
        async move { s.get_or_set(&k, format!("v{i}").as_bytes(), Some(Duration::from_secs(60))).await.expect("get_or_set") }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_none()).count(), 1, "{results:?}");
    let winner = s.get(&k).await.expect("get").expect("set");
    assert!(results.iter().flatten().all(|v| *v == winner));
}

async fn token_buckets(s: &dyn StateStore, p: &str) {
    let k = format!("{p}:bucket");
    // 10 a second, bursts of 100: a full bucket gives 100 at once, then refuses.
    assert_eq!(s.take_tokens(&k, 60, 10, 100).await.expect("take"), None, "a full bucket");
    assert_eq!(s.take_tokens(&k, 40, 10, 100).await.expect("take"), None, "the rest of the burst");
    let wait = s.take_tokens(&k, 5, 10, 100).await.expect("take").expect("an empty bucket refuses");
    assert!(wait > Duration::from_millis(300) && wait <= Duration::from_millis(500), "5 tokens at 10/s: about 0.5 s, not {wait:?}");
    // A refusal takes nothing: asked again, the wait has only shrunk, and the 5 come once it
    // has passed (polled, with a deadline).
    let again = s.take_tokens(&k, 5, 10, 100).await.expect("take").expect("still refused");
    assert!(again <= wait, "a refusal took no tokens: {again:?} after {wait:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while s.take_tokens(&k, 5, 10, 100).await.expect("take").is_some() {
        assert!(std::time::Instant::now() < deadline, "the bucket never refilled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(s.take_tokens(&k, 101, 1_000_000, 100).await.expect("take").is_some(), "more than a burst is never taken");
    // Another key is another bucket.
    assert_eq!(s.take_tokens(&format!("{p}:other-bucket"), 100, 10, 100).await.expect("take"), None);
}

