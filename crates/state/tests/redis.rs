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

fn ca(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{name}", service_env("TLS_DIR"))).expect("test CA (infra/services up)")
}

/// The whole suite over `rediss://`, the server's certificate checked against the test CA.
#[tokio::test]
async fn redis_state_conforms_over_tls() {
    let store = RedisState::connect_with_ca(&service_env("REDIS_TLS_URL"), Some(ca("ca.pem"))).await.expect("redis over TLS");
    nexuslog_state::conformance::run_all(&store, &unique_name("tls")).await;
}

/// A CA that did not sign the server's certificate is refused, and nothing falls back to
/// plain TCP.
#[tokio::test]
async fn redis_with_a_wrong_ca_is_refused() {
    let Err(err) = RedisState::connect_with_ca(&service_env("REDIS_TLS_URL"), Some(ca("other-ca.pem"))).await else {
        panic!("a certificate from another CA was accepted");
    };
    assert!(err.to_string().to_lowercase().contains("certificate") || err.to_string().contains("UnknownIssuer"), "{err}");
}
