//! The query parser: a recursive-descent parser over characters (the grammar is small and
//! context-sensitive inside field values, so there is no separate lexer).
//!
//! ```text
//! query    := or
//! or       := and ("OR" and)*
//! and      := unary (("AND")? unary)*          adjacency means AND
//! unary    := "NOT" unary | "-" unary | primary
//! primary  := "(" or ")" | phrase | name ":" value | word
//! value    := phrase | "*" | bare "*"? | comparison bound | range
//! range    := ("[" | "{") bound "TO" bound ("]" | "}")
//! ```
//! Every error names the 0-based character offset where the query stops making sense.

use std::ops::Bound;

use crate::ast::{parse_level, FieldOp, FieldRef, Query, RangeValue};
use crate::{ParseError, MAX_DEPTH, MAX_QUERY_BYTES};

/// Parses a query. The empty query (or only whitespace) is [`Query::All`].
///
/// # Errors
/// A syntax error with the character offset of the bad token; a query longer than
/// [`MAX_QUERY_BYTES`] or nested deeper than [`MAX_DEPTH`].
pub fn parse(input: &str) -> Result<Query, ParseError> {
    if input.len() > MAX_QUERY_BYTES {
        let position = input.char_indices().take_while(|(i, _)| *i < MAX_QUERY_BYTES).count();
        return Err(ParseError::new(format!("the query is longer than {MAX_QUERY_BYTES} bytes"), position));
    }
    let mut p = Parser { chars: input.chars().collect(), pos: 0, depth: 0 };
    p.skip_ws();
    if p.at_end() {
        return Ok(Query::All);
    }
    let q = p.or()?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        let what = if c == ')' { "unmatched `)`".to_owned() } else { format!("unexpected `{c}`") };
        return Err(p.error(what));
    }
    Ok(q)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// A bare chunk of text as written: its characters, each marked escaped or not.
struct Chunk {
    start: usize,
    chars: Vec<(char, bool)>,
}

impl Chunk {
    fn text(&self) -> String {
        self.chars.iter().map(|(c, _)| *c).collect()
    }
}

