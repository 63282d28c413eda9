//! Helpers for integration tests against the real services started by `infra/services up`.
//!
//! The test command (`scripts/test.sh`) exports `NEXUSLOG_TEST_*` variables pointing at those
//! services. A test that needs a service and does not find its variable fails with a message
//! saying how to start it: a silently skipped integration test proves nothing.

use std::future::Future;
use std::time::{Duration, Instant};

/// The value of `NEXUSLOG_TEST_<name>`.
///
/// # Panics
/// When the variable is unset: the test cannot run without the service.
pub fn service_env(name: &str) -> String {
    let var = format!("NEXUSLOG_TEST_{name}");
    std::env::var(&var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: this test needs a real service. Run `bash scripts/test.sh`, \
             or `infra/services up` and `eval \"$(infra/services env)\"` before `cargo test`"
        )
    })
}

/// A name unique to this test run, for topics, indices, keys and databases.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
