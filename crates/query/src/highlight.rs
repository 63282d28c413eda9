//! Which parts of a message a query's words matched, for highlighting in search results.
//! Computed from the AST on the record, so it is the same on every store.

use crate::ast::{FieldOp, FieldRef, Query};
use crate::tokenize::{terms, tokenize, Token};

/// The matched spans of `message` as `(start, end)` character offsets (not bytes: what a
/// browser can slice), sorted and merged. Words under a `NOT` are not highlighted.
pub fn highlights(query: &Query, message: &str) -> Vec<(usize, usize)> {
    let tokens = tokenize(message);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    collect(query, &tokens, &mut spans);
    if spans.is_empty() {
        return spans;
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    // Byte offsets to character offsets, in one pass over the message.
    let mut out = Vec::with_capacity(merged.len());
    let mut chars_before = 0;
    let mut byte = 0;
    for (s, e) in merged {
        chars_before += message[byte..s].chars().count();
        let len = message[s..e].chars().count();
        out.push((chars_before, chars_before + len));
        chars_before += len;
        byte = e;
    }
    out
}

fn collect(q: &Query, tokens: &[Token], out: &mut Vec<(usize, usize)>) {
    match q {
        Query::Word(w) | Query::Phrase(w) => {
            let needle = terms(w);
            if needle.is_empty() {
                return;
            }
            for window in tokens.windows(needle.len()) {
                if window.iter().zip(&needle).all(|(t, n)| t.text == *n) {
                    out.push((window[0].start, window[needle.len() - 1].end));
                }
            }
        }
        Query::Field { field: FieldRef::Message, op: FieldOp::Prefix(p) } => {
            out.extend(tokens.iter().filter(|t| t.text.starts_with(p.as_str())).map(|t| (t.start, t.end)));
        }
        Query::And(parts) | Query::Or(parts) => parts.iter().for_each(|p| collect(p, tokens, out)),
        Query::All | Query::Field { .. } | Query::Not(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn marks_words_phrases_and_prefixes() {
        let q = parse(r#"timeout "upstream server" conn* -ignored"#).expect("parses");
        let msg = "Timeout: upstream server closed connection (ignored)";
        let spans = highlights(&q, msg);
        let marked: Vec<&str> = spans.iter().map(|(s, e)| &msg[*s..*e]).collect();
        assert_eq!(marked, ["Timeout", "upstream server", "connection"]);
    }

    #[test]
    fn offsets_are_characters() {
        let q = parse("登录").expect("parses");
        assert_eq!(highlights(&q, "用户登录失败"), [(2, 4)]);
    }
}
