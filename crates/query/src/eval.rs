//! Evaluation of a query on one record in memory: what the live tail and alert rules use, and
//! the reference the stores are tested against. Each rule here is what the store compilers
//! (`crates/logstore`) build as native queries.

use std::cell::OnceCell;
use std::ops::Bound;

use nexuslog_schemas::{FieldValue, LogRecord};

use crate::ast::{levels_in, parse_level, FieldOp, FieldRef, Query, RangeValue, StandardField};
use crate::is_indexed_text;
use crate::tokenize::{contains_phrase, terms, tokenize, Token, MAX_TOKEN_BYTES};

/// Whether `record` matches `query`.
pub fn matches(query: &Query, record: &LogRecord) -> bool {
    Record { record, tokens: OnceCell::new() }.matches(query)
}

/// A record being evaluated, with its message tokens made once, when a word first needs them.
pub struct Record<'a> {
    record: &'a LogRecord,
    tokens: OnceCell<Vec<Token>>,
}

impl<'a> Record<'a> {
    pub fn new(record: &'a LogRecord) -> Self {
        Self { record, tokens: OnceCell::new() }
    }

    fn tokens(&self) -> &[Token] {
        self.tokens.get_or_init(|| tokenize(&self.record.message))
    }

    pub fn matches(&self, q: &Query) -> bool {
        match q {
            Query::All => true,
            Query::Word(w) | Query::Phrase(w) => self.has_phrase(w),
            // Conditions on fields first: most records fail them, and then the message is
            // never tokenized (the answer is the same in any order).
            Query::And(parts) => {
                parts.iter().filter(|p| !p.reads_message()).all(|p| self.matches(p)) && parts.iter().filter(|p| p.reads_message()).all(|p| self.matches(p))
            }
            Query::Or(parts) => parts.iter().any(|p| self.matches(p)),
            Query::Not(inner) => !self.matches(inner),
            Query::Field { field, op } => self.field(field, op),
        }
    }

    /// Whether the message holds the words of `text` in order. A plain ASCII word (the usual
    /// query) is its own single lower-cased term, compared without building the term list.
    fn has_phrase(&self, text: &str) -> bool {
        if !text.is_empty() && text.len() <= MAX_TOKEN_BYTES && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return self.tokens().iter().any(|t| t.text.eq_ignore_ascii_case(text));
        }
        contains_phrase(self.tokens(), &terms(text))
    }

    fn field(&self, field: &FieldRef, op: &FieldOp) -> bool {
        let r = self.record;
        match field {
            FieldRef::Message => match op {
                FieldOp::Prefix(p) => self.tokens().iter().any(|t| t.text.starts_with(p.as_str())),
                FieldOp::Exists => true,
                // The parser turns these into words and phrases; ranges are refused.
                FieldOp::Eq(w) => self.has_phrase(w),
                FieldOp::Range { .. } => false,
            },
            FieldRef::Timestamp => match op {
                FieldOp::Range { lower, upper } => in_range(r.timestamp as f64, lower, upper, |v| match v {
                    RangeValue::Time(t) => Some(*t as f64),
                    _ => None,
                }),
                FieldOp::Exists => true,
                FieldOp::Eq(_) | FieldOp::Prefix(_) => false,
            },
            FieldRef::Level => {
                let symbol = r.level.symbol();
                match op {
                    // As `symbol == level_symbol(v)`, without allocating.
                    FieldOp::Eq(v) => parse_level(v).map_or_else(|| symbol.eq_ignore_ascii_case(v), |l| l == r.level),
                    FieldOp::Prefix(p) => starts_with_ignore_ascii_case(symbol, p),
                    FieldOp::Exists => true,
                    FieldOp::Range { lower, upper } => levels_in(lower, upper).contains(&r.level),
                }
            }
            FieldRef::Standard(f) => {
                let value = standard_value(r, *f);
                match op {
                    // Symbols are stored upper case: as comparing with `standard_query_value`.
                    FieldOp::Eq(v) if f.is_symbol() => value.is_some_and(|s| s.eq_ignore_ascii_case(v)),
                    FieldOp::Eq(v) => value == Some(v.as_str()),
                    FieldOp::Prefix(p) if f.is_symbol() => value.is_some_and(|s| starts_with_ignore_ascii_case(s, p)),
                    FieldOp::Prefix(p) => value.is_some_and(|s| s.starts_with(p.as_str())),
                    FieldOp::Exists => value.is_some(),
                    FieldOp::Range { .. } => false,
                }
            }
            FieldRef::Extracted(name) => r.fields.get(name).is_some_and(|value| extracted(value, op)),
        }
    }
}

