//! logfmt (`at=info method=GET path="/a b" status=200 cached`), read the way go-logfmt
//! reads it, since Heroku, go-kit, Grafana and most Go services write with that library or
//! to its grammar:
//!
//! - pairs are separated by any bytes up to and including space (space, tab, control);
//! - a key is a run of bytes above space other than `=` and `"`;
//! - `key=` and a bare `key` both give an empty value;
//! - a value is either unquoted (bytes above space, no `=` or `"`) or quoted, with JSON
//!   escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`, surrogate pairs joined, lone surrogates
//!   replaced by U+FFFD);
//! - everything else is an error, with the byte offset: `"` in a key, `=` without a key,
//!   `=` or `"` inside an unquoted value, an unknown escape, a quote left open (the offset
//!   is the opening quote's).
//!
//! Strict on purpose: a line that is not logfmt should fail loudly so the pipeline can try
//! the next parser (e.g. the tolerant [`crate::kv`]), not yield half-right fields. Keys may
//! repeat; every pair is returned, in line order. One leniency: raw control characters
//! inside quotes are kept (go-logfmt rejects them only in values that also contain an
//! escape).

use crate::{LogfmtErrorKind, ParserError};

/// Parses one logfmt line into its pairs, in order.
///
/// # Errors
/// [`ParserError::Logfmt`] with the byte offset and [`LogfmtErrorKind`] of the first
/// syntax error.
pub fn parse(input: &str) -> Result<Vec<(String, String)>, ParserError> {
    let b = input.as_bytes();
    let mut pairs = Vec::new();
    let mut pos = 0;
    loop {
        while pos < b.len() && b[pos] <= b' ' {
            pos += 1;
        }
        if pos >= b.len() {
            return Ok(pairs);
        }

        let key_start = pos;
        while pos < b.len() && b[pos] > b' ' && b[pos] != b'=' && b[pos] != b'"' {
            pos += 1;
        }
        let key = &input[key_start..pos];
        match b.get(pos) {
            Some(b'"') => return Err(error(pos, LogfmtErrorKind::UnexpectedByte('"'))),
            Some(b'=') if key.is_empty() => {
                return Err(error(pos, LogfmtErrorKind::UnexpectedByte('=')));
            }
            Some(b'=') => pos += 1,
            // A bare key.
            _ => {
                pairs.push((key.to_owned(), String::new()));
                continue;
            }
        }

        let value = match b.get(pos) {
            None => String::new(),
            Some(&c) if c <= b' ' => String::new(),
            Some(b'"') => {
                let (value, end) = quoted(input, pos)?;
                pos = end;
                value
            }
            Some(_) => {
                let start = pos;
                while pos < b.len() && b[pos] > b' ' {
                    if let c @ (b'=' | b'"') = b[pos] {
                        return Err(error(pos, LogfmtErrorKind::UnexpectedByte(char::from(c))));
                    }
                    pos += 1;
                }
                input[start..pos].to_owned()
            }
        };
        pairs.push((key.to_owned(), value));
    }
}

/// The quoted value whose opening quote is at `open`, and the offset after its closing
/// quote.
fn quoted(input: &str, open: usize) -> Result<(String, usize), ParserError> {
    let b = input.as_bytes();
    let mut escaped = false;
    let mut has_escape = false;
    // Bytes of multi-byte characters are never `\` or `"`, so a byte scan is exact.
    for (offset, &c) in b[open + 1..].iter().enumerate() {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
            has_escape = true;
        } else if c == b'"' {
            let close = open + 1 + offset;
            let raw = &input[open + 1..close];
            let value = if has_escape {
                unescape(raw, open + 1)?
            } else {
                raw.to_owned()
            };
            return Ok((value, close + 1));
        }
    }
    Err(error(open, LogfmtErrorKind::UnterminatedQuote))
}

/// Resolves JSON escapes in `raw`, which starts at byte `base` of the line.
fn unescape(raw: &str, base: usize) -> Result<String, ParserError> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let invalid = || error(base + i, LogfmtErrorKind::InvalidQuotedValue);
        let Some((_, e)) = chars.next() else {
            return Err(invalid());
        };
        match e {
            '"' | '\\' | '/' | '\'' => out.push(e),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let unit = hex4(chars.as_str()).ok_or_else(invalid)?;
                chars.nth(3);
                let c = if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate: joined with a following `\uDC00`-`\uDFFF` escape,
                    // else replaced (as encoding/json and go-logfmt do).
                    let rest = chars.as_str();
                    let low = rest.strip_prefix("\\u").and_then(hex4);
                    match low.filter(|l| (0xDC00..0xE000).contains(l)) {
                        Some(low) => {
                            chars.nth(5);
                            let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                        }
                        None => char::REPLACEMENT_CHARACTER,
                    }
                } else {
                    char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
                };
                out.push(c);
            }
            _ => return Err(invalid()),
        }
    }
    Ok(out)
}

/// The value of 4 hex digits at the start of `s`.
fn hex4(s: &str) -> Option<u32> {
    let digits = s.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

fn error(position: usize, kind: LogfmtErrorKind) -> ParserError {
    ParserError::Logfmt { position, kind }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pairs(input: &str) -> Vec<(String, String)> {
        parse(input).unwrap()
    }

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn pairs_bare_keys_and_empty_values() {
        assert_eq!(
            pairs(" a=1\tb= c d=\"\" e\n"),
            owned(&[("a", "1"), ("b", ""), ("c", ""), ("d", ""), ("e", "")])
        );
        assert_eq!(pairs(""), owned(&[]));
        assert_eq!(pairs("k=\"v\"next=1"), owned(&[("k", "v"), ("next", "1")]));
        assert_eq!(pairs("k=v k=w"), owned(&[("k", "v"), ("k", "w")]));
        assert_eq!(pairs("ключ=значение"), owned(&[("ключ", "значение")]));
    }

    #[test]
    fn json_escapes_in_quoted_values() {
        assert_eq!(
            pairs(r#"m="a \"b\" \\ \/ \t\n \u00e9 \ud83d\ude00 \ud800x""#),
            owned(&[("m", "a \"b\" \\ / \t\n é 😀 \u{fffd}x")])
        );
    }

    #[test]
    fn syntax_errors_carry_their_offset() {
        let cases = [
            ("a=1 b=\"open", 6, LogfmtErrorKind::UnterminatedQuote),
            ("a=\"x\\\"", 2, LogfmtErrorKind::UnterminatedQuote),
            ("=1", 0, LogfmtErrorKind::UnexpectedByte('=')),
            ("a=1 =2", 4, LogfmtErrorKind::UnexpectedByte('=')),
            ("k\"ey=1", 1, LogfmtErrorKind::UnexpectedByte('"')),
            ("a=b=c", 3, LogfmtErrorKind::UnexpectedByte('=')),
            ("a=b\"c", 3, LogfmtErrorKind::UnexpectedByte('"')),
            ("a=\"\\x\"", 3, LogfmtErrorKind::InvalidQuotedValue),
            ("a=\"\\u12\"", 3, LogfmtErrorKind::InvalidQuotedValue),
        ];
        for (input, position, kind) in cases {
            assert_eq!(
                parse(input),
                Err(ParserError::Logfmt { position, kind }),
                "{input:?}"
            );
        }
        assert_eq!(
            parse("a=\"open").unwrap_err().to_string(),
            "invalid logfmt at byte 2: unterminated quoted value"
        );
    }
}
