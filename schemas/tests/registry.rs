//! The wire format against a real Confluent-compatible schema registry (started by
//! `infra/services up registry`).

use std::collections::BTreeMap;

use nexuslog_common::testing::{service_env, unique_name};
use nexuslog_schemas::wire::{unframe, RegistryCodec};
use nexuslog_schemas::{AvroRecord, FieldValue, Level, LogRecord, ParseStatus, RawEvent, SourceKind, TimestampSource};

fn registry_url() -> String {
    service_env("SCHEMA_REGISTRY_URL")
}

#[tokio::test]
async fn registers_schema_and_roundtrips_wire_format_records() {
    let codec = RegistryCodec::new(&registry_url()).expect("client");
    let topic = unique_name("test-raw");
    let event = RawEvent {
        ingest_id: nexuslog_common::new_ingest_id(),
        project_id: "default".into(),
        source: SourceKind::Http,
        received_at: nexuslog_common::now_micros(),
        remote_addr: Some("127.0.0.1:5555".into()),
        payload: br#"{"msg":"hello"}"#.to_vec(),
        metadata: BTreeMap::from([("content_type".into(), "application/json".into())]),
    };
    let bytes = codec.encode(&topic, &event).await.expect("encode through registry");
    let (id, _) = unframe(&bytes).expect("framed");
    // The id is the one the registry assigned to `<topic>-value`.
    let latest: serde_json::Value = reqwest::get(format!("{}/subjects/{topic}-value/versions/latest", registry_url()))
        .await
        .expect("registry reachable")
        .json()
        .await
        .expect("json");
    assert_eq!(latest["id"].as_u64(), Some(u64::from(id)), "registry answer: {latest}");
    // A fresh client (another process) decodes by fetching the schema by id.
    let other = RegistryCodec::new(&registry_url()).expect("client");
    assert_eq!(other.decode::<RawEvent>(&bytes).await.expect("decode"), event);
    // Registering the same schema again is idempotent: same id.
    assert_eq!(codec.schema_id::<RawEvent>(&topic).await.expect("id"), id);
}

#[tokio::test]
async fn log_record_through_registry() {
    let codec = RegistryCodec::new(&registry_url()).expect("client");
    let topic = unique_name("test-logs");
    let record = LogRecord {
        id: nexuslog_common::new_ingest_id(),
        project_id: "p".into(),
        timestamp: 1,
        timestamp_source: TimestampSource::Event,
        received_at: 2,
        level: Level::Warn,
        message: "m".into(),
        host: None,
        service: Some("svc".into()),
        source: SourceKind::Syslog,
        fields: BTreeMap::from([("n".into(), FieldValue::Long(7)), ("ok".into(), FieldValue::Bool(true))]),
        parse_status: ParseStatus::Partial,
        parse_errors: vec!["bad ts".into()],
        trace_id: None,
        span_id: None,
    };
    let bytes = codec.encode(&topic, &record).await.expect("encode");
    assert_eq!(codec.decode::<LogRecord>(&bytes).await.expect("decode"), record);
    assert!(LogRecord::NAME.ends_with("LogRecord"));
}

#[tokio::test]
async fn unknown_schema_id_is_a_clear_error() {
    let codec = RegistryCodec::new(&registry_url()).expect("client");
    let bytes = nexuslog_schemas::wire::frame(987_654_321, &[0]);
    let err = codec.decode::<RawEvent>(&bytes).await.expect_err("unknown id");
    assert!(err.to_string().contains("987654321"), "{err}");
}
