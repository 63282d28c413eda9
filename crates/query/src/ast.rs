//! The query AST: what a query means, independent of how it was written. Parsed once, then
//! compiled to OpenSearch, to Tantivy, or evaluated on a record ([`crate::matches`]).
//!
//! `Display` prints the canonical form, which parses back to the same AST.

use std::fmt;
use std::ops::Bound;

use nexuslog_schemas::Level;

/// A query.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Query {
    /// Every record (the empty query, or `*`).
    #[default]
    All,
    /// A bare word, on `message`: its tokens must appear in order (one token for most words).
    Word(String),
    /// `"a phrase"` on `message`: its tokens must appear in order, adjacent.
    Phrase(String),
    /// A condition on one field.
    Field {
        field: FieldRef,
        op: FieldOp,
    },
    /// Every part matches. At least two parts, none of them an `And`.
    And(Vec<Query>),
    /// Some part matches. At least two parts, none of them an `Or`.
    Or(Vec<Query>),
    Not(Box<Query>),
}

/// What a field name in a query refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldRef {
    /// `message`: prefix and exists only (words are [`Query::Word`]).
    Message,
    /// `timestamp` (or `@timestamp`): ranges of times.
    Timestamp,
    /// `level`: exact, prefix, exists, and ranges of severity.
    Level,
    /// Another standard field, stored as an exact keyword.
    Standard(StandardField),
    /// An extracted field, by its name in the record's `fields` (dots are part of the name).
    Extracted(String),
}

/// Standard fields stored as exact keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StandardField {
    Id,
    Host,
    Service,
    Source,
    ParseStatus,
    TimestampSource,
    TraceId,
    SpanId,
}

impl StandardField {
    pub const ALL: [StandardField; 8] =
        [Self::Id, Self::Host, Self::Service, Self::Source, Self::ParseStatus, Self::TimestampSource, Self::TraceId, Self::SpanId];

    /// The field's name in queries and in stored documents.
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Host => "host",
            Self::Service => "service",
            Self::Source => "source",
            Self::ParseStatus => "parse_status",
            Self::TimestampSource => "timestamp_source",
            Self::TraceId => "trace_id",
            Self::SpanId => "span_id",
        }
    }

    /// Fields holding an enum symbol (stored upper case): values are matched case-insensitively.
    pub fn is_symbol(self) -> bool {
        matches!(self, Self::Source | Self::ParseStatus | Self::TimestampSource)
    }

    /// Fields every record has.
    pub fn always_present(self) -> bool {
        matches!(self, Self::Id | Self::Source | Self::ParseStatus | Self::TimestampSource)
    }
}

impl FieldRef {
    /// The field a name in a query refers to: standard names first, then `fields.<name>` or any
    /// other name as an extracted field.
    pub fn resolve(name: &str) -> FieldRef {
        match name {
            "message" => FieldRef::Message,
            "timestamp" | "@timestamp" => FieldRef::Timestamp,
            "level" => FieldRef::Level,
            n => match StandardField::ALL.iter().find(|f| f.name() == n) {
                Some(f) => FieldRef::Standard(*f),
                None => FieldRef::Extracted(n.strip_prefix("fields.").unwrap_or(n).to_owned()),
            },
        }
    }

    /// The name as printed in canonical queries.
    pub fn name(&self) -> String {
        match self {
            FieldRef::Message => "message".into(),
            FieldRef::Timestamp => "timestamp".into(),
            FieldRef::Level => "level".into(),
            FieldRef::Standard(f) => f.name().into(),
            // An extracted field named like a standard one keeps its `fields.` prefix, and so
            // does a name that would not read as one on its own (empty, or `1x`, `-x`, `.x`).
            FieldRef::Extracted(n) => match FieldRef::resolve(n) {
                FieldRef::Extracted(_)
                    if !n.starts_with("fields.") && n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '@') =>
                {
                    n.clone()
                }
                _ => format!("fields.{n}"),
            },
        }
    }
}

