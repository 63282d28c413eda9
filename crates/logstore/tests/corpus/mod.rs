//! A generated corpus for agreement tests, and a generator of queries over its vocabulary so
//! that random queries select real, non-trivial subsets.

#![allow(dead_code)]

use std::collections::BTreeMap;

use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use proptest::prelude::*;

pub const PROJECT: &str = "agree";
/// 30 minutes before a UTC midnight: the corpus spans two daily partitions.
pub const T0: i64 = 1_700_006_400_000_000 - 1_800_000_000;
pub const SPAN_SECONDS: i64 = 3600;

pub const ASCII_WORDS: &[&str] = &[
    "error",
    "timeout",
    "connection",
    "reset",
    "user",
    "login",
    "failed",
    "payment",
    "ok",
    "database",
    "slow",
    "query",
    "cache",
    "miss",
    "retry",
    "gateway",
    "upstream",
    "server",
    "closed",
    "disk",
    "42",
    "Timeout",
    "ÉCOLE",
];
pub const CJK_WORDS: &[&str] = &["用户", "登录", "失败", "数据库", "超时", "连接", "ログイン", "失敗", "로그인", "실패", "错"];
const SEPARATORS: &[&str] = &[" ", " ", " ", ", ", ". ", ": ", "", "_", "-", "/", " (", ") ", "="];
pub const USERS: &[&str] = &["alice", "bob", "John Smith", "/api/v1", "api-gw", "Alice", "al", "用户甲"];
pub const HOSTS: &[&str] = &["web-1", "web-2", "db-1"];
pub const SERVICES: &[&str] = &["checkout", "auth", "search"];
const LEVELS: &[Level] = &[Level::Trace, Level::Debug, Level::Info, Level::Info, Level::Warn, Level::Error, Level::Fatal, Level::Unknown];

/// A small deterministic generator (SplitMix64), so the corpus is the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub struct Corpus {
    pub records: Vec<LogRecord>,
    /// Search window covering every record.
    pub from: i64,
    pub to: i64,
}

fn message(rng: &mut Rng) -> String {
    let mut m = String::new();
    for i in 0..(2 + rng.below(9)) {
        if i > 0 {
            m.push_str(rng.pick::<&str>(SEPARATORS));
        }
        if rng.chance(30) {
            m.push_str(rng.pick::<&str>(CJK_WORDS));
        } else {
            m.push_str(rng.pick::<&str>(ASCII_WORDS));
        }
    }
    if rng.chance(5) {
        m.push_str(" at 12:30 see http://x.example/a");
    }
    m
}

impl Corpus {
    pub fn generate(n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let records = (0..n).map(|i| record(&mut rng, i)).collect();
        Self { records, from: T0, to: T0 + SPAN_SECONDS * 1_000_000 }
    }
}

fn record(rng: &mut Rng, i: usize) -> LogRecord {
    let mut fields = BTreeMap::new();
    match rng.below(10) {
        0..=5 => drop(fields.insert("status".into(), FieldValue::Long(*rng.pick(&[200, 201, 404, 500, 503])))),
        6 | 7 => drop(fields.insert("status".into(), FieldValue::String((*rng.pick(&["200", "abc", "503", "5xx"])).into()))),
        _ => {}
    }
    match rng.below(10) {
        0..=4 => drop(fields.insert("latency".into(), FieldValue::Long(rng.below(1000) as i64))),
        5..=7 => drop(fields.insert("latency".into(), FieldValue::Double(rng.below(2000) as f64 / 2.0 + 0.25))),
        8 => drop(fields.insert("latency".into(), FieldValue::Double(rng.below(1000) as f64))),
        _ => {}
    }
    if rng.chance(70) {
        fields.insert("user".into(), FieldValue::String((*rng.pick(USERS)).into()));
    }
    if rng.chance(50) {
        fields.insert("flag".into(), FieldValue::Bool(rng.chance(50)));
    }
    if rng.chance(40) {
        fields.insert("http.method".into(), FieldValue::String((*rng.pick(&["GET", "POST"])).into()));
    }
    if rng.chance(10) {
        fields.insert("note".into(), FieldValue::Null);
    }
    if rng.chance(3) {
        fields.insert("blob".into(), FieldValue::String("z".repeat(2100)));
    } else if rng.chance(10) {
        fields.insert("blob".into(), FieldValue::String("small".into()));
    }
    if rng.chance(30) {
        fields.insert("ratio".into(), FieldValue::Double(rng.below(8) as f64 / 4.0));
    }
    let timestamp = T0 + (rng.below(SPAN_SECONDS as u64 * 1000) as i64) * 1000;
    LogRecord {
        id: format!("r{i:05}"),
        project_id: PROJECT.into(),
        timestamp,
        timestamp_source: if rng.chance(80) { TimestampSource::Event } else { TimestampSource::Received },
        received_at: timestamp + 1000,
        level: *rng.pick(LEVELS),
        message: message(rng),
        host: rng.chance(80).then(|| (*rng.pick(HOSTS)).to_owned()),
        service: rng.chance(70).then(|| (*rng.pick(SERVICES)).to_owned()),
        source: if rng.chance(80) { SourceKind::Http } else { SourceKind::Syslog },
        fields,
        parse_status: if rng.chance(90) { ParseStatus::Ok } else { ParseStatus::Partial },
        parse_errors: Vec::new(),
        trace_id: rng.chance(30).then(|| format!("t{}", rng.below(20))),
        span_id: None,
    }
}

