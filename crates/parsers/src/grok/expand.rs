//! Turns a grok pattern into one `regex` crate expression, in a single pass over the text.
//!
//! - `%{NAME}` becomes `(?:definition)`, `%{NAME:field}` and `(?<field>...)` become
//!   `(?P<gN>...)` with `N` the index of the field in [`Expansion::captures`]: the regex
//!   never sees user field names, so the same field may appear in several alternatives
//!   (Logstash allows it, the regex crate rejects duplicate group names) and dotted or
//!   bracketed names need no escaping.
//! - Plain `(...)` groups become `(?:...)`: fewer capture slots make every match cheaper,
//!   and only named captures are fields anyway. Atomic groups `(?>...)` become plain groups.
//! - `\d \w \s \b` (and negations) become their ASCII forms, as in Logstash's Ruby
//!   regexps; this also keeps the regex crate's lazy DFA usable on non-ASCII input, which
//!   a Unicode `\b` forbids.
//!
//! Recursion is bounded three ways, so a hostile or mistaken custom library yields an error
//! instead of a stack overflow or an out-of-memory: a name already being expanded is a
//! cycle, nesting stops at [`MAX_DEPTH`], and output stops at [`MAX_EXPANDED_LEN`].

use std::collections::HashMap;

use crate::ParserError;

/// Deepest `%{...}` nesting followed. The standard library nests 8 deep (NGINXACCESS);
/// 64 leaves room for custom layers while keeping the recursion far from the stack's end.
pub(crate) const MAX_DEPTH: usize = 64;

/// Longest expanded regex text. The largest standard pattern expands to about 6 KiB;
/// 1 MiB stops exponential expansion (`A` = `%{B}%{B}`, `B` = `%{C}%{C}`, ...) long before
/// it costs memory, and a pattern that large would exceed the regex size limit anyway.
pub(crate) const MAX_EXPANDED_LEN: usize = 1 << 20;

/// How a captured string becomes a [`crate::FieldValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaptureType {
    String,
    Int,
    Float,
}

/// One named capture of the expanded regex: group `gN` is `captures[N]`.
#[derive(Debug, Clone)]
pub(crate) struct Capture {
    pub field: String,
    pub kind: CaptureType,
}

#[derive(Debug)]
pub(crate) struct Expansion {
    pub regex: String,
    pub captures: Vec<Capture>,
}

/// Expands `pattern` with the definitions in `library`.
pub(crate) fn expand(
    library: &HashMap<String, String>,
    pattern: &str,
) -> Result<Expansion, ParserError> {
    let mut expander = Expander {
        library,
        out: String::with_capacity(pattern.len() * 4),
        captures: Vec::new(),
        stack: Vec::new(),
    };
    expander.text(pattern)?;
    Ok(Expansion {
        regex: expander.out,
        captures: expander.captures,
    })
}

/// Whether `name` may name a library pattern.
pub(crate) fn is_pattern_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Field names as Logstash accepts them: letters, digits and `_ . @ - [ ]`, so both
/// `http.status` and `[http][status]` pass through unchanged.
fn is_field_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.@-[]".contains(&b))
}

struct Expander<'a> {
    library: &'a HashMap<String, String>,
    out: String,
    captures: Vec<Capture>,
    /// Names being expanded, outermost first.
    stack: Vec<&'a str>,
}

