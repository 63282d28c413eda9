//! The query parser on arbitrary text (bytes decoded lossily to UTF-8): no panic; an error
//! points inside the query; what parses prints as a canonical form that parses back to the
//! same query; and evaluating the query on a record does not panic.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nexuslog_query::{matches, parse, MAX_QUERY_BYTES};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};

static RECORD: LazyLock<LogRecord> = LazyLock::new(|| {
    let fields = BTreeMap::from([
        ("http.status".to_owned(), FieldValue::Long(503)),
        ("latency".to_owned(), FieldValue::Double(12.5)),
        (
            "user".to_owned(),
            FieldValue::String("John Smith".to_owned()),
        ),
        (
            "path".to_owned(),
            FieldValue::String("/api/v1/users".to_owned()),
        ),
        ("ok".to_owned(), FieldValue::Bool(true)),
        ("nothing".to_owned(), FieldValue::Null),
        (
            "host".to_owned(),
            FieldValue::String("extracted".to_owned()),
        ),
    ]);
    LogRecord {
        id: "evt-1".to_owned(),
        project_id: "p".to_owned(),
        timestamp: 1_714_521_600_000_000,
        timestamp_source: TimestampSource::Event,
        received_at: 1_714_521_600_000_100,
        level: Level::Warn,
        message: "用户登录失败: connection reset by peer at com.example.Foo user_id=42 ÉCOLE"
            .to_owned(),
        host: Some("web-1".to_owned()),
        service: Some("api".to_owned()),
        source: SourceKind::default(),
        fields,
        parse_status: ParseStatus::Ok,
        parse_errors: Vec::new(),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()),
        span_id: None,
    }
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let query = match parse(&text) {
        Ok(q) => q,
        Err(e) => {
            let chars = text.chars().count();
            assert!(
                e.position <= chars,
                "error at {} in {chars} characters: {e}",
                e.position
            );
            return;
        }
    };
    let canonical = query.to_string();
    // Numbers and times can print longer than they were written; such a form may not fit.
    if canonical.len() <= MAX_QUERY_BYTES {
        match parse(&canonical) {
            Ok(again) => assert_eq!(
                again, query,
                "canonical form {canonical:?} reads differently"
            ),
            Err(e) => panic!("canonical form {canonical:?} of {query:?} does not parse: {e}"),
        }
    }
    let _ = matches(&query, &RECORD);
});
