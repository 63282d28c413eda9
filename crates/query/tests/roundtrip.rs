//! Property tests of the query language: the canonical form (`Display`) of every AST the
//! parser can produce parses back to the same AST, and `parse` is total: it never panics, and
//! every error points inside the query.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;

use nexuslog_query::{matches, parse, FieldOp, FieldRef, Query, RangeValue, LEVEL_ORDER, MAX_QUERY_BYTES};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use proptest::prelude::*;

// ---- generators of normalized ASTs ----

/// A piece of text, leaning on what the printer has to escape.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9]{1,8}",
        2 => prop::sample::select(vec![
            "AND", "OR", "NOT", "TO", "and", "-", "*", "\\", ":", "\"", " ", "\t", "\u{a0}", "(", ")", "[", "]",
            "{", "}", "<", ">", "=", ">=", "//", "/", "http://x", "'", ".", "@", "_", "登录", "用户", "ログ",
            "로그", "é", "Straße", "\u{0}", "\u{2028}", "\u{feff}", "🦀",
        ])
        .prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "\\PC{1,4}",
    ]
}

/// Any text, possibly empty.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..5).prop_map(|v| v.concat())
}

/// Non-empty text.
fn nonempty_text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 1..5).prop_map(|v| v.concat())
}

/// A field name as the parser reads it: `[A-Za-z_@][A-Za-z0-9_.@-]*`.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z_@][A-Za-z0-9_.@-]{0,12}",
        3 => prop::sample::select(vec![
            "message", "timestamp", "@timestamp", "level", "id", "host", "service", "source", "parse_status",
            "timestamp_source", "trace_id", "span_id", "http.status", "user", "latency", "fields.host",
            "fields.level", "fields.message", "fields.@timestamp", "fields.fields.x", "fields.", "fields.fields.",
            "fields.1x", "fields.-x", "fields..", "fields.@x", "AND", "OR", "NOT", "TO", "a-", "_", "@",
        ])
        .prop_map(str::to_owned),
        1 => "[A-Za-z0-9_.@-]{0,8}".prop_map(|s| format!("fields.{s}")),
    ]
}

/// A prefix of message words: one lower-case word of letters and digits, no CJK.
fn message_prefix() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9]{1,12}", "[a-zéßøжλ0-9]{1,6}"]
}

/// Times as the parser reads them: epoch milliseconds (saturated to microseconds), or RFC 3339
/// with any offset and fraction (years 0000 to 9999 in local time).
fn time() -> impl Strategy<Value = i64> {
    let year = prop_oneof![8 => 0..=9999i32, 1 => Just(0), 1 => Just(9999)];
    let rfc3339 = (year, 1..=12u32, 1..=28u32, 0..24u32, 0..60u32, 0..60u32, 0..1_000_000u32, -1439..=1439i32).prop_filter_map(
        "not a time",
        |(y, mo, d, h, mi, s, us, off)| {
            let offset = if off == 0 {
                "Z".to_owned()
            } else {
                let sign = if off < 0 { '-' } else { '+' };
                format!("{sign}{:02}:{:02}", off.unsigned_abs() / 60, off.unsigned_abs() % 60)
            };
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}{offset}");
            chrono::DateTime::parse_from_rfc3339(&text).ok().map(|dt| dt.timestamp_micros())
        },
    );
    prop_oneof![
        any::<i64>().prop_map(|ms| ms.saturating_mul(1000)),
        (-100_000_000_000_000i64..300_000_000_000_000).prop_map(|ms| ms * 1000),
        rfc3339,
        prop::sample::select(vec![0i64, -1000, 1_714_521_600_000_000, i64::MAX, i64::MIN]),
    ]
}

fn finite_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        (-100_000i64..100_000).prop_map(|x| x as f64),
        (-100_000i64..100_000).prop_map(|x| x as f64 / 100.0),
    ]
}

fn bound(value: BoxedStrategy<RangeValue>) -> impl Strategy<Value = Bound<RangeValue>> {
    prop_oneof![Just(Bound::Unbounded), value.clone().prop_map(Bound::Included), value.prop_map(Bound::Excluded),]
}

