//! Every record type survives encode → decode through its `.avsc` schema, for arbitrary values.

use std::collections::BTreeMap;

use apache_avro::Schema;
use nexuslog_schemas::wire::EmbeddedCodec;
use nexuslog_schemas::*;
use proptest::prelude::*;

fn source() -> impl Strategy<Value = SourceKind> {
    proptest::sample::select(SourceKind::ALL)
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        Just(FieldValue::Null),
        any::<bool>().prop_map(FieldValue::Bool),
        any::<i64>().prop_map(FieldValue::Long),
        // NaN != NaN would fail equality for a reason unrelated to the codec.
        (-1e300f64..1e300).prop_map(FieldValue::Double),
        ".{0,20}".prop_map(FieldValue::String),
    ]
}

prop_compose! {
    fn raw_event()(
        ingest_id in "[a-f0-9-]{36}", project_id in "[a-z0-9]{1,12}", source in source(),
        received_at in any::<i64>(), remote_addr in proptest::option::of("[0-9.:]{7,21}"),
        payload in proptest::collection::vec(any::<u8>(), 0..256),
        metadata in proptest::collection::btree_map("[a-z_]{1,8}", ".{0,16}", 0..4),
    ) -> RawEvent {
        RawEvent { ingest_id, project_id, source, received_at, remote_addr, payload, metadata }
    }
}

prop_compose! {
    fn log_record()(
        id in "[a-f0-9-]{36}", project_id in "[a-z0-9]{1,12}", timestamp in any::<i64>(),
        ts_src in proptest::sample::select(TimestampSource::ALL), received_at in any::<i64>(),
        level in proptest::sample::select(Level::ALL), message in ".{0,64}",
        host in proptest::option::of("[a-z0-9.-]{1,16}"), service in proptest::option::of("[a-z-]{1,16}"),
        source in source(), fields in proptest::collection::btree_map("[a-z_.]{1,12}", field_value(), 0..6),
        parse_status in proptest::sample::select(ParseStatus::ALL),
        parse_errors in proptest::collection::vec(".{0,20}", 0..3),
        trace_id in proptest::option::of("[0-9a-f]{32}"), span_id in proptest::option::of("[0-9a-f]{16}"),
    ) -> LogRecord {
        LogRecord { id, project_id, timestamp, timestamp_source: ts_src, received_at, level, message,
            host, service, source, fields, parse_status, parse_errors, trace_id, span_id }
    }
}

/// Entries of the record's map field.
trait MapLen {
    fn map_len(&self) -> usize;
}
impl MapLen for RawEvent {
    fn map_len(&self) -> usize {
        self.metadata.len()
    }
}
impl MapLen for LogRecord {
    fn map_len(&self) -> usize {
        self.fields.len()
    }
}
impl MapLen for AlertEvent {
    fn map_len(&self) -> usize {
        self.labels.len()
    }
}
impl MapLen for DeadLetter {
    fn map_len(&self) -> usize {
        0
    }
}

fn roundtrip<T: AvroRecord + MapLen + PartialEq + std::fmt::Debug>(record: &T) {
    let datum = record.to_datum().expect("encode");
    let back = T::from_datum(&datum, T::schema()).expect("decode");
    assert_eq!(&back, record);
    // The direct encoding (hot records) and apache_avro's generic one read each other's bytes.
    let generic = record.to_datum_generic().expect("generic encode");
    assert_eq!(&T::from_datum_generic(&datum, T::schema()).expect("generic decode of direct bytes"), record);
    assert_eq!(&T::from_datum(&generic, T::schema()).expect("direct decode of generic bytes"), record);
    if record.map_len() <= 1 {
        // apache_avro writes a map from a HashMap, in any order: bytes only agree for one entry.
        assert_eq!(datum, generic, "direct and generic encodings differ");
    }
    let framed = EmbeddedCodec.encode(record).expect("frame");
    assert_eq!(&EmbeddedCodec.decode::<T>(&framed).expect("unframe"), record);
}

proptest! {
    #[test]
    fn raw_event_roundtrips(e in raw_event()) { roundtrip(&e); }

    #[test]
    fn log_record_roundtrips(r in log_record()) { roundtrip(&r); }

    /// Whatever bytes arrive, decoding returns an error or a record: it never panics.
    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = EmbeddedCodec.decode::<LogRecord>(&bytes);
        let _ = EmbeddedCodec.decode::<RawEvent>(&bytes);
    }
}

#[test]
fn alert_and_dead_letter_roundtrip() {
    roundtrip(&AlertEvent {
        transition_id: "rule-1:1700000000:FIRING".into(),
        project_id: "p1".into(),
        rule_id: "rule-1".into(),
        rule_name: "5xx burst".into(),
        state: AlertState::Firing,
        severity: AlertSeverity::Critical,
        at: 1_700_000_060_000_000,
        window_start: 1_700_000_000_000_000,
        window_end: 1_700_000_060_000_000,
        value: 42.0,
        threshold: 10.0,
        summary: "42 errors in 1m".into(),
        sample_ids: vec!["a".into(), "b".into()],
        labels: BTreeMap::from([("service".into(), "checkout".into())]),
    });
    for (partition, offset) in [(None, None), (Some(3), Some(1234))] {
        roundtrip(&DeadLetter {
            id: "x".into(),
            project_id: Some("p1".into()),
            stage: Stage::Processor,
            reason: "expected value at line 1 column 1".into(),
            error_kind: "invalid_json".into(),
            original: b"{oops".to_vec(),
            topic: Some("nexuslog.raw".into()),
            partition,
            offset,
            failed_at: 1,
        });
    }
}

/// The Rust types and the `.avsc` files agree field by field: every schema field is written by
/// `to_value`, and nothing else is.
#[test]
fn types_write_exactly_the_schema_fields() {
    fn names(schema: &Schema) -> Vec<String> {
        match schema {
            Schema::Record(r) => r.fields.iter().map(|f| f.name.clone()).collect(),
            other => panic!("not a record: {other:?}"),
        }
    }
    fn written(v: apache_avro::types::Value) -> Vec<String> {
        match v {
            apache_avro::types::Value::Record(f) => f.into_iter().map(|(k, _)| k).collect(),
            other => panic!("not a record: {other:?}"),
        }
    }
    let raw = RawEvent {
        ingest_id: String::new(), project_id: String::new(), source: SourceKind::Http, received_at: 0,
        remote_addr: None, payload: vec![], metadata: BTreeMap::new(),
    };
    assert_eq!(written(raw.to_value()), names(RawEvent::schema()));
    let dl = DeadLetter {
        id: String::new(), project_id: None, stage: Stage::Sink, reason: String::new(),
        error_kind: String::new(), original: vec![], topic: None, partition: None, offset: None, failed_at: 0,
    };
    assert_eq!(written(dl.to_value()), names(DeadLetter::schema()));
}
