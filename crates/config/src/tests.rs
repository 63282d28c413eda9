use std::collections::BTreeMap;
use std::io::Write;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn file(text: &str) -> tempfile_lite::TempFile {
    tempfile_lite::TempFile::with(text)
}

/// A tiny temp file without another dependency.
mod tempfile_lite {
    use std::path::PathBuf;
    pub struct TempFile(pub PathBuf);
    impl TempFile {
        pub fn with(text: &str) -> Self {
            let p = std::env::temp_dir().join(format!("nexuslog-config-test-{}-{}.toml", std::process::id(), super::next()));
            let mut f = std::fs::File::create(&p).expect("create temp file");
            super::Write::write_all(&mut f, text.as_bytes()).expect("write temp file");
            Self(p)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn next() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn defaults_are_standalone_on_port_8000() {
    let c = load(None, &BTreeMap::new()).expect("defaults are valid");
    assert_eq!(c.http.addr.port(), 8000);
    assert_eq!(c.bus.kind, BusKind::Embedded);
    assert_eq!(c.logstore.kind, LogStoreKind::Tantivy);
    assert_eq!(c.metastore.kind, MetaStoreKind::Sqlite);
    assert_eq!(c.state.kind, StateKind::Memory);
}

#[test]
fn file_then_env_layering() {
    let f = file("[bus]\nkind = \"kafka\"\n[bus.kafka]\nbrokers = [\"a:1\"]\npartitions = 3\n");
    let c = load(Some(&f.0), &env(&[("NEXUSLOG_BUS_KAFKA_BROKERS", "b:2, c:3"), ("NEXUSLOG_HTTP_ADDR", "127.0.0.1:9000")])).expect("valid");
    assert_eq!(c.bus.kind, BusKind::Kafka);
    assert_eq!(c.bus.kafka.brokers, vec!["b:2".to_owned(), "c:3".to_owned()]);
    assert_eq!(c.bus.kafka.partitions, 3);
    assert_eq!(c.http.addr.to_string(), "127.0.0.1:9000");
}

#[test]
fn unknown_file_key_is_named() {
    let f = file("[bus.kafka]\nbrokerz = [\"a:1\"]\n");
    let err = load(Some(&f.0), &BTreeMap::new()).expect_err("typo refused");
    assert_eq!(err.key(), Some("bus.kafka.brokerz"), "{err}");
    assert!(err.to_string().contains("unknown configuration key `bus.kafka.brokerz`"), "{err}");
}

#[test]
fn unknown_env_var_is_named() {
    let err = load(None, &env(&[("NEXUSLOG_HTTP_ADRR", "x")])).expect_err("typo refused");
    assert!(err.to_string().contains("NEXUSLOG_HTTP_ADRR"), "{err}");
}

#[test]
fn non_config_env_vars_are_ignored() {
    load(None, &env(&[("NEXUSLOG_TEST_KAFKA_BROKERS", "x"), ("NEXUSLOG_CONFIG", "y"), ("PATH", "/bin")])).expect("ignored");
}

#[test]
fn bad_value_names_key_origin_and_expectation() {
    let err = load(None, &env(&[("NEXUSLOG_HTTP_ADDR", "not-an-address")])).expect_err("bad addr");
    let msg = err.to_string();
    assert_eq!(err.key(), Some("http.addr"), "{msg}");
    assert!(msg.contains("NEXUSLOG_HTTP_ADDR") && msg.contains("0.0.0.0:8000"), "{msg}");

    let err = load(None, &env(&[("NEXUSLOG_HTTP_MAX_BODY_BYTES", "lots")])).expect_err("bad int");
    assert_eq!(err.key(), Some("http.max_body_bytes"));
    assert!(err.to_string().contains("an integer"), "{err}");

    let f = file("[bus]\nkind = \"rabbitmq\"\n");
    let err = load(Some(&f.0), &BTreeMap::new()).expect_err("bad enum");
    assert_eq!(err.key(), Some("bus.kind"));
    assert!(err.to_string().contains("embedded, kafka"), "{err}");
}

#[test]
fn semantic_validation_names_key() {
    let err = load(None, &env(&[("NEXUSLOG_BUS_KIND", "kafka"), ("NEXUSLOG_BUS_KAFKA_BROKERS", "nohost")])).expect_err("bad broker");
    assert_eq!(err.key(), Some("bus.kafka.brokers"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_LOGSTORE_KIND", "opensearch"), ("NEXUSLOG_LOGSTORE_OPENSEARCH_URL", "localhost:9200")]))
        .expect_err("bad url");
    assert_eq!(err.key(), Some("logstore.opensearch.url"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_HTTP_MAX_EVENT_BYTES", "99999999999")])).expect_err("event > body");
    assert_eq!(err.key(), Some("http.max_event_bytes"), "{err}");
}

#[test]
fn the_bus_record_limit_leaves_room_above_every_accepted_event() {
    // A 4 MiB event cannot fit a 4 MiB record once wrapped as a raw event.
    let err = load(None, &env(&[("NEXUSLOG_HTTP_MAX_BODY_BYTES", "16777216"), ("NEXUSLOG_HTTP_MAX_EVENT_BYTES", "4194304")]))
        .expect_err("event as large as a record");
    assert_eq!(err.key(), Some("bus.max_record_bytes"), "{err}");
    let err =
        load(None, &env(&[("NEXUSLOG_BUS_MAX_RECORD_BYTES", "100000")])).expect_err("record smaller than the syslog limit + headroom");
    assert_eq!(err.key(), Some("bus.max_record_bytes"), "{err}");
    let c = load(
        None,
        &env(&[
            ("NEXUSLOG_BUS_MAX_RECORD_BYTES", "8388608"),
            ("NEXUSLOG_HTTP_MAX_BODY_BYTES", "16777216"),
            ("NEXUSLOG_HTTP_MAX_EVENT_BYTES", "4194304"),
        ]),
    )
    .expect("a larger record limit admits larger events");
    assert_eq!(c.bus.max_record_bytes, 8 << 20);
}

#[test]
fn every_key_has_a_distinct_env_var() {
    let keys = keys();
    let mut names: Vec<String> = keys.keys().map(|k| env_name(k)).collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "two keys map to one variable");
    assert!(keys.contains_key("http.addr") && keys.contains_key("bus.kafka.brokers"));
    assert_eq!(env_name("http.addr"), "NEXUSLOG_HTTP_ADDR");
}

#[test]
fn secrets_do_not_print() {
    let c = load(None, &env(&[("NEXUSLOG_BOOTSTRAP_API_KEY", "nxl_supersecretXXXXXXXXXXXXXXXXXXXXX")])).expect("valid");
    assert_eq!(c.bootstrap.api_key.expose(), "nxl_supersecretXXXXXXXXXXXXXXXXXXXXX");
    assert!(!format!("{c:?}").contains("supersecret"));
}

#[test]
fn kubernetes_service_link_variables_are_ignored() {
    // What the kubelet injects for Services `nexuslog` and `nexuslog-api` in the pod's namespace.
    let injected = [
        ("NEXUSLOG_SERVICE_HOST", "10.96.0.12"),
        ("NEXUSLOG_SERVICE_PORT", "8000"),
        ("NEXUSLOG_SERVICE_PORT_HTTP", "8000"),
        ("NEXUSLOG_PORT", "tcp://10.96.0.12:8000"),
        ("NEXUSLOG_PORT_8000_TCP", "tcp://10.96.0.12:8000"),
        ("NEXUSLOG_PORT_8000_TCP_PROTO", "tcp"),
        ("NEXUSLOG_PORT_8000_TCP_PORT", "8000"),
        ("NEXUSLOG_PORT_8000_TCP_ADDR", "10.96.0.12"),
        ("NEXUSLOG_API_SERVICE_HOST", "10.96.0.13"),
        ("NEXUSLOG_API_PORT", "tcp://10.96.0.13:8000"),
        ("NEXUSLOG_SYSLOG_PORT_514_UDP_ADDR", "10.96.0.14"),
        ("NEXUSLOG_HTTP_ADDR", "127.0.0.1:9000"),
    ];
    let c = load(None, &env(&injected)).expect("service links are not configuration");
    assert_eq!(c.http.addr.to_string(), "127.0.0.1:9000", "real keys still apply");
    // Typos that merely look similar are still refused.
    for name in ["NEXUSLOG_HTTP_PORT", "NEXUSLOG_PORT_HTTP_TCP", "NEXUSLOG_PORTS", "NEXUSLOG_HTTP_ADRR"] {
        let err = load(None, &env(&[(name, "8000")])).expect_err(name);
        assert!(matches!(err, ConfigError::UnknownKey { .. }), "{name}: {err}");
    }
    // A real key that happens to look like a service link keeps its meaning and its checks.
    let err = load(None, &env(&[("NEXUSLOG_ALERTING_SMTP_PORT", "tcp://10.96.0.20:587")])).expect_err("not a port number");
    assert_eq!(err.key(), Some("alerting.smtp.port"), "{err}");
}

#[test]
fn the_bootstrap_key_must_look_like_a_generated_key() {
    for (bad, why) in [("nlk_test_123", "does not start with nxl_"), ("nxl_short", "has 5 characters after nxl_, not 32"), ("nxl_0123456789abcdef0123456789abcdef-x", "letters and digits")] {
        let err = load(None, &env(&[("NEXUSLOG_BOOTSTRAP_API_KEY", bad)])).expect_err(bad);
        assert_eq!(err.key(), Some("bootstrap.api_key"), "{err}");
        assert!(err.to_string().contains(why), "{err}");
        assert!(!err.to_string().contains(bad), "the key itself is never printed: {err}");
    }
    let good = "nxl_0123456789abcdef0123456789abcdef";
    let c = load(None, &env(&[("NEXUSLOG_BOOTSTRAP_API_KEY", good)])).expect("a generated-looking key");
    assert_eq!(c.bootstrap.api_key.expose(), good);
    load(None, &BTreeMap::new()).expect("no key: one is generated");
}

#[test]
fn otel_endpoint_is_off_by_default_and_must_be_an_http_url() {
    assert_eq!(load(None, &BTreeMap::new()).expect("defaults").otel.endpoint, "");
    let c = load(None, &env(&[("NEXUSLOG_OTEL_ENDPOINT", "http://127.0.0.1:4318")])).expect("valid");
    assert_eq!(c.otel.endpoint, "http://127.0.0.1:4318");
    let f = file("[otel]\nendpoint = \"https://collector:4318\"\n");
    assert_eq!(load(Some(&f.0), &BTreeMap::new()).expect("valid").otel.endpoint, "https://collector:4318");
    let err = load(None, &env(&[("NEXUSLOG_OTEL_ENDPOINT", "127.0.0.1:4318")])).expect_err("no scheme");
    assert_eq!(err.key(), Some("otel.endpoint"), "{err}");
}

#[test]
fn kafka_security_settings_are_checked_and_become_librdkafka_properties() {
    let env = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<BTreeMap<_, _>>();
    let err = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext")])).expect_err("no user");
    assert!(err.to_string().contains("bus.kafka.sasl_username"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"), ("NEXUSLOG_BUS_KAFKA_SASL_USERNAME", "u"), ("NEXUSLOG_BUS_KAFKA_SASL_MECHANISM", "GSSAPI")]))
        .expect_err("kerberos");
    assert!(err.to_string().contains("bus.kafka.sasl_mechanism"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "ssl"), ("NEXUSLOG_BUS_KAFKA_TLS_CERT", "/c.pem")])).expect_err("cert without key");
    assert!(err.to_string().contains("bus.kafka.tls_cert"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_PROPERTIES", "enable.auto.commit=true")])).expect_err("reserved");
    assert!(err.to_string().contains("bus.kafka.properties"), "{err}");
    let err = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_PROPERTIES", "debug")])).expect_err("no value");
    assert!(err.to_string().contains("bus.kafka.properties"), "{err}");
    let tls = load(
        None,
        &env(&[
            ("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "sasl_ssl"),
            ("NEXUSLOG_BUS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("NEXUSLOG_BUS_KAFKA_SASL_USERNAME", "u"),
            ("NEXUSLOG_BUS_KAFKA_TLS_CA", "/ca.pem"),
            ("NEXUSLOG_BUS_KAFKA_PROPERTIES", "fetch.wait.max.ms=100,socket.keepalive.enable=true"),
        ]),
    )
    .expect("valid");
    let props = tls.bus.kafka.client_properties();
    for want in [("security.protocol", "sasl_ssl"), ("sasl.mechanism", "SCRAM-SHA-512"), ("ssl.ca.location", "/ca.pem"), ("fetch.wait.max.ms", "100"), ("socket.keepalive.enable", "true")] {
        assert!(props.contains(&(want.0.into(), want.1.into())), "{want:?} in {props:?}");
    }
    assert!(!props.iter().any(|(k, _)| k == "ssl.certificate.location"), "no client certificate: {props:?}");
    let ok = load(None, &env(&[("NEXUSLOG_BUS_KAFKA_SECURITY_PROTOCOL", "sasl_plaintext"), ("NEXUSLOG_BUS_KAFKA_SASL_USERNAME", "u"), ("NEXUSLOG_BUS_KAFKA_SASL_PASSWORD", "p")]))
        .expect("valid");
    let props = ok.bus.kafka.client_properties();
    assert!(props.contains(&("security.protocol".into(), "sasl_plaintext".into())), "{props:?}");
    assert!(props.contains(&("sasl.password".into(), "p".into())), "{props:?}");
    assert!(!format!("{:?}", ok.bus.kafka).contains("\"p\""), "the password never prints");
    assert!(load(None, &env(&[])).expect("defaults").bus.kafka.client_properties().is_empty(), "plaintext sets nothing");
}