/// `s` starts with `prefix`, ASCII letters in any case (`prefix` may end inside a character).
fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The stored value of a standard field.
pub fn standard_value(r: &LogRecord, f: StandardField) -> Option<&str> {
    match f {
        StandardField::Id => Some(&r.id),
        StandardField::Host => r.host.as_deref(),
        StandardField::Service => r.service.as_deref(),
        StandardField::Source => Some(r.source.symbol()),
        StandardField::ParseStatus => Some(r.parse_status.symbol()),
        StandardField::TimestampSource => Some(r.timestamp_source.symbol()),
        StandardField::TraceId => r.trace_id.as_deref(),
        StandardField::SpanId => r.span_id.as_deref(),
    }
}

/// A value written in a query for a standard field, as stored: enum symbols upper case.
pub fn standard_query_value(f: StandardField, v: &str) -> String {
    if f.is_symbol() {
        v.to_ascii_uppercase()
    } else {
        v.to_owned()
    }
}

/// The stored level symbol a query value means (`warning` → `WARN`; unknown names upper-cased).
pub fn level_symbol(v: &str) -> String {
    parse_level(v).map_or_else(|| v.to_ascii_uppercase(), |l| l.symbol().to_owned())
}

/// `x` as an i64 when it is a whole number in range.
pub fn whole_i64(x: f64) -> Option<i64> {
    // -2^63 and 2^63 are exact doubles; i64::MAX is not (it rounds up to 2^63).
    (x.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)).then_some(x as i64)
}

/// The number an extracted value is compared as in ranges and numeric aggregations.
pub fn numeric_value(v: &FieldValue) -> Option<f64> {
    match v {
        FieldValue::Long(i) => Some(*i as f64),
        FieldValue::Double(x) if x.is_finite() => Some(*x),
        _ => None,
    }
}

fn extracted(value: &FieldValue, op: &FieldOp) -> bool {
    match op {
        FieldOp::Eq(v) => match value {
            FieldValue::String(s) => s == v && is_indexed_text(s),
            FieldValue::Long(i) => {
                v.parse::<i64>().ok().or_else(|| v.parse::<f64>().ok().filter(|x| x.is_finite()).and_then(whole_i64)) == Some(*i)
            }
            FieldValue::Double(x) => x.is_finite() && v.parse::<f64>().ok() == Some(*x),
            FieldValue::Bool(b) => v.parse::<bool>().ok() == Some(*b),
            FieldValue::Null => false,
        },
        FieldOp::Prefix(p) => {
            matches!(value, FieldValue::String(s) if is_indexed_text(s) && s.starts_with(p.as_str()))
        }
        FieldOp::Exists => match value {
            FieldValue::Null => false,
            FieldValue::Double(x) => x.is_finite(),
            FieldValue::String(s) => is_indexed_text(s),
            FieldValue::Long(_) | FieldValue::Bool(_) => true,
        },
        FieldOp::Range { lower, upper } => numeric_value(value).is_some_and(|x| {
            in_range(x, lower, upper, |v| match v {
                RangeValue::Number(n) => Some(*n),
                _ => None,
            })
        }),
    }
}

/// Whether `x` lies within the bounds; a bound of the wrong kind matches nothing.
fn in_range(x: f64, lower: &Bound<RangeValue>, upper: &Bound<RangeValue>, read: impl Fn(&RangeValue) -> Option<f64>) -> bool {
    let low_ok = match lower {
        Bound::Included(v) => read(v).is_some_and(|b| x >= b),
        Bound::Excluded(v) => read(v).is_some_and(|b| x > b),
        Bound::Unbounded => true,
    };
    let high_ok = match upper {
        Bound::Included(v) => read(v).is_some_and(|b| x <= b),
        Bound::Excluded(v) => read(v).is_some_and(|b| x < b),
        Bound::Unbounded => true,
    };
    low_ok && high_ok
}