fn range(value: BoxedStrategy<RangeValue>) -> impl Strategy<Value = FieldOp> {
    (bound(value.clone()), bound(value)).prop_map(|(lower, upper)| FieldOp::Range { lower, upper })
}

/// `[* TO *]`, which every field accepts.
fn unbounded() -> FieldOp {
    FieldOp::Range { lower: Bound::Unbounded, upper: Bound::Unbounded }
}

/// A level name as `parse_level` reads it (or `unknown`), in any case.
fn level_name() -> impl Strategy<Value = String> {
    let names = vec![
        "trace",
        "debug",
        "info",
        "information",
        "informational",
        "notice",
        "warn",
        "warning",
        "error",
        "err",
        "fatal",
        "critical",
        "crit",
        "emergency",
        "emerg",
        "alert",
        "unknown",
    ];
    (prop::sample::select(names), prop::collection::vec(any::<bool>(), 16))
        .prop_map(|(name, upper)| name.chars().zip(upper).map(|(c, u)| if u { c.to_ascii_uppercase() } else { c }).collect())
}

/// The operations the parser produces for a field.
fn op_for(field: &FieldRef) -> BoxedStrategy<FieldOp> {
    match field {
        FieldRef::Message => prop_oneof![message_prefix().prop_map(FieldOp::Prefix), Just(FieldOp::Exists), Just(unbounded()),].boxed(),
        FieldRef::Timestamp => prop_oneof![3 => range(time().prop_map(RangeValue::Time).boxed()), 1 => Just(FieldOp::Exists)].boxed(),
        FieldRef::Level => prop_oneof![
            level_name().prop_map(FieldOp::Eq),
            nonempty_text().prop_map(FieldOp::Prefix),
            Just(FieldOp::Exists),
            range(prop::sample::select(LEVEL_ORDER.to_vec()).prop_map(RangeValue::Level).boxed()),
        ]
        .boxed(),
        FieldRef::Standard(_) => {
            prop_oneof![text().prop_map(FieldOp::Eq), nonempty_text().prop_map(FieldOp::Prefix), Just(FieldOp::Exists), Just(unbounded()),]
                .boxed()
        }
        FieldRef::Extracted(_) => prop_oneof![
            text().prop_map(FieldOp::Eq),
            nonempty_text().prop_map(FieldOp::Prefix),
            Just(FieldOp::Exists),
            range(finite_number().prop_map(RangeValue::Number).boxed()),
        ]
        .boxed(),
    }
}

fn field_query() -> impl Strategy<Value = Query> {
    field_name()
        .prop_map(|name| FieldRef::resolve(&name))
        .prop_flat_map(|field| op_for(&field).prop_map(move |op| Query::Field { field: field.clone(), op }))
}

/// A normalized AST without `All` at its root.
fn tree() -> impl Strategy<Value = Query> {
    let leaf = prop_oneof![
        2 => nonempty_text().prop_map(Query::Word),
        1 => text().prop_map(Query::Phrase),
        3 => field_query(),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        // `All` only under OR and NOT; AND drops it and flattens, OR flattens.
        let or_part = prop_oneof![6 => inner.clone(), 1 => Just(Query::All)];
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Query::and),
            prop::collection::vec(or_part.clone(), 2..5).prop_map(Query::or),
            or_part.prop_map(|q| Query::Not(Box::new(q))),
        ]
    })
}

/// The shape rules the parser's output follows.
fn is_normalized(q: &Query, top: bool, parent_allows_all: bool) -> bool {
    match q {
        Query::All => top || parent_allows_all,
        Query::Word(w) => !w.is_empty(),
        Query::Phrase(_) | Query::Field { .. } => true,
        Query::And(parts) => {
            parts.len() >= 2 && parts.iter().all(|p| !matches!(p, Query::And(_) | Query::All) && is_normalized(p, false, false))
        }
        Query::Or(parts) => parts.len() >= 2 && parts.iter().all(|p| !matches!(p, Query::Or(_)) && is_normalized(p, false, true)),
        Query::Not(inner) => is_normalized(inner, false, true),
    }
}