impl<'a> Expander<'a> {
    /// Copies one pattern text (the user's or a definition) to `out`, expanding tokens.
    fn text(&mut self, text: &'a str) -> Result<(), ParserError> {
        let bytes = text.as_bytes();
        let mut class_depth = 0usize;
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i = self.escape(text, i, class_depth > 0),
                b'[' => {
                    class_depth += 1;
                    self.out.push('[');
                    i += 1;
                    // `]` right after `[` or `[^` is a literal, not the end of the class.
                    if bytes.get(i) == Some(&b'^') {
                        self.out.push('^');
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b']') {
                        self.out.push(']');
                        i += 1;
                    }
                }
                b']' if class_depth > 0 => {
                    class_depth -= 1;
                    self.out.push(']');
                    i += 1;
                }
                b'(' if class_depth == 0 => i = self.group(text, i)?,
                b'%' if class_depth == 0 && bytes.get(i + 1) == Some(&b'{') => {
                    i = self.token(text, i)?;
                }
                _ => {
                    let len = text[i..].chars().next().map_or(1, char::len_utf8);
                    self.out.push_str(&text[i..i + len]);
                    i += len;
                }
            }
            if self.out.len() > MAX_EXPANDED_LEN {
                return Err(ParserError::PatternTooLarge {
                    limit: MAX_EXPANDED_LEN,
                });
            }
        }
        Ok(())
    }

    /// Copies the escape at `i`, making Perl classes ASCII. Returns the index after it.
    fn escape(&mut self, text: &str, i: usize, in_class: bool) -> usize {
        let Some(c) = text[i + 1..].chars().next() else {
            // A trailing backslash: let the regex compiler report it.
            self.out.push('\\');
            return i + 1;
        };
        let replacement = match (c, in_class) {
            ('d', false) => "[0-9]",
            ('d', true) => "0-9",
            ('D', _) => "[^0-9]",
            ('w', false) => "[0-9A-Za-z_]",
            ('w', true) => "0-9A-Za-z_",
            ('W', _) => "[^0-9A-Za-z_]",
            ('s', false) => "[\\t\\n\\x0B\\x0C\\r ]",
            ('s', true) => "\\t\\n\\x0B\\x0C\\r ",
            ('S', _) => "[^\\t\\n\\x0B\\x0C\\r ]",
            // Ruby's hex-digit class, which the regex crate lacks.
            ('h', false) => "[0-9A-Fa-f]",
            ('h', true) => "0-9A-Fa-f",
            ('b', false) => "(?-u:\\b)",
            ('B', false) => "(?-u:\\B)",
            _ => {
                self.out.push('\\');
                self.out.push(c);
                return i + 1 + c.len_utf8();
            }
        };
        self.out.push_str(replacement);
        i + 2
    }

    /// Rewrites the group opening at `i`. Returns the index after what it consumed.
    fn group(&mut self, text: &str, i: usize) -> Result<usize, ParserError> {
        let rest = &text[i..];
        let named = rest
            .strip_prefix("(?P<")
            .or_else(|| rest.strip_prefix("(?<"))
            .filter(|r| !r.starts_with(['=', '!']));
        if let Some(after) = named {
            let Some(end) = after.find('>') else {
                return Err(invalid(i, "unclosed group name"));
            };
            let field = &after[..end];
            if !is_field_name(field) {
                return Err(invalid(i, format!("invalid field name {field:?}")));
            }
            self.open_capture(field, CaptureType::String);
            return Ok(i + (rest.len() - after.len()) + end + 1);
        }
        if let Some(after) = rest.strip_prefix("(?>") {
            self.out.push_str("(?:");
            return Ok(i + (rest.len() - after.len()));
        }
        if rest.starts_with("(?") {
            // Non-capturing, flags or look-around (which the regex compiler rejects).
            self.out.push('(');
        } else {
            self.out.push_str("(?:");
        }
        Ok(i + 1)
    }

    /// Expands the `%{...}` token at `i`. Returns the index after its `}`.
    fn token(&mut self, text: &'a str, i: usize) -> Result<usize, ParserError> {
        let body_start = i + 2;
        let Some(len) = text[body_start..].find('}') else {
            return Err(invalid(i, "unclosed %{"));
        };
        let body = &text[body_start..body_start + len];
        let (name, capture) = match body.split_once(':') {
            None => (body, None),
            Some((name, rest)) => (name, Some(rest)),
        };
        if name.contains('=') || capture.is_some_and(|c| c.contains('=')) {
            return Err(invalid(
                i,
                "inline definitions (%{NAME=regex}) are not supported",
            ));
        }
        if !is_pattern_name(name) {
            return Err(invalid(i, format!("invalid pattern name {name:?}")));
        }
        let capture = match capture {
            None => None,
            Some(rest) => Some(parse_capture(rest).map_err(|e| match e {
                CaptureError::Field(f) => invalid(i, format!("invalid field name {f:?}")),
                CaptureError::Type(t) => ParserError::UnknownCaptureType(t.to_owned()),
            })?),
        };

        let Some((name, definition)) = self.library.get_key_value(name) else {
            return Err(ParserError::UnknownPattern {
                name: name.to_owned(),
            });
        };
        if let Some(at) = self.stack.iter().position(|n| n == name) {
            let mut chain: Vec<String> = self.stack[at..].iter().map(|n| (*n).to_owned()).collect();
            chain.push(name.clone());
            return Err(ParserError::RecursivePattern { chain });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParserError::TooDeep {
                name: name.clone(),
                limit: MAX_DEPTH,
            });
        }

        match capture {
            Some((field, kind)) => self.open_capture(field, kind),
            None => self.out.push_str("(?:"),
        }
        self.stack.push(name);
        self.text(definition)?;
        self.stack.pop();
        self.out.push(')');
        Ok(body_start + len + 1)
    }

    fn open_capture(&mut self, field: &str, kind: CaptureType) {
        self.out.push_str("(?P<g");
        self.out.push_str(&self.captures.len().to_string());
        self.out.push('>');
        self.captures.push(Capture {
            field: field.to_owned(),
            kind,
        });
    }
}