fn ends_bare(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(message, self.pos)
    }

    fn error_at(&self, message: impl Into<String>, position: usize) -> ParseError {
        ParseError::new(message, position)
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(format!("the query is nested deeper than {MAX_DEPTH} levels"), at));
        }
        Ok(())
    }

    /// The keyword at the cursor (a whole bare chunk, unescaped), without consuming it.
    fn peek_keyword(&self) -> Option<&'static str> {
        for k in ["AND", "OR", "NOT"] {
            let end = self.pos + k.len();
            if end <= self.chars.len()
                && self.chars[self.pos..end].iter().copied().eq(k.chars())
                && self.chars.get(end).is_none_or(|c| ends_bare(*c))
            {
                return Some(k);
            }
        }
        None
    }

    fn or(&mut self) -> Result<Query, ParseError> {
        let mut parts = vec![self.and()?];
        loop {
            self.skip_ws();
            if self.peek_keyword() != Some("OR") {
                break;
            }
            self.pos += 2;
            self.skip_ws();
            parts.push(self.and()?);
        }
        Ok(Query::or(parts))
    }

    fn and(&mut self) -> Result<Query, ParseError> {
        let mut parts = vec![self.unary()?];
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(')') => break,
                _ => {}
            }
            match self.peek_keyword() {
                Some("OR") => break,
                Some("AND") => {
                    self.pos += 3;
                    self.skip_ws();
                }
                _ => {}
            }
            parts.push(self.unary()?);
        }
        Ok(Query::and(parts))
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            None => return Err(self.error("expected a term, found the end of the query")),
            Some(')') => return Err(self.error("expected a term before `)`")),
            _ => {}
        }
        match self.peek_keyword() {
            Some("NOT") => {
                self.pos += 3;
                self.enter(start)?;
                self.skip_ws();
                let inner = self.unary()?;
                self.depth -= 1;
                return Ok(Query::Not(Box::new(inner)));
            }
            Some(k) => return Err(self.error(format!("expected a term before `{k}`"))),
            None => {}
        }
        if self.peek() == Some('-') {
            self.pos += 1;
            if self.peek().is_none_or(|c| c.is_whitespace() || c == ')') {
                return Err(self.error_at("expected a term after `-`", start));
            }
            self.enter(start)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Query::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Query, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                self.enter(start)?;
                self.skip_ws();
                if self.peek() == Some(')') {
                    return Err(self.error("empty parentheses"));
                }
                let inner = self.or()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(self.error_at("unclosed `(`", start));
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Some('"') => {
                let text = self.quoted()?;
                Ok(Query::Phrase(text))
            }
            _ => {
                if let Some(name) = self.field_name() {
                    return self.field_value(name);
                }
                let chunk = self.bare(false)?;
                self.word(chunk)
            }
        }
    }

    /// `name:` at the cursor (consumed), when the text there is a field name followed by a
    /// colon and not a URL (`http://...` stays a word).
    fn field_name(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        let mut end = start;
        while self.chars.get(end).is_some_and(|c| is_name_char(*c)) {
            end += 1;
        }
        if self.chars.get(end) != Some(&':') || self.chars[end + 1..].starts_with(&['/', '/']) {
            return None;
        }
        let name: String = self.chars[start..end].iter().collect();
        self.pos = end + 1;
        Some(name)
    }

    /// A quoted string at the cursor: `\"` and `\\` are escapes, any other `\x` is `x`.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error_at("unclosed `\"`", start)),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(self.error_at("unclosed `\"`", start)),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A bare chunk: up to whitespace, a parenthesis or a quote (or, inside a range, a closing
    /// bracket); `\` escapes the next character.
    fn bare(&mut self, in_range: bool) -> Result<Chunk, ParseError> {
        let start = self.pos;
        let mut chars = Vec::new();
        while let Some(c) = self.peek() {
            if ends_bare(c) || (in_range && matches!(c, ']' | '}')) {
                break;
            }
            if c == '\\' {
                self.pos += 1;
                let Some(next) = self.peek() else {
                    return Err(self.error_at("a `\\` must be followed by the character it escapes", self.pos - 1));
                };
                chars.push((next, true));
            } else {
                chars.push((c, false));
            }
            self.pos += 1;
        }
        if chars.is_empty() {
            return Err(self.error("expected a term"));
        }
        Ok(Chunk { start, chars })
    }

    /// A bare word on `message`; a trailing `*` makes it a prefix.
    fn word(&self, chunk: Chunk) -> Result<Query, ParseError> {
        if chunk.chars == [('*', false)] {
            return Ok(Query::All);
        }
        match wildcard(&chunk, self)? {
            Some(prefix) => Ok(Query::Field { field: FieldRef::Message, op: FieldOp::Prefix(message_prefix(&prefix, chunk.start, self)?) }),
            None => Ok(Query::Word(chunk.text())),
        }
    }

    fn field_value(&mut self, name: String) -> Result<Query, ParseError> {
        let field = FieldRef::resolve(&name);
        let value_start = self.pos;
        let op = match self.peek() {
            None => return Err(self.error(format!("expected a value after `{name}:`"))),
            Some(c) if c.is_whitespace() || c == ')' => return Err(self.error(format!("expected a value after `{name}:`"))),
            Some('(') => return Err(self.error("grouping after a field name is not supported: write `(a:x OR a:y)`")),
            Some('"') => {
                let v = self.quoted()?;
                if field == FieldRef::Message {
                    return Ok(Query::Phrase(v));
                }
                // Quoted or not, a time is a time and a level a level.
                self.exact(&field, v, value_start)?
            }
            Some('[' | '{') => self.range(&field)?,
            Some('>' | '<') => self.comparison(&field)?,
            Some(_) => {
                let chunk = self.bare(false)?;
                if chunk.chars == [('*', false)] {
                    FieldOp::Exists
                } else if let Some(prefix) = wildcard(&chunk, self)? {
                    match field {
                        FieldRef::Message => FieldOp::Prefix(message_prefix(&prefix, chunk.start, self)?),
                        FieldRef::Timestamp => return Err(self.error_at("a time takes no wildcard: use a range", chunk.start)),
                        _ => FieldOp::Prefix(prefix),
                    }
                } else {
                    let v = chunk.text();
                    if field == FieldRef::Message {
                        return Ok(Query::Word(v));
                    }
                    self.exact(&field, v, value_start)?
                }
            }
        };
        Ok(Query::Field { field, op })
    }

    /// An exact value of a field other than `message`, read at `at`.
    fn exact(&self, field: &FieldRef, v: String, at: usize) -> Result<FieldOp, ParseError> {
        Ok(match field {
            // One instant is the range from it to itself.
            FieldRef::Timestamp => {
                let t = bound_value(field, &v, at, self)?;
                FieldOp::Range { lower: Bound::Included(t), upper: Bound::Included(t) }
            }
            FieldRef::Level if parse_level(&v).is_none() && !v.eq_ignore_ascii_case("unknown") => {
                return Err(self.error_at(format!("unknown level {v:?}: use trace, debug, info, warn, error, fatal or unknown"), at))
            }
            _ => FieldOp::Eq(v),
        })
    }

    fn comparison(&mut self, field: &FieldRef) -> Result<FieldOp, ParseError> {
        let op_start = self.pos;
        let mut op = String::new();
        while let Some(c @ ('>' | '<' | '=')) = self.peek() {
            op.push(c);
            self.pos += 1;
        }
        let at = self.pos;
        let chunk = self.bare(false).map_err(|_| self.error_at(format!("expected a value after `{op}`"), at))?;
        let v = bound_value(field, &chunk.text(), at, self)?;
        Ok(match op.as_str() {
            ">" => FieldOp::Range { lower: Bound::Excluded(v), upper: Bound::Unbounded },
            ">=" => FieldOp::Range { lower: Bound::Included(v), upper: Bound::Unbounded },
            "<" => FieldOp::Range { lower: Bound::Unbounded, upper: Bound::Excluded(v) },
            "<=" => FieldOp::Range { lower: Bound::Unbounded, upper: Bound::Included(v) },
            _ => return Err(self.error_at(format!("unknown comparison `{op}`: use >, >=, < or <="), op_start)),
        })
    }

    fn range(&mut self, field: &FieldRef) -> Result<FieldOp, ParseError> {
        let open_at = self.pos;
        let inclusive_low = self.peek() == Some('[');
        self.pos += 1;
        self.skip_ws();
        let low_at = self.pos;
        let low = self.bare(true).map_err(|_| self.error_at("expected a lower bound", low_at))?;
        self.skip_ws();
        let to_at = self.pos;
        let to = self.bare(true).map_err(|_| self.error_at("expected `TO`", to_at))?;
        if to.text() != "TO" {
            return Err(self.error_at("expected `TO` between the bounds of a range", to_at));
        }
        self.skip_ws();
        let high_at = self.pos;
        let high = self.bare(true).map_err(|_| self.error_at("expected an upper bound", high_at))?;
        self.skip_ws();
        let inclusive_high = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.error_at("unclosed range: end it with `]` (inclusive) or `}` (exclusive)", open_at)),
        };
        self.pos += 1;
        let bound = |chunk: &Chunk, inclusive: bool, p: &Parser| -> Result<Bound<RangeValue>, ParseError> {
            if chunk.chars == [('*', false)] {
                return Ok(Bound::Unbounded);
            }
            let v = bound_value(field, &chunk.text(), chunk.start, p)?;
            Ok(if inclusive { Bound::Included(v) } else { Bound::Excluded(v) })
        };
        Ok(FieldOp::Range { lower: bound(&low, inclusive_low, self)?, upper: bound(&high, inclusive_high, self)? })
    }
}