/// A condition on a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldOp {
    /// `field:value`: the exact value. An extracted field also matches a number or boolean
    /// equal to the value read as one (`status:503` finds 503 and "503").
    Eq(String),
    /// `field:prefix*`: a text value starting with the prefix (numbers never match).
    Prefix(String),
    /// `field:*`: the record has a value in the field.
    Exists,
    /// `field:>5`, `field:[1 TO 5]`, ...: numbers (compared as 64-bit floats), times or levels.
    Range { lower: Bound<RangeValue>, upper: Bound<RangeValue> },
}

/// A bound of a range, typed by the field it applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeValue {
    Number(f64),
    /// Microseconds since the epoch.
    Time(i64),
    Level(Level),
}

/// Severities in order, for `level` ranges. `UNKNOWN` is in no range.
pub const LEVEL_ORDER: [Level; 6] = [Level::Trace, Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal];

/// The rank of a level in [`LEVEL_ORDER`].
pub fn level_rank(level: Level) -> Option<usize> {
    LEVEL_ORDER.iter().position(|l| *l == level)
}

/// The levels within a `level` range, in order of severity.
pub fn levels_in(lower: &Bound<RangeValue>, upper: &Bound<RangeValue>) -> Vec<Level> {
    let rank = |v: &RangeValue| match v {
        RangeValue::Level(l) => level_rank(*l),
        _ => None,
    };
    LEVEL_ORDER
        .iter()
        .enumerate()
        .filter(|(r, _)| {
            (match lower {
                Bound::Included(v) => rank(v).is_some_and(|b| *r >= b),
                Bound::Excluded(v) => rank(v).is_some_and(|b| *r > b),
                Bound::Unbounded => true,
            }) && (match upper {
                Bound::Included(v) => rank(v).is_some_and(|b| *r <= b),
                Bound::Excluded(v) => rank(v).is_some_and(|b| *r < b),
                Bound::Unbounded => true,
            })
        })
        .map(|(_, l)| *l)
        .collect()
}

/// Reads a level name as users write it (`warn`, `WARNING`, `err`, ...). Without allocating:
/// alert rules and the live tail call it for every record.
pub fn parse_level(s: &str) -> Option<Level> {
    const NAMES: [(&str, Level); 16] = [
        ("trace", Level::Trace),
        ("debug", Level::Debug),
        ("info", Level::Info),
        ("information", Level::Info),
        ("informational", Level::Info),
        ("notice", Level::Info),
        ("warn", Level::Warn),
        ("warning", Level::Warn),
        ("error", Level::Error),
        ("err", Level::Error),
        ("fatal", Level::Fatal),
        ("critical", Level::Fatal),
        ("crit", Level::Fatal),
        ("emergency", Level::Fatal),
        ("emerg", Level::Fatal),
        ("alert", Level::Fatal),
    ];
    NAMES.iter().find(|(name, _)| name.eq_ignore_ascii_case(s)).map(|(_, l)| *l)
}

impl Query {
    /// Whether evaluating this needs the message's words (the costly part in memory).
    pub fn reads_message(&self) -> bool {
        match self {
            Query::All => false,
            Query::Word(_) | Query::Phrase(_) => true,
            Query::And(parts) | Query::Or(parts) => parts.iter().any(Query::reads_message),
            Query::Not(inner) => inner.reads_message(),
            Query::Field { field, .. } => matches!(field, FieldRef::Message),
        }
    }

    /// `a AND b`, flattening nested ANDs and dropping `All` parts.
    pub fn and(parts: Vec<Query>) -> Query {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Query::And(inner) => flat.extend(inner),
                Query::All => {}
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Query::All,
            1 => flat.pop().unwrap_or(Query::All),
            _ => Query::And(flat),
        }
    }

    /// `a OR b`, flattening nested ORs.
    pub fn or(parts: Vec<Query>) -> Query {
        let mut flat = Vec::new();
        for p in parts {
            match p {
                Query::Or(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Query::All,
            1 => flat.pop().unwrap_or(Query::All),
            _ => Query::Or(flat),
        }
    }

    /// The depth of nesting (a leaf is 1).
    pub fn depth(&self) -> usize {
        match self {
            Query::And(parts) | Query::Or(parts) => 1 + parts.iter().map(Query::depth).max().unwrap_or(0),
            Query::Not(inner) => 1 + inner.depth(),
            _ => 1,
        }
    }
}

// ---- canonical printing ----

/// Characters that end a bare word or value, or start something else.
fn is_special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '\\' | ':' | '*' | '[' | ']' | '{' | '}' | '<' | '>' | '=')
}

