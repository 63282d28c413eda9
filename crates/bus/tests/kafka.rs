//! `KafkaBus` against the real broker started by `infra/services up kafka`.

use nexuslog_bus::{Bus, BusError, KafkaBus, KafkaBusConfig};
use nexuslog_common::testing::service_env;

#[tokio::test]
async fn kafka_bus_conforms() {
    let bus = KafkaBus::new(KafkaBusConfig::new(service_env("KAFKA_BROKERS"))).expect("kafka client");
    nexuslog_bus::conformance::run_all(&bus).await;
}

#[tokio::test]
async fn unreachable_broker_is_reported_unavailable() {
    let mut cfg = KafkaBusConfig::new("127.0.0.1:1");
    cfg.extra.push(("socket.connection.setup.timeout.ms".into(), "1000".into()));
    let bus = KafkaBus::new(cfg).expect("client builds without connecting");
    let err = bus.health().await.expect_err("nothing listens on port 1");
    assert!(matches!(err, BusError::Unavailable(_)), "{err}");
}
