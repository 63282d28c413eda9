//! The state conformance suite on a real Redis (`infra/services up redis`).

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_state::{RedisState, StateStore};

#[tokio::test]
async fn redis_state_conforms() {
    let store = RedisState::connect(&service_env("REDIS_URL")).await.expect("redis reachable");
    nexuslog_state::conformance::run_all(&store, &unique_name("conf")).await;
}

#[tokio::test]
async fn unreachable_redis_is_an_error() {
    let err = RedisState::connect("redis://127.0.0.1:1").await.expect_err("nothing on port 1");
    assert!(matches!(err, nexuslog_state::StateError::Unavailable(_)), "{err}");
    let store = RedisState::connect(&service_env("REDIS_URL")).await.expect("redis reachable");
    store.health().await.expect("ping");
}