/// A bare token, with backslashes before every special character (and a leading `-`, and a
/// keyword), so it reads back as the same text.
fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    if matches!(s, "AND" | "OR" | "NOT" | "TO") || s.starts_with('-') {
        out.push('\\');
    }
    for c in s.chars() {
        if is_special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A field value: bare when that reads back the same, quoted otherwise.
fn value_text(s: &str) -> String {
    if !s.is_empty() && !s.starts_with("//") && !s.chars().any(is_special) {
        s.to_owned()
    } else {
        quoted(s)
    }
}

impl fmt::Display for RangeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Rust prints the shortest text that reads back as the same f64, never an exponent.
            RangeValue::Number(x) => write!(f, "{x}"),
            RangeValue::Time(t) => f.write_str(&time_text(*t)),
            RangeValue::Level(l) => f.write_str(&l.symbol().to_ascii_lowercase()),
        }
    }
}

/// A time as the parser reads it back: RFC 3339 for the years it has (0000 to 9999), epoch
/// milliseconds otherwise.
fn time_text(t: i64) -> String {
    use chrono::{DateTime, Datelike, FixedOffset};
    match DateTime::from_timestamp_micros(t) {
        Some(dt) if (0..=9999).contains(&dt.year()) => crate::time::format_rfc3339(t),
        _ if t % 1000 == 0 => (t / 1000).to_string(),
        // Less than a day outside those years, from RFC 3339 with an offset: print it with one.
        Some(dt) => match FixedOffset::east_opt(if dt.year() < 0 { 86_340 } else { -86_340 }) {
            Some(offset) => dt.with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string(),
            None => t.to_string(),
        },
        // Epoch milliseconds saturated at i64::MIN or i64::MAX microseconds read back the same.
        None => t.to_string(),
    }
}

fn bound_text(b: &Bound<RangeValue>) -> String {
    match b {
        Bound::Included(v) | Bound::Excluded(v) => v.to_string(),
        Bound::Unbounded => "*".into(),
    }
}

impl fmt::Display for FieldOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldOp::Eq(v) => f.write_str(&value_text(v)),
            // `name://...` would read as a URL, not a field: escape the first slash.
            FieldOp::Prefix(p) if p.starts_with("//") => write!(f, "\\{}*", escaped(p)),
            FieldOp::Prefix(p) => write!(f, "{}*", escaped(p)),
            FieldOp::Exists => f.write_str("*"),
            FieldOp::Range { lower, upper } => match (lower, upper) {
                (Bound::Included(v), Bound::Unbounded) => write!(f, ">={v}"),
                (Bound::Excluded(v), Bound::Unbounded) => write!(f, ">{v}"),
                (Bound::Unbounded, Bound::Included(v)) => write!(f, "<={v}"),
                (Bound::Unbounded, Bound::Excluded(v)) => write!(f, "<{v}"),
                (l, u) => {
                    let open = if matches!(l, Bound::Excluded(_)) { '{' } else { '[' };
                    let close = if matches!(u, Bound::Excluded(_)) { '}' } else { ']' };
                    write!(f, "{open}{} TO {}{close}", bound_text(l), bound_text(u))
                }
            },
        }
    }
}

impl Query {
    /// Prints `self` as a part of a query at `level` of precedence (0 = OR, 1 = AND, 2 = NOT):
    /// in parentheses when it binds less tightly than its place requires.
    fn write(&self, f: &mut fmt::Formatter<'_>, level: u8) -> fmt::Result {
        match self {
            Query::All => f.write_str("*"),
            Query::Word(w) => f.write_str(&escaped(w)),
            Query::Phrase(p) => f.write_str(&quoted(p)),
            Query::Field { field, op } => write!(f, "{}:{op}", field.name()),
            Query::Not(inner) => {
                f.write_str("NOT ")?;
                inner.write(f, 2)
            }
            Query::And(parts) | Query::Or(parts) => {
                let (mine, sep) = if matches!(self, Query::And(_)) { (1, " ") } else { (0, " OR ") };
                if level > mine {
                    f.write_str("(")?;
                }
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    p.write(f, mine + 1)?;
                }
                if level > mine {
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}