/// The prefix of a chunk ending in an unescaped `*`; an unescaped `*` elsewhere is an error.
fn wildcard(chunk: &Chunk, p: &Parser) -> Result<Option<String>, ParseError> {
    let last = chunk.chars.len() - 1;
    for (i, (c, escaped)) in chunk.chars.iter().enumerate() {
        if *c == '*' && !escaped && i != last {
            return Err(p.error_at("a wildcard `*` is only allowed at the end of a value", chunk.start + i));
        }
    }
    Ok(match chunk.chars[last] {
        ('*', false) => Some(chunk.chars[..last].iter().map(|(c, _)| *c).collect()),
        _ => None,
    })
}

/// A prefix on message words: one word of letters and digits, compared lower-cased.
fn message_prefix(prefix: &str, at: usize, p: &Parser) -> Result<String, ParseError> {
    let lower = prefix.to_lowercase();
    let tokens = crate::tokenize::terms(&lower);
    if tokens.len() != 1 || tokens[0] != lower || lower.chars().any(crate::tokenize::is_cjk) {
        return Err(p.error_at("a wildcard on message words needs letters and digits before the `*` (like `time*`)", at));
    }
    Ok(lower)
}

/// A range bound, typed by its field: a time for `timestamp`, a level for `level`, a number
/// for any other field that can hold numbers.
fn bound_value(field: &FieldRef, text: &str, at: usize, p: &Parser) -> Result<RangeValue, ParseError> {
    match field {
        FieldRef::Timestamp => {
            if let Ok(ms) = text.parse::<i64>() {
                return Ok(RangeValue::Time(ms.saturating_mul(1000)));
            }
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|dt| RangeValue::Time(dt.timestamp_micros()))
                .map_err(|_| p.error_at(format!("invalid time {text:?}: use RFC 3339 (2024-05-01T12:00:00Z) or epoch milliseconds"), at))
        }
        FieldRef::Level => parse_level(text)
            .map(RangeValue::Level)
            .ok_or_else(|| p.error_at(format!("unknown level {text:?}: use trace, debug, info, warn, error or fatal"), at)),
        FieldRef::Message => Err(p.error_at("message takes words, not ranges", at)),
        FieldRef::Standard(f) => Err(p.error_at(format!("{} is text: ranges apply to numbers, `timestamp` and `level`", f.name()), at)),
        FieldRef::Extracted(_) => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(RangeValue::Number(x)),
            _ => Err(p.error_at(format!("invalid number {text:?} in a range"), at)),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ast::StandardField;
    use nexuslog_schemas::Level;

    fn p(s: &str) -> Query {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn field(name: &str, op: FieldOp) -> Query {
        Query::Field { field: FieldRef::resolve(name), op }
    }

    fn word(w: &str) -> Query {
        Query::Word(w.into())
    }

    #[test]
    fn words_phrases_and_precedence() {
        assert_eq!(p(""), Query::All);
        assert_eq!(p("  * "), Query::All);
        assert_eq!(p("a b"), Query::And(vec![word("a"), word("b")]));
        assert_eq!(p("a AND b"), p("a b"));
        assert_eq!(p("a OR b c"), Query::Or(vec![word("a"), Query::And(vec![word("b"), word("c")])]));
        assert_eq!(p("NOT a b"), Query::And(vec![Query::Not(Box::new(word("a"))), word("b")]));
        assert_eq!(p("-a OR b"), Query::Or(vec![Query::Not(Box::new(word("a"))), word("b")]));
        assert_eq!(p("(a OR b) c"), Query::And(vec![Query::Or(vec![word("a"), word("b")]), word("c")]));
        assert_eq!(p("a and or not"), Query::And(vec![word("a"), word("and"), word("or"), word("not")]));
        assert_eq!(p(r#""connection reset" x"#), Query::And(vec![Query::Phrase("connection reset".into()), word("x")]));
        assert_eq!(p("12:30"), word("12:30"), "not a field named 12");
        assert_eq!(p("http://example.com/x"), word("http://example.com/x"));
        assert_eq!(p(r"a\:b \(x\)"), Query::And(vec![word("a:b"), word("(x)")]));
        assert_eq!(p("message:timeout"), word("timeout"));
        assert_eq!(p(r#"message:"a b""#), Query::Phrase("a b".into()));
        assert_eq!(p("time*"), field("message", FieldOp::Prefix("time".into())));
        assert_eq!(p("登录"), word("登录"));
    }

    #[test]
    fn field_conditions() {
        assert_eq!(p("level:error"), field("level", FieldOp::Eq("error".into())));
        assert_eq!(p("http.status:503"), field("http.status", FieldOp::Eq("503".into())));
        assert_eq!(p("fields.host:x"), Query::Field { field: FieldRef::Extracted("host".into()), op: FieldOp::Eq("x".into()) });
        assert_eq!(p("host:x"), Query::Field { field: FieldRef::Standard(StandardField::Host), op: FieldOp::Eq("x".into()) });
        assert_eq!(p(r#"user:"John Smith""#), field("user", FieldOp::Eq("John Smith".into())));
        assert_eq!(p("time:12:30"), field("time", FieldOp::Eq("12:30".into())));
        assert_eq!(p("path:/api/*"), field("path", FieldOp::Prefix("/api/".into())));
        assert_eq!(p("user:*"), field("user", FieldOp::Exists));
        assert_eq!(p(r#"user:"*""#), field("user", FieldOp::Eq("*".into())));
        let n = |x: f64| RangeValue::Number(x);
        assert_eq!(p("latency:>500"), field("latency", FieldOp::Range { lower: Bound::Excluded(n(500.0)), upper: Bound::Unbounded }));
        assert_eq!(p("latency:<=-1.5"), field("latency", FieldOp::Range { lower: Bound::Unbounded, upper: Bound::Included(n(-1.5)) }));
        assert_eq!(
            p("code:[400 TO 499]"),
            field("code", FieldOp::Range { lower: Bound::Included(n(400.0)), upper: Bound::Included(n(499.0)) })
        );
        assert_eq!(p("code:{100 TO *]"), field("code", FieldOp::Range { lower: Bound::Excluded(n(100.0)), upper: Bound::Unbounded }));
        assert_eq!(
            p("level:>=warn"),
            field("level", FieldOp::Range { lower: Bound::Included(RangeValue::Level(Level::Warn)), upper: Bound::Unbounded })
        );
        let t = RangeValue::Time(1_714_521_600_000_000);
        assert_eq!(
            p("timestamp:>=2024-05-01T00:00:00Z"),
            field("timestamp", FieldOp::Range { lower: Bound::Included(t), upper: Bound::Unbounded })
        );
        assert_eq!(
            p("@timestamp:2024-05-01T00:00:00Z"),
            field("timestamp", FieldOp::Range { lower: Bound::Included(t), upper: Bound::Included(t) })
        );
    }

    #[test]
    fn errors_name_a_position() {
        let cases: &[(&str, usize)] = &[
            ("a OR", 4),
            ("(a b", 0),
            ("a b)", 3),
            ("\"open", 0),
            ("a AND AND b", 6),
            ("OR a", 0),
            ("level:>=loud", 8),
            ("host:>5", 6),
            ("latency:>abc", 9),
            ("code:[1 TO", 10),
            ("code:[1 5]", 8),
            ("a*b", 1),
            ("user: x", 5),
            ("x - y", 2),
            ("()", 1),
            ("mess*age", 4),
            ("timestamp:yesterday", 10),
            ("a \\", 2),
            ("ab.c*", 0),
        ];
        for (q, pos) in cases {
            match parse(q) {
                Ok(ast) => panic!("{q:?} parsed as {ast:?}"),
                Err(e) => assert_eq!(e.position, *pos, "{q:?}: {e}"),
            }
        }
    }

    #[test]
    fn limits() {
        let deep = format!("{}a{}", "(".repeat(33), ")".repeat(33));
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let ok = format!("{}a{}", "(".repeat(32), ")".repeat(32));
        assert!(parse(&ok).is_ok());
        assert!(parse(&"NOT ".repeat(40)).unwrap_err().message.contains("nested"));
        let long = "a ".repeat(2049);
        assert_eq!(parse(&long).unwrap_err().position, 4096);
    }
}