/// Queries that each exercise one rule of the language.
pub const EXAMPLES: &[&str] = &[
    "",
    "timeout",
    "TIMEOUT error",
    "timeout OR database",
    "error -timeout",
    "NOT error",
    "\"connection reset\"",
    "\"reset connection\"",
    "登录",
    "户登",
    "登录失败",
    "\"用户 登录\"",
    "ログイン",
    "로그인",
    "错",
    "école",
    "12:30",
    "http://x.example/a",
    "time*",
    "message:con*",
    "level:error",
    "level:WARNING",
    "level:>=warn",
    "level:[debug TO info]",
    "level:{trace TO error}",
    "level:<info",
    "level:unknown",
    "level:E*",
    "host:web-1",
    "host:web*",
    "host:*",
    "-host:*",
    "-(timestamp:>2023-11-14T23:30:00Z latency:>0)",
    "service:auth OR service:search",
    "source:syslog",
    "parse_status:partial",
    "timestamp_source:received",
    "trace_id:t3",
    "trace_id:*",
    "id:r00042",
    "id:r0004*",
    "status:200",
    "status:503",
    "status:abc",
    "status:200.0",
    "status:5*",
    "status:>=500",
    "status:[200 TO 404]",
    "status:*",
    "latency:>500",
    "latency:<=10.25",
    "latency:{100 TO 200}",
    "latency:[* TO 3]",
    "latency:[0 TO *]",
    "latency:100",
    "latency:*",
    "ratio:0.5",
    "ratio:1",
    "ratio:>=1",
    "user:alice",
    "user:\"John Smith\"",
    "user:/api*",
    "user:al*",
    "user:Al*",
    "user:用户甲",
    "flag:true",
    "flag:false",
    "flag:*",
    "http.method:GET",
    "fields.http.method:POST",
    "note:*",
    "blob:*",
    "blob:small",
    "missing:*",
    "missing:x",
    "timestamp:>=2023-11-14T23:45:00Z",
    "timestamp:[2023-11-14T23:50:00Z TO 2023-11-15T00:10:00Z}",
    "(error OR timeout) (level:error OR -host:web-1) latency:>100",
    "NOT (user:* OR status:*)",
    "*",
    "\\-\\-\\-",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(ASCII_WORDS).prop_map(str::to_owned),
        2 => proptest::sample::select(CJK_WORDS).prop_map(str::to_owned),
        1 => proptest::sample::select(&["户登", "登录失", "ログ", "con*", "time*", "fail*", "12:30", "x.example"][..]).prop_map(str::to_owned),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..1000).prop_map(|n| n.to_string()),
        (0i64..2000).prop_map(|n| format!("{}", n as f64 / 2.0 + 0.25)),
        proptest::sample::select(&["200", "404", "500", "503", "0", "-1", "0.5", "1"][..]).prop_map(str::to_owned),
    ]
}

fn time() -> impl Strategy<Value = String> {
    (0i64..SPAN_SECONDS).prop_map(|s| nexuslog_query::time::format_rfc3339(T0 + s * 1_000_000))
}

fn range(bound: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let b = prop_oneof![4 => bound, 1 => Just("*".to_owned())];
    (proptest::sample::select(&["[", "{"][..]), b.clone(), b, proptest::sample::select(&["]", "}"][..]))
        .prop_map(|(o, l, u, c)| format!("{o}{l} TO {u}{c}"))
}

fn comparison(bound: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    (proptest::sample::select(&[">", ">=", "<", "<="][..]), bound).prop_map(|(op, v)| format!("{op}{v}"))
}

fn leaf() -> impl Strategy<Value = String> {
    let level = proptest::sample::select(&["trace", "debug", "info", "warn", "error", "fatal"][..]).prop_map(str::to_owned).boxed();
    prop_oneof![
        6 => word(),
        2 => (word(), word()).prop_map(|(a, b)| format!("\"{} {}\"", a.trim_end_matches('*'), b.trim_end_matches('*'))),
        2 => level.clone().prop_map(|l| format!("level:{l}")),
        1 => comparison(level.clone()).prop_map(|c| format!("level:{c}")),
        1 => range(level).prop_map(|r| format!("level:{r}")),
        2 => proptest::sample::select(HOSTS).prop_map(|h| format!("host:{h}")),
        1 => proptest::sample::select(SERVICES).prop_map(|h| format!("service:{h}")),
        2 => proptest::sample::select(&["host", "service", "trace_id", "status", "latency", "user", "flag", "note", "blob", "ratio", "http.method", "nothing"][..])
            .prop_map(|f| format!("{f}:*")),
        2 => number().prop_map(|n| format!("status:{n}")),
        1 => proptest::sample::select(&["abc", "5*", "2*", "5xx"][..]).prop_map(|v| format!("status:{v}")),
        2 => comparison(number().boxed()).prop_map(|c| format!("latency:{c}")),
        2 => range(number().boxed()).prop_map(|r| format!("latency:{r}")),
        1 => range(number().boxed()).prop_map(|r| format!("status:{r}")),
        1 => number().prop_map(|n| format!("ratio:{n}")),
        2 => proptest::sample::select(USERS).prop_map(|u| format!("user:\"{u}\"")),
        1 => proptest::sample::select(&["al*", "A*", "/api*", "api-*", "用*"][..]).prop_map(|u| format!("user:{u}")),
        1 => proptest::sample::select(&["true", "false"][..]).prop_map(|b| format!("flag:{b}")),
        1 => comparison(time().boxed()).prop_map(|c| format!("timestamp:{c}")),
        1 => range(time().boxed()).prop_map(|r| format!("timestamp:{r}")),
    ]
}

/// Random queries: leaves combined with AND (adjacency), OR, NOT, `-` and parentheses.
pub fn query_strategy() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|parts| parts.join(" ")),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|parts| format!("({})", parts.join(" OR "))),
            inner.clone().prop_map(|q| format!("NOT ({q})")),
            inner.prop_map(|q| format!("-({q})")),
        ]
    })
}
