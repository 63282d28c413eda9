//! `KafkaBus` against the real broker started by `infra/services up kafka`.

use nexuslog_bus::{Bus, BusError, KafkaBus, KafkaBusConfig, OutRecord};
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

fn tls_config(ca: &str, password: &str) -> KafkaBusConfig {
    let dir = service_env("TLS_DIR");
    let mut cfg = KafkaBusConfig::new(service_env("KAFKA_SASL_SSL_BROKERS"));
    cfg.extra = [
        ("security.protocol", "sasl_ssl".to_owned()),
        ("sasl.mechanism", "SCRAM-SHA-256".to_owned()),
        ("sasl.username", service_env("KAFKA_SASL_USER")),
        ("sasl.password", password.to_owned()),
        ("ssl.ca.location", format!("{dir}/{ca}")),
    ]
    .map(|(k, v)| (k.to_owned(), v))
    .to_vec();
    cfg
}

/// The whole suite over SASL_SSL with SCRAM, the brokers' certificate checked against the test CA.
#[tokio::test]
async fn kafka_bus_conforms_over_sasl_ssl() {
    let bus = KafkaBus::new(tls_config("ca.pem", &service_env("KAFKA_SASL_PASSWORD"))).expect("kafka client");
    bus.first_contact(std::time::Duration::from_secs(10)).await.expect("first contact");
    nexuslog_bus::conformance::run_all(&bus).await;
}

/// A failed first contact says why, in librdkafka's words: the start-up error can then name the
/// setting to fix.
#[tokio::test]
async fn a_failed_first_contact_gives_the_reason() {
    let wrong_ca = KafkaBus::new(tls_config("other-ca.pem", &service_env("KAFKA_SASL_PASSWORD"))).expect("client");
    let err = wrong_ca.first_contact(std::time::Duration::from_secs(5)).await.expect_err("wrong CA");
    assert!(err.to_string().contains("certificate verify failed"), "{err}");
    let wrong_password = KafkaBus::new(tls_config("ca.pem", "not-the-password")).expect("client");
    let err = wrong_password.first_contact(std::time::Duration::from_secs(5)).await.expect_err("wrong password");
    assert!(err.to_string().contains("SASL authentication"), "{err}");
}

/// One produce of more records than the client's queue holds is written whole: a full queue
/// waits for what is queued instead of failing halfway, which would answer "not written" for
/// records that do reach the broker (a retrying client would then write them twice).
#[tokio::test]
async fn a_produce_larger_than_the_client_queue_is_written_whole() {
    let mut cfg = KafkaBusConfig::new(service_env("KAFKA_BROKERS"));
    cfg.extra.push(("queue.buffering.max.messages".into(), "50".into()));
    let bus = KafkaBus::new(cfg).expect("kafka client");
    let topic = format!("queue-full-{}", uuid::Uuid::new_v4().simple());
    bus.create_topic(&topic, 1).await.expect("topic");
    let records: Vec<OutRecord> = (0..2_000).map(|i| OutRecord { topic: topic.clone(), payload: format!("r{i}").into_bytes(), ..Default::default() }).collect();
    bus.produce(records).await.expect("every record written, none refused for a full queue");

    let mut consumer = bus.consumer(&format!("g-{topic}"), std::slice::from_ref(&topic)).await.expect("consumer");
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen.len() < 2_000 && std::time::Instant::now() < deadline {
        seen.extend(consumer.poll(1_000, std::time::Duration::from_millis(500)).await.expect("poll").into_iter().map(|r| r.payload));
    }
    let expected: Vec<Vec<u8>> = (0..2_000).map(|i| format!("r{i}").into_bytes()).collect();
    assert_eq!(seen, expected, "each record once, in order");
}
