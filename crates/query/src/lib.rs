//! The NexusLog query language, one AST shared by everything that filters logs: search on
//! OpenSearch and Tantivy (each store compiles the AST itself), and the live tail and alert
//! rules, which evaluate it on records in memory with [`matches`]. A query means the same
//! thing in all of them; the three-way agreement test in `crates/logstore` holds them to it.
//!
//! ```text
//! timeout                      the word on `message` (case-insensitive)
//! "connection reset"           the words in order, adjacent
//! 登录                          found inside 用户登录失败 (CJK bigrams)
//! level:error  host:web-1      exact values of standard fields
//! http.status:503              an extracted field (503 or "503")
//! path:/api/*  user:*          prefix; the field exists
//! latency:>500  code:[400 TO 499]  status:{200 TO 300}
//! timestamp:>=2024-05-01T00:00:00Z   level:>=warn
//! a OR b   NOT a   -a   (a OR b) c   precedence NOT > AND > OR; adjacency is AND
//! ```

mod ast;
mod eval;
mod highlight;
mod parser;
pub mod time;
pub mod tokenize;

pub use ast::{level_rank, levels_in, parse_level, FieldOp, FieldRef, Query, RangeValue, StandardField, LEVEL_ORDER};
pub use eval::{level_symbol, matches, numeric_value, standard_query_value, standard_value, whole_i64, Record};
pub use highlight::highlights;
pub use parser::parse;

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Deepest nesting of parentheses and negations accepted.
pub const MAX_DEPTH: usize = 32;
/// Text values longer than this many characters are not indexed for exact, prefix or exists
/// matches (OpenSearch's `ignore_above` on keywords): the record is kept and shown, and its
/// message words are still found.
pub const MAX_INDEXED_VALUE_CHARS: usize = 2048;

/// A query that does not parse, with the 0-based character offset of the bad token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct ParseError {
    pub message: String,
    pub position: usize,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, position: usize) -> Self {
        Self { message: message.into(), position }
    }
}

/// Whether a text value is indexed for exact, prefix and exists matches (see
/// [`MAX_INDEXED_VALUE_CHARS`]).
pub fn is_indexed_text(s: &str) -> bool {
    s.len() <= MAX_INDEXED_VALUE_CHARS || s.chars().count() <= MAX_INDEXED_VALUE_CHARS
}