enum CaptureError<'t> {
    Field(&'t str),
    Type(&'t str),
}

/// `field` or `field:int` / `field:float`.
fn parse_capture(text: &str) -> Result<(&str, CaptureType), CaptureError<'_>> {
    let (field, kind) = match text.rsplit_once(':') {
        None => (text, CaptureType::String),
        Some((field, "int")) => (field, CaptureType::Int),
        Some((field, "float")) => (field, CaptureType::Float),
        Some((_, other)) => return Err(CaptureError::Type(other)),
    };
    if is_field_name(field) {
        Ok((field, kind))
    } else {
        Err(CaptureError::Field(field))
    }
}

fn invalid(position: usize, reason: impl Into<String>) -> ParserError {
    ParserError::InvalidToken {
        position,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn lib(defs: &[(&str, &str)]) -> HashMap<String, String> {
        defs.iter()
            .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
            .collect()
    }

    #[test]
    fn tokens_become_groups_and_plain_groups_stop_capturing() {
        let l = lib(&[("A", "(x|y)"), ("B", "%{A:inner}z")]);
        let e = expand(&l, "^%{B:outer:int} %{A} (?<raw>q)").unwrap();
        assert_eq!(e.regex, "^(?P<g0>(?P<g1>(?:x|y))z) (?:(?:x|y)) (?P<g2>q)");
        let fields: Vec<_> = e
            .captures
            .iter()
            .map(|c| (c.field.as_str(), c.kind))
            .collect();
        assert_eq!(
            fields,
            [
                ("outer", CaptureType::Int),
                ("inner", CaptureType::String),
                ("raw", CaptureType::String)
            ]
        );
    }

    #[test]
    fn classes_and_escapes_are_left_alone_except_perl_classes() {
        let l = lib(&[]);
        let e = expand(&l, r"[(%{]\(\d[\d\s]\b[]a]").unwrap();
        assert_eq!(e.regex, r"[(%{]\([0-9][0-9\t\n\x0B\x0C\r ](?-u:\b)[]a]");
    }

    #[test]
    fn bad_tokens_are_errors() {
        let l = lib(&[("A", "a")]);
        assert!(matches!(
            expand(&l, "%{A"),
            Err(ParserError::InvalidToken { position: 0, .. })
        ));
        assert!(matches!(
            expand(&l, "x%{A:}"),
            Err(ParserError::InvalidToken { position: 1, .. })
        ));
        assert!(
            matches!(expand(&l, "%{A:f:bool}"), Err(ParserError::UnknownCaptureType(t)) if t == "bool")
        );
        assert!(matches!(
            expand(&l, "%{A=a}"),
            Err(ParserError::InvalidToken { .. })
        ));
        assert!(matches!(
            expand(&l, "(?<a b>x)"),
            Err(ParserError::InvalidToken { .. })
        ));
    }

    #[test]
    fn exponential_expansion_is_cut_off() {
        let mut defs = vec![("L0".to_owned(), "abcdefgh".to_owned())];
        for n in 1..40 {
            defs.push((format!("L{n}"), format!("%{{L{0}}}%{{L{0}}}", n - 1)));
        }
        let l: HashMap<_, _> = defs.into_iter().collect();
        assert!(matches!(
            expand(&l, "%{L39}"),
            Err(ParserError::PatternTooLarge { .. })
        ));
    }

    #[test]
    fn deep_chains_are_cut_off() {
        let mut defs = vec![("L0".to_owned(), "a".to_owned())];
        for n in 1..1000 {
            defs.push((format!("L{n}"), format!("%{{L{}}}", n - 1)));
        }
        let l: HashMap<_, _> = defs.into_iter().collect();
        assert!(matches!(
            expand(&l, "%{L999}"),
            Err(ParserError::TooDeep {
                limit: MAX_DEPTH,
                ..
            })
        ));
    }
}