fn query() -> impl Strategy<Value = Query> {
    prop_oneof![1 => Just(Query::All), 20 => tree()]
}

// ---- generators of arbitrary input ----

/// Text made of pieces of the grammar, so parsing gets past the first token.
fn queryish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "(", ")", "\"", "\\", ":", "*", "[", "TO", "]", "{", "}", ">=", ">", "<", "<=", "=", "-", "NOT", "OR",
            "AND", " ", " ", " ", "\t", "host:", "level:", "timestamp:", "@timestamp:", "message:", "http.status:",
            "fields.host:", "latency:", "id:", "source:", "5", "-1.5", "1e309", "NaN", "2024-05-01T00:00:00Z",
            "0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999-23:59", "-62167219200001", "99999999999999999",
            "warn", "WARNING", "unknown", "loud", "\"loud\"", "\"warn\"", "\"2024-05-01T00:00:00Z\"",
            "\"x y\"", "\"\"", "\"//x\"", "//x*", "登录", "用户登录", "//", "http://x", "time*", "a*b", "\\*", "\\ ",
        ])
        .prop_map(str::to_owned),
        2 => "[a-zA-Z0-9._@-]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// Terms joined by operators: mostly well-formed queries, so that many of them parse.
fn terms() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "message",
        "timestamp",
        "@timestamp",
        "level",
        "id",
        "host",
        "source",
        "http.status",
        "fields.host",
        "fields.1x",
        "fields.",
        "user",
        "AND",
        "NOT",
    ]);
    let value = prop_oneof![
        3 => prop::sample::select(vec![
            "x", "loud", "\"loud\"", "warn", "\"WARN\"", "unknown", "\"2024-05-01T00:00:00Z\"", "2024-05-01T00:00:00Z",
            "1714521600000", "\"\"", "\"x y\"", "*", "x*", "\\**", "\\//x*", "\"//x\"", ">5", ">=-1.5", "<=warn",
            "[1 TO 5]", "{* TO *}", "[* TO 5}", "{0000-01-01T00:00:00.5+23:59 TO *]", "-x", "AND", "a\\:b", "登录",
        ])
        .prop_map(str::to_owned),
        1 => fragment(),
    ];
    let term = prop_oneof![
        2 => fragment(),
        3 => (name, value).prop_map(|(n, v)| format!("{n}:{v}")),
    ];
    let joined = prop::collection::vec((prop::sample::select(vec![" ", " OR ", " AND ", " NOT ", " -", " (", ") ", "("]), term), 1..8);
    joined.prop_map(|parts| parts.into_iter().map(|(op, t)| format!("{op}{t}")).collect())
}

fn anything() -> impl Strategy<Value = String> {
    prop_oneof![prop::collection::vec(any::<char>(), 0..300).prop_map(String::from_iter), "\\PC{0,300}", queryish(), terms(),]
}

