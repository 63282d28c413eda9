//! The query AST compiled to Tantivy queries, and the message tokenizer Tantivy runs.
//!
//! Each rule mirrors `nexuslog_query::matches`; the three-way agreement test holds them equal.
//! Prefixes and "exists" are ranges over the term dictionary; numeric ranges on extracted
//! fields are two ranges over it, one for the integer terms (whole numbers, including whole
//! doubles, which Tantivy indexes as integers) and one for the fractional doubles.

use std::ops::Bound;

use nexuslog_query::tokenize::{terms, tokenize};
use nexuslog_query::{level_symbol, levels_in, standard_query_value, FieldOp, FieldRef, Query, RangeValue, StandardField};
use tantivy::columnar::NumericalValue;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, InvertedIndexRangeQuery, Occur, PhraseQuery, Query as TantivyQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::{Token as TantivyToken, TokenStream, Tokenizer};
use tantivy::Term;

use crate::tantivy_store::Fields;

/// Name under which [`MessageTokenizer`] is registered on every index.
pub(crate) const MESSAGE_TOKENIZER: &str = "nexuslog_message";

/// `nexuslog_query::tokenize` as a Tantivy tokenizer, so indexed words are the query words.
#[derive(Clone, Default)]
pub(crate) struct MessageTokenizer;

pub(crate) struct MessageTokens {
    tokens: Vec<TantivyToken>,
    next: usize,
}

impl Tokenizer for MessageTokenizer {
    type TokenStream<'a> = MessageTokens;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MessageTokens {
        let tokens = tokenize(text)
            .into_iter()
            .map(|t| TantivyToken { offset_from: t.start, offset_to: t.end, position: t.position, text: t.text, position_length: 1 })
            .collect();
        MessageTokens { tokens, next: 0 }
    }
}

impl TokenStream for MessageTokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &TantivyToken {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.tokens[self.next - 1]
    }
}

type Boxed = Box<dyn TantivyQuery>;

/// The Tantivy query for `q` on an index with fields `f`.
pub(crate) fn compile(q: &Query, f: &Fields) -> Boxed {
    match q {
        Query::All => Box::new(AllQuery),
        Query::Word(w) | Query::Phrase(w) => words(f.message, &terms(w)),
        Query::And(parts) => Box::new(BooleanQuery::new(parts.iter().map(|p| (Occur::Must, compile(p, f))).collect())),
        Query::Or(parts) => Box::new(BooleanQuery::new(parts.iter().map(|p| (Occur::Should, compile(p, f))).collect())),
        Query::Not(inner) => {
            Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery) as Boxed), (Occur::MustNot, compile(inner, f))]))
        }
        Query::Field { field, op } => field_query(field, op, f),
    }
}

fn words(field: Field, terms: &[String]) -> Boxed {
    match terms {
        [] => Box::new(EmptyQuery),
        [one] => Box::new(TermQuery::new(Term::from_field_text(field, one), IndexRecordOption::Basic)),
        many => Box::new(PhraseQuery::new(many.iter().map(|t| Term::from_field_text(field, t)).collect())),
    }
}

fn any_of(queries: Vec<Boxed>) -> Boxed {
    match queries.len() {
        0 => Box::new(EmptyQuery),
        _ => Box::new(BooleanQuery::new(queries.into_iter().map(|q| (Occur::Should, q)).collect())),
    }
}

