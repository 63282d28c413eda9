//! Schema evolution: the current schemas stay readable by, and can read, every released version
//! kept in `avro/history/`. A change that breaks either direction fails here before it ships.

use std::collections::BTreeMap;

use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use nexuslog_schemas::wire::EmbeddedCodec;
use nexuslog_schemas::{avsc, AvroRecord, FieldValue, Level, LogRecord, ParseStatus, RawEvent, SourceKind, TimestampSource};

fn sample() -> LogRecord {
    LogRecord {
        id: "0190c3b4-0000-7000-8000-000000000001".into(),
        project_id: "default".into(),
        timestamp: 1_700_000_000_123_456,
        timestamp_source: TimestampSource::Event,
        received_at: 1_700_000_000_200_000,
        level: Level::Error,
        message: "upstream timed out".into(),
        host: Some("web-1".into()),
        service: Some("nginx".into()),
        source: SourceKind::Http,
        fields: BTreeMap::from([
            ("status".into(), FieldValue::Long(504)),
            ("latency_ms".into(), FieldValue::Double(30000.5)),
        ]),
        parse_status: ParseStatus::Ok,
        parse_errors: vec![],
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        span_id: Some("00f067aa0ba902b7".into()),
    }
}

fn v1() -> Schema {
    Schema::parse_str(avsc::LOG_RECORD_V1).expect("v1 parses")
}

#[test]
fn current_and_released_versions_are_mutually_readable() {
    for (name, old) in [("log_record v1", avsc::LOG_RECORD_V1), ("log_record v2", avsc::LOG_RECORD_V2)] {
        let old = Schema::parse_str(old).expect("parses");
        SchemaCompatibility::mutual_read(LogRecord::schema(), &old).unwrap_or_else(|e| panic!("{name} <-> current: {e}"));
    }
    let raw_v1 = Schema::parse_str(avsc::RAW_EVENT_V1).expect("parses");
    SchemaCompatibility::mutual_read(RawEvent::schema(), &raw_v1).expect("raw_event v1 <-> current");
}

/// A gateway of this release writes `HEC` and `LOKI` sources; a processor or sink of the
/// release before (a rolling upgrade) reads them as the enum's default, `UNKNOWN`, and every
/// other field intact, instead of failing the record.
#[test]
fn old_readers_take_new_sources_as_unknown() {
    let raw = RawEvent {
        ingest_id: "id-1".into(),
        project_id: "default".into(),
        source: SourceKind::Hec,
        received_at: 1_700_000_000_000_000,
        remote_addr: None,
        payload: b"{}".to_vec(),
        metadata: BTreeMap::new(),
    };
    let old = Schema::parse_str(avsc::RAW_EVENT_V1).expect("parses");
    let value = GenericDatumReader::builder(RawEvent::schema())
        .reader_schema(&old)
        .build()
        .expect("reader")
        .read_value(&mut raw.to_datum().expect("encode").as_slice())
        .expect("the v1 reader resolves a new source");
    let apache_avro::types::Value::Record(fields) = value else { panic!("record expected") };
    let source = fields.iter().find(|(k, _)| k == "source").map(|(_, v)| v.clone());
    assert_eq!(source, Some(apache_avro::types::Value::Enum(0, "UNKNOWN".into())));
    let record = LogRecord { source: SourceKind::Loki, ..sample() };
    let old = Schema::parse_str(avsc::LOG_RECORD_V2).expect("parses");
    let back = LogRecord::from_datum(&record.to_datum().expect("encode"), LogRecord::schema()).expect("current reads current");
    assert_eq!(back.source, SourceKind::Loki);
    let value = GenericDatumReader::builder(LogRecord::schema())
        .reader_schema(&old)
        .build()
        .expect("reader")
        .read_value(&mut record.to_datum().expect("encode").as_slice())
        .expect("the v2 reader resolves a new source");
    let apache_avro::types::Value::Record(fields) = value else { panic!("record expected") };
    assert!(fields.iter().any(|(k, v)| k == "source" && *v == apache_avro::types::Value::Enum(0, "UNKNOWN".into())));
}

/// Data the embedded bus holds from before this release (framed with the old embedded ids)
/// still decodes after the upgrade.
#[test]
fn embedded_data_of_the_previous_release_decodes() {
    let record = sample();
    let old = Schema::parse_str(avsc::LOG_RECORD_V2).expect("parses");
    let datum = GenericDatumWriter::builder(&old).build().expect("writer").write_value_to_vec(record.to_value()).expect("v2 writer");
    let mut framed = vec![0, 0, 0, 0, 5];
    framed.extend_from_slice(&datum);
    assert_eq!(EmbeddedCodec.decode::<LogRecord>(&framed).expect("id 5 is log_record v2"), record);
    assert_eq!(EmbeddedCodec::current_id::<LogRecord>(), 7);
    assert_eq!(EmbeddedCodec::current_id::<RawEvent>(), 6);
}

/// An old reader (a v1 consumer still running during a rolling upgrade) reads what the new
/// writer produced: the new fields are ignored, every v1 field keeps its value.
#[test]
fn old_reader_reads_new_writer() {
    let record = sample();
    let datum = record.to_datum().expect("encode with current");
    let old = v1();
    let value = GenericDatumReader::builder(LogRecord::schema())
        .reader_schema(&old)
        .build()
        .expect("reader")
        .read_value(&mut datum.as_slice())
        .expect("v1 reader resolves a current datum");
    let apache_avro::types::Value::Record(fields) = value else { panic!("record expected") };
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert!(!names.contains(&"trace_id"), "v1 has no trace_id");
    let message = fields.iter().find(|(k, _)| k == "message").map(|(_, v)| v.clone());
    assert_eq!(message, Some(apache_avro::types::Value::String("upstream timed out".into())));
}

/// A new reader reads data a v1 writer produced; the added fields take their defaults.
#[test]
fn new_reader_reads_old_writer() {
    let old = v1();
    let mut value = sample().to_value();
    if let apache_avro::types::Value::Record(fields) = &mut value {
        fields.retain(|(k, _)| k != "trace_id" && k != "span_id");
    }
    let datum = GenericDatumWriter::builder(&old)
        .build()
        .expect("writer")
        .write_value_to_vec(value)
        .expect("v1 writer");
    let back = LogRecord::from_datum(&datum, &old).expect("current reader resolves a v1 datum");
    let expected = LogRecord { trace_id: None, span_id: None, ..sample() };
    assert_eq!(back, expected);
}

/// The checker these tests rely on does catch a breaking change: a field added without a
/// default cannot read old data.
#[test]
fn checker_rejects_a_field_without_default() {
    let broken = avsc::LOG_RECORD.replacen(
        r#""name": "message","#,
        r#""name": "message_required_new", "type": "string"}, {"name": "message","#,
        1,
    );
    let broken = Schema::parse_str(&broken).expect("still valid avro");
    assert!(SchemaCompatibility::can_read(&v1(), &broken).is_err());
}

/// Every current schema parses, and unknown enum symbols from a newer writer fall back to the
/// default instead of failing the record.
#[test]
fn all_schemas_parse_and_enums_default() {
    for text in [avsc::RAW_EVENT, avsc::LOG_RECORD, avsc::ALERT_EVENT, avsc::DEAD_LETTER, avsc::LOG_RECORD_V1, avsc::LOG_RECORD_V2, avsc::RAW_EVENT_V1] {
        Schema::parse_str(text).expect("schema parses");
    }
    assert_eq!(Level::from_symbol("EMERGENCY_NEW"), Level::Unknown);
    assert_eq!(SourceKind::from_symbol("KINESIS"), SourceKind::Unknown);
}