fn sample_record() -> LogRecord {
    let mut fields = BTreeMap::new();
    fields.insert("http.status".to_owned(), FieldValue::Long(503));
    fields.insert("latency".to_owned(), FieldValue::Double(12.5));
    fields.insert("user".to_owned(), FieldValue::String("John Smith".to_owned()));
    fields.insert("ok".to_owned(), FieldValue::Bool(true));
    fields.insert("nothing".to_owned(), FieldValue::Null);
    fields.insert("host".to_owned(), FieldValue::String("extracted".to_owned()));
    LogRecord {
        id: "evt-1".to_owned(),
        project_id: "p".to_owned(),
        timestamp: 1_714_521_600_000_000,
        timestamp_source: TimestampSource::Event,
        received_at: 1_714_521_600_000_100,
        level: Level::Warn,
        message: "用户登录失败 connection reset by peer at com.example.Foo: user_id=42".to_owned(),
        host: Some("web-1".to_owned()),
        service: Some("api".to_owned()),
        source: SourceKind::default(),
        fields,
        parse_status: ParseStatus::Ok,
        parse_errors: Vec::new(),
        trace_id: None,
        span_id: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn canonical_form_parses_back(q in query()) {
        prop_assert!(is_normalized(&q, true, false), "generator made a non-normalized AST: {q:?}");
        let text = q.to_string();
        // A long number or time can make the canonical form longer than the limit.
        prop_assume!(text.len() <= MAX_QUERY_BYTES);
        prop_assert_eq!(parse(&text), Ok(q), "canonical form {:?}", text);
    }

    #[test]
    fn parse_is_total(input in anything()) {
        match parse(&input) {
            Err(e) => prop_assert!(
                e.position <= input.chars().count(),
                "{input:?}: error at {} past the end: {e}", e.position
            ),
            Ok(q) => {
                prop_assert!(is_normalized(&q, true, false), "{input:?} parsed as a non-normalized AST: {q:?}");
                // What parses, prints as a canonical form that parses back the same.
                let text = q.to_string();
                if text.len() <= MAX_QUERY_BYTES {
                    prop_assert_eq!(parse(&text), Ok(q.clone()), "{:?} printed as {:?}", input, text);
                }
                let _ = matches(&q, &sample_record());
            }
        }
    }
}

/// The counterexamples the properties found, kept as plain cases.
#[test]
fn found_counterexamples_read_back() {
    let field = |name: &str, op: FieldOp| Query::Field { field: FieldRef::resolve(name), op };
    let time = |text: &str| RangeValue::Time(chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_micros());
    let from = |v: RangeValue| FieldOp::Range { lower: Bound::Included(v), upper: Bound::Unbounded };
    let cases = [
        // A prefix starting `//` after `name:` must not read as a URL.
        (field("A", FieldOp::Prefix("//".into())), r"A:\//*"),
        (field("path", FieldOp::Prefix("//api/".into())), r"path:\//api/*"),
        // Extracted names that would not read as names on their own keep `fields.`.
        (field("fields.", FieldOp::Eq(String::new())), r#"fields.:"""#),
        (field("fields.1x", FieldOp::Exists), "fields.1x:*"),
        (field("fields.-x", FieldOp::Eq("y".into())), "fields.-x:y"),
        (field("fields..", FieldOp::Eq("y".into())), "fields..:y"),
        // Times outside the years 0000 to 9999 of RFC 3339.
        (field("timestamp", from(RangeValue::Time(253_402_300_800_000_000))), "timestamp:>=253402300800000"),
        (field("timestamp", from(RangeValue::Time(-62_167_219_200_001_000))), "timestamp:>=-62167219200001"),
        (field("timestamp", from(RangeValue::Time(9_000_000_000_000_000_000))), "timestamp:>=9000000000000000"),
        (field("timestamp", from(RangeValue::Time(i64::MAX))), "timestamp:>=9223372036854775807"),
        (field("timestamp", from(RangeValue::Time(i64::MIN))), "timestamp:>=-9223372036854775808"),
        (field("timestamp", from(time("0000-01-01T00:00:00.000001+23:59"))), "timestamp:>=0000-01-01T00:00:00.000001+23:59"),
        (field("timestamp", from(time("9999-12-31T23:59:59.999999-23:59"))), "timestamp:>=9999-12-31T23:59:59.999999-23:59"),
        (field("timestamp", from(time("2024-05-01T00:00:00Z"))), "timestamp:>=2024-05-01T00:00:00Z"),
    ];
    for (q, text) in cases {
        assert_eq!(q.to_string(), text, "{q:?}");
        assert_eq!(parse(text), Ok(q), "{text:?}");
    }
    // A quoted time or level means what it means bare (it was an `Eq` that printed unquoted).
    assert_eq!(parse(r#"timestamp:"2024-05-01T00:00:00Z""#), parse("timestamp:2024-05-01T00:00:00Z"));
    assert_eq!(parse(r#"level:"WARN""#), Ok(field("level", FieldOp::Eq("WARN".into()))));
    assert!(parse(r#"level:"loud""#).is_err());
    assert!(parse(r#"timestamp:"loud""#).is_err());
}