fn term(t: Term) -> Boxed {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

/// Terms that start with `lower`'s value: [lower, lower + 0xFF). No UTF-8 string contains the
/// byte 0xFF, so every string with the prefix sorts below the upper bound.
fn prefix_range(lower: Term) -> Boxed {
    let mut upper = lower.clone();
    upper.append_bytes(&[0xFF]);
    Box::new(InvertedIndexRangeQuery::new(Bound::Included(lower), Bound::Excluded(upper)))
}

fn field_query(field: &FieldRef, op: &FieldOp, f: &Fields) -> Boxed {
    match field {
        FieldRef::Message => match op {
            FieldOp::Prefix(p) => prefix_range(Term::from_field_text(f.message, p)),
            FieldOp::Eq(w) => words(f.message, &terms(w)),
            FieldOp::Exists => Box::new(AllQuery),
            FieldOp::Range { .. } => Box::new(EmptyQuery),
        },
        FieldRef::Timestamp => match op {
            FieldOp::Range { lower, upper } => {
                let time = |v: &RangeValue| match v {
                    RangeValue::Time(t) => Some(*t),
                    _ => None,
                };
                let (Some(lower), Some(upper)) = (map_bound(lower, time), map_bound(upper, time)) else {
                    return Box::new(EmptyQuery);
                };
                if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
                    return Box::new(AllQuery);
                }
                let t = |x: i64| Term::from_field_i64(f.ts, x);
                Box::new(RangeQuery::new(lower.map(t), upper.map(t)))
            }
            FieldOp::Exists => Box::new(AllQuery),
            FieldOp::Eq(_) | FieldOp::Prefix(_) => Box::new(EmptyQuery),
        },
        FieldRef::Level => {
            let Some(level) = f.strings.get("level").copied() else {
                return Box::new(EmptyQuery);
            };
            match op {
                FieldOp::Eq(v) => term(Term::from_field_text(level, &level_symbol(v))),
                FieldOp::Prefix(p) => prefix_range(Term::from_field_text(level, &p.to_ascii_uppercase())),
                FieldOp::Exists => Box::new(AllQuery),
                FieldOp::Range { lower, upper } => {
                    any_of(levels_in(lower, upper).into_iter().map(|l| term(Term::from_field_text(level, l.symbol()))).collect())
                }
            }
        }
        FieldRef::Standard(s) => standard(*s, op, f),
        FieldRef::Extracted(name) => extracted(name, op, f),
    }
}

fn standard(s: StandardField, op: &FieldOp, f: &Fields) -> Boxed {
    let field = if s == StandardField::Id { Some(f.id) } else { f.strings.get(s.name()).copied() };
    let Some(field) = field else {
        return Box::new(EmptyQuery);
    };
    match op {
        FieldOp::Eq(v) => term(Term::from_field_text(field, &standard_query_value(s, v))),
        FieldOp::Prefix(p) => prefix_range(Term::from_field_text(field, &standard_query_value(s, p))),
        FieldOp::Exists if s.always_present() => Box::new(AllQuery),
        // Any term of the field: every value sorts at or above the empty string.
        FieldOp::Exists => Box::new(InvertedIndexRangeQuery::new(Bound::Included(Term::from_field_text(field, "")), Bound::Unbounded)),
        FieldOp::Range { .. } => Box::new(EmptyQuery),
    }
}

