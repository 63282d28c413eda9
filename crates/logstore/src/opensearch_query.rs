//! The query AST compiled to OpenSearch query DSL, built as JSON values (never by splicing
//! text). Each rule mirrors `nexuslog_query::matches`; the three-way agreement test holds them
//! equal.
//!
//! Message words are matched on `message_terms`: the message's tokens made by
//! `nexuslog_query::tokenize` at index time and split again on spaces by OpenSearch's
//! `whitespace` analyzer, so OpenSearch's own text analysis never makes it disagree.

use std::ops::Bound;

use nexuslog_query::tokenize::terms;
use nexuslog_query::{level_symbol, levels_in, standard_query_value, whole_i64, FieldOp, FieldRef, Query, RangeValue, StandardField};
use serde_json::{json, Map, Value};

use crate::document::{BOOL_FIELDS, DOUBLE_FIELDS, LONG_FIELDS, STRING_FIELDS};

/// The field holding the message's tokens (not in `_source`).
pub(crate) const MESSAGE_TERMS: &str = "message_terms";
/// The object holding every numeric extracted value as a double (not in `_source`): ranges
/// and numeric aggregations read one field whether a value was written as 2 or 2.5.
pub(crate) const NUMBER_FIELDS: &str = "fields_num";

/// The OpenSearch query for `q`.
pub(crate) fn compile(q: &Query) -> Value {
    match q {
        Query::All => json!({ "match_all": {} }),
        Query::Word(w) | Query::Phrase(w) => words(&terms(w)),
        Query::And(parts) => {
            json!({ "bool": { "filter": parts.iter().map(compile).collect::<Vec<_>>() } })
        }
        Query::Or(parts) => {
            json!({ "bool": { "should": parts.iter().map(compile).collect::<Vec<_>>(), "minimum_should_match": 1 } })
        }
        Query::Not(inner) => json!({ "bool": { "must_not": [compile(inner)] } }),
        Query::Field { field, op } => field_query(field, op),
    }
}

fn words(terms: &[String]) -> Value {
    match terms {
        [] => json!({ "match_none": {} }),
        [one] => json!({ "term": { MESSAGE_TERMS: one } }),
        many => {
            json!({ "match_phrase": { MESSAGE_TERMS: { "query": many.join(" "), "analyzer": "whitespace" } } })
        }
    }
}

fn any_of(queries: Vec<Value>) -> Value {
    match queries.len() {
        0 => json!({ "match_none": {} }),
        1 => queries.into_iter().next().unwrap_or(Value::Null),
        _ => json!({ "bool": { "should": queries, "minimum_should_match": 1 } }),
    }
}

fn range(field: &str, lower: &Bound<Value>, upper: &Bound<Value>) -> Value {
    let mut r = Map::new();
    match lower {
        Bound::Included(v) => drop(r.insert("gte".into(), v.clone())),
        Bound::Excluded(v) => drop(r.insert("gt".into(), v.clone())),
        Bound::Unbounded => {}
    }
    match upper {
        Bound::Included(v) => drop(r.insert("lte".into(), v.clone())),
        Bound::Excluded(v) => drop(r.insert("lt".into(), v.clone())),
        Bound::Unbounded => {}
    }
    if r.is_empty() {
        return json!({ "exists": { "field": field } });
    }
    json!({ "range": { field: r } })
}