fn extracted(name: &str, op: &FieldOp, f: &Fields) -> Boxed {
    // A name is one key of the JSON object, dots included (`http.status`): escape the dots, or
    // Tantivy reads the name as a path into nested objects.
    let path = name.replace('\\', "\\\\").replace('.', "\\.");
    let base = || Term::from_field_json_path(f.fields, &path, false);
    match op {
        FieldOp::Eq(value) => {
            // A JSON value is indexed with its type: try the value as each type it can be.
            let mut alternatives = Vec::new();
            if let Ok(i) = value.parse::<i64>() {
                let mut t = base();
                t.append_type_and_fast_value(i);
                alternatives.push(term(t));
            } else if let Some(x) = value.parse::<f64>().ok().filter(|x| x.is_finite()) {
                // Tantivy indexes a whole double as an integer (2.0 as 2): normalize the value
                // the same way, so `ratio:2.0` finds 2.0 (and, as in OpenSearch, the long 2).
                let mut t = base();
                match NumericalValue::F64(x).normalize() {
                    NumericalValue::I64(i) => t.append_type_and_fast_value(i),
                    NumericalValue::U64(u) => t.append_type_and_fast_value(u),
                    NumericalValue::F64(x) => t.append_type_and_fast_value(x),
                }
                alternatives.push(term(t));
            }
            if let Ok(b) = value.parse::<bool>() {
                let mut t = base();
                t.append_type_and_fast_value(b);
                alternatives.push(term(t));
            }
            let mut t = base();
            t.append_type_and_str(value);
            alternatives.push(term(t));
            any_of(alternatives)
        }
        FieldOp::Prefix(p) => {
            let mut t = base();
            t.append_type_and_str(p);
            prefix_range(t)
        }
        FieldOp::Exists => prefix_range(base()),
        FieldOp::Range { lower, upper } => {
            let number = |v: &RangeValue| match v {
                RangeValue::Number(x) => Some(*x),
                _ => None,
            };
            let (Some(lower), Some(upper)) = (map_bound(lower, number), map_bound(upper, number)) else {
                return Box::new(EmptyQuery);
            };
            let bounded = !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded));
            if f.aggregatable && bounded {
                // The values' fast column (one numeric column per path, integers and doubles
                // compared as doubles when both occur): checked lazily, only for documents the
                // rest of the query leaves, instead of a union over every value in the range.
                let t = |x: f64| {
                    let mut t = base();
                    t.append_type_and_fast_value(x);
                    t
                };
                return Box::new(RangeQuery::new(lower.map(t), upper.map(t)));
            }
            // Older day indices without fast fields: ranges over the term dictionary.
            let mut parts = Vec::new();
            if let Some((lo, hi)) = integer_bounds(&lower, &upper) {
                let t = |i: i64| {
                    let mut t = base();
                    t.append_type_and_fast_value(i);
                    t
                };
                parts.push(Box::new(InvertedIndexRangeQuery::new(Bound::Included(t(lo)), Bound::Included(t(hi)))) as Boxed);
            }
            let t = |x: f64| {
                let mut t = base();
                t.append_type_and_fast_value(x);
                t
            };
            let lo = match lower {
                Bound::Unbounded => Bound::Included(t(f64::NEG_INFINITY)),
                b => b.map(t),
            };
            let hi = match upper {
                Bound::Unbounded => Bound::Included(t(f64::INFINITY)),
                b => b.map(t),
            };
            parts.push(Box::new(InvertedIndexRangeQuery::new(lo, hi)));
            any_of(parts)
        }
    }
}

fn map_bound<T: Copy, U>(b: &Bound<T>, f: impl Fn(&T) -> Option<U>) -> Option<Bound<U>> {
    Some(match b {
        Bound::Included(v) => Bound::Included(f(v)?),
        Bound::Excluded(v) => Bound::Excluded(f(v)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// The inclusive integer range of the integers within float bounds; `None` when empty.
fn integer_bounds(lower: &Bound<f64>, upper: &Bound<f64>) -> Option<(i64, i64)> {
    // Float-to-int `as` saturates, so bounds beyond the i64 range clamp to its ends.
    let lo = match *lower {
        Bound::Included(x) => x.ceil(),
        Bound::Excluded(x) => x.floor() + 1.0,
        Bound::Unbounded => f64::NEG_INFINITY,
    };
    let hi = match *upper {
        Bound::Included(x) => x.floor(),
        Bound::Excluded(x) => x.ceil() - 1.0,
        Bound::Unbounded => f64::INFINITY,
    };
    (lo <= hi).then_some((lo as i64, hi as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bounds_of_float_ranges() {
        assert_eq!(integer_bounds(&Bound::Included(1.5), &Bound::Excluded(4.0)), Some((2, 3)));
        assert_eq!(integer_bounds(&Bound::Excluded(1.0), &Bound::Included(4.0)), Some((2, 4)));
        assert_eq!(integer_bounds(&Bound::Excluded(1.2), &Bound::Excluded(1.8)), None);
        assert_eq!(integer_bounds(&Bound::Unbounded, &Bound::Included(-0.5)), Some((i64::MIN, -1)));
    }
}