fn map_bound(b: &Bound<RangeValue>, f: impl Fn(&RangeValue) -> Option<Value>) -> Option<Bound<Value>> {
    Some(match b {
        Bound::Included(v) => Bound::Included(f(v)?),
        Bound::Excluded(v) => Bound::Excluded(f(v)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

fn field_query(field: &FieldRef, op: &FieldOp) -> Value {
    match field {
        FieldRef::Message => match op {
            FieldOp::Prefix(p) => json!({ "prefix": { MESSAGE_TERMS: p } }),
            FieldOp::Eq(w) => words(&terms(w)),
            FieldOp::Exists => json!({ "match_all": {} }),
            FieldOp::Range { .. } => json!({ "match_none": {} }),
        },
        FieldRef::Timestamp => match op {
            FieldOp::Range { lower, upper } => {
                let time = |v: &RangeValue| match v {
                    RangeValue::Time(t) => Some(json!(t)),
                    _ => None,
                };
                match (map_bound(lower, time), map_bound(upper, time)) {
                    (Some(Bound::Unbounded), Some(Bound::Unbounded)) => json!({ "match_all": {} }),
                    (Some(l), Some(u)) => range("timestamp_us", &l, &u),
                    _ => json!({ "match_none": {} }),
                }
            }
            FieldOp::Exists => json!({ "match_all": {} }),
            FieldOp::Eq(_) | FieldOp::Prefix(_) => json!({ "match_none": {} }),
        },
        FieldRef::Level => match op {
            FieldOp::Eq(v) => json!({ "term": { "level": level_symbol(v) } }),
            FieldOp::Prefix(p) => json!({ "prefix": { "level": p.to_ascii_uppercase() } }),
            FieldOp::Exists => json!({ "match_all": {} }),
            FieldOp::Range { lower, upper } => {
                let inside: Vec<&str> = levels_in(lower, upper).into_iter().map(|l| l.symbol()).collect();
                if inside.is_empty() {
                    json!({ "match_none": {} })
                } else {
                    json!({ "terms": { "level": inside } })
                }
            }
        },
        FieldRef::Standard(s) => standard(*s, op),
        FieldRef::Extracted(name) => extracted(name, op),
    }
}

fn standard(s: StandardField, op: &FieldOp) -> Value {
    let name = s.name();
    match op {
        FieldOp::Eq(v) => json!({ "term": { name: standard_query_value(s, v) } }),
        FieldOp::Prefix(p) => json!({ "prefix": { name: standard_query_value(s, p) } }),
        FieldOp::Exists if s.always_present() => json!({ "match_all": {} }),
        FieldOp::Exists => json!({ "exists": { "field": name } }),
        FieldOp::Range { .. } => json!({ "match_none": {} }),
    }
}

fn extracted(name: &str, op: &FieldOp) -> Value {
    match op {
        FieldOp::Eq(value) => {
            // The value as a string, and as each other type it parses as. A term query never
            // carries a value its field cannot parse (OpenSearch answers 400 for `"abc"` on a
            // long). `match` on a keyword is an exact term; `lenient` keeps indices from before
            // typed objects, where `fields.<name>` may be numeric, from failing the search.
            let mut should = vec![json!({ "match": { format!("{STRING_FIELDS}.{name}"): { "query": value, "lenient": true } } })];
            let number = value.parse::<f64>().ok().filter(|x| x.is_finite());
            // A whole number written as `200.0` equals the long 200, as in Tantivy.
            let long = value.parse::<i64>().ok().or_else(|| number.and_then(whole_i64));
            if let Some(i) = long {
                should.push(json!({ "term": { format!("{LONG_FIELDS}.{name}"): i } }));
            }
            if let Some(x) = number {
                should.push(json!({ "term": { format!("{DOUBLE_FIELDS}.{name}"): x } }));
            }
            if let Ok(b) = value.parse::<bool>() {
                should.push(json!({ "term": { format!("{BOOL_FIELDS}.{name}"): b } }));
            }
            any_of(should)
        }
        FieldOp::Prefix(p) => json!({ "prefix": { format!("{STRING_FIELDS}.{name}"): p } }),
        FieldOp::Exists => any_of(
            [STRING_FIELDS, NUMBER_FIELDS, BOOL_FIELDS]
                .iter()
                .map(|object| json!({ "exists": { "field": format!("{object}.{name}") } }))
                .collect(),
        ),
        FieldOp::Range { lower, upper } => {
            let number = |v: &RangeValue| match v {
                RangeValue::Number(x) => Some(json!(x)),
                _ => None,
            };
            match (map_bound(lower, number), map_bound(upper, number)) {
                (Some(l), Some(u)) => range(&format!("{NUMBER_FIELDS}.{name}"), &l, &u),
                _ => json!({ "match_none": {} }),
            }
        }
    }
}
