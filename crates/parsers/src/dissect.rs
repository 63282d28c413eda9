//! Dissect, as Elasticsearch's ingest processor and Logstash's filter know it: a pattern of
//! `%{key}`s and the literal text between them, `%{a} [%{b}] %{c}`. Each key takes the input up
//! to the next occurrence of the text that follows it in the pattern; the last key takes the
//! rest. There is no regex and no backtracking, so it reads a line at the speed of a substring
//! search: for fixed layouts with many fields (load balancer access logs, flow logs) it is
//! several times faster than the equivalent grok.
//!
//! Keys: `%{name}`; `%{}` and `%{?name}` read and drop a value; `%{name->}` also skips repeats of
//! the text after it (column padding). As in grok, `%{name:int}` and `%{name:float}` type a
//! value; a typed value that is `-` or empty is left out (the common "no value" of access logs),
//! and one that is not a number means the pattern does not match, so a line of another format is
//! not read as this one. Empty values are left out, as grok leaves out empty captures.
//!
//! The pattern must end at the end of the line: text after its last literal means no match.
//! Not supported (refused when compiled): `%{+name}` appends and `%{*name}`/`%{&name}`
//! references.

use nexuslog_schemas::FieldValue;

use crate::ParserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Int,
    Float,
}

/// One `%{...}` and the literal that ends its value.
#[derive(Debug, Clone)]
struct Key {
    /// `None` for a skipped value.
    name: Option<String>,
    kind: Kind,
    /// Empty only for the last key, which takes the rest of the line.
    until: String,
    /// Built once: a searcher is costlier to build than a search of a short value.
    finder: memchr::memmem::Finder<'static>,
    /// `->`: repeats of `until` after the first are skipped too.
    padded: bool,
}

/// A compiled dissect pattern.
#[derive(Debug, Clone)]
pub struct Dissect {
    source: String,
    /// Literal text before the first key.
    prefix: String,
    keys: Vec<Key>,
}

fn invalid(position: usize, reason: impl Into<String>) -> ParserError {
    ParserError::InvalidDissect { position, reason: reason.into() }
}

impl Dissect {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// [`ParserError::InvalidDissect`] for an unclosed `%{`, a pattern without keys, two keys
    /// with no text between them, an unknown type, or a modifier this parser does not have.
    pub fn new(pattern: &str) -> Result<Self, ParserError> {
        let mut prefix = None;
        let mut keys: Vec<Key> = Vec::new();
        let mut rest = pattern;
        let mut offset = 0;
        while !rest.is_empty() {
            let literal_end = rest.find("%{").unwrap_or(rest.len());
            let literal = &rest[..literal_end];
            match keys.last_mut() {
                None => prefix = Some(literal.to_owned()),
                Some(last) if literal.is_empty() => {
                    return Err(invalid(offset, format!("`{}` needs text between it and the next key", display(last))));
                }
                Some(last) => {
                    last.until = literal.to_owned();
                    last.finder = memchr::memmem::Finder::new(literal.as_bytes()).into_owned();
                }
            }
            if literal_end == rest.len() {
                break;
            }
            let body_start = literal_end + 2;
            let close = rest[body_start..].find('}').ok_or_else(|| invalid(offset + literal_end, "unclosed `%{`"))?;
            keys.push(key(&rest[body_start..body_start + close], offset + literal_end)?);
            offset += body_start + close + 1;
            rest = &rest[body_start + close + 1..];
        }
        if keys.is_empty() {
            return Err(invalid(0, "the pattern has no `%{key}`"));
        }
        Ok(Self { source: pattern.to_owned(), prefix: prefix.unwrap_or_default(), keys })
    }

    /// The named values of `input`, in pattern order, or `None` when it does not have the
    /// pattern's layout.
    pub fn parse(&self, input: &str) -> Option<Vec<(&str, FieldValue)>> {
        let mut rest = input.strip_prefix(self.prefix.as_str())?;
        let mut fields = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            let (value, after) = if key.until.is_empty() {
                (rest, "")
            } else {
                let end = key.finder.find(rest.as_bytes())?;
                let mut after = &rest[end + key.until.len()..];
                if key.padded {
                    while let Some(more) = after.strip_prefix(key.until.as_str()) {
                        after = more;
                    }
                }
                (&rest[..end], after)
            };
            rest = after;
            let Some(name) = &key.name else { continue };
            let value = match key.kind {
                _ if value.is_empty() => continue,
                Kind::String => FieldValue::String(value.to_owned()),
                _ if value == "-" => continue,
                Kind::Int => FieldValue::Long(value.parse().ok()?),
                Kind::Float => FieldValue::Double(value.parse().ok().filter(|f: &f64| f.is_finite())?),
            };
            fields.push((name.as_str(), value));
        }
        // A pattern ending in a literal ends the line there.
        rest.is_empty().then_some(fields)
    }

    /// The names of the values it extracts, in pattern order.
    pub fn field_names(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.name.as_deref()).collect()
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

fn key(body: &str, position: usize) -> Result<Key, ParserError> {
    let (body, padded) = match body.strip_suffix("->") {
        Some(b) => (b, true),
        None => (body, false),
    };
    let (name, kind) = match body.rsplit_once(':') {
        Some((name, "int")) => (name, Kind::Int),
        Some((name, "float")) => (name, Kind::Float),
        Some((_, other)) => return Err(invalid(position, format!("unknown type {other:?}: expected int or float"))),
        None => (body, Kind::String),
    };
    let name = match name.chars().next() {
        None | Some('?') => None,
        Some(m @ ('+' | '*' | '&')) => return Err(invalid(position, format!("the `{m}` modifier is not supported"))),
        Some(_) => Some(name.to_owned()),
    };
    if name.is_none() && kind != Kind::String {
        return Err(invalid(position, "a skipped value has no type"));
    }
    Ok(Key { name, kind, until: String::new(), finder: memchr::memmem::Finder::new(b"").into_owned(), padded })
}

fn display(k: &Key) -> String {
    format!("%{{{}}}", k.name.as_deref().unwrap_or(""))
}

/// Several patterns, tried in order: the first that matches wins.
#[derive(Debug, Clone)]
pub struct DissectSet {
    patterns: Vec<Dissect>,
}

impl DissectSet {
    /// Compiles each pattern.
    ///
    /// # Errors
    /// The first pattern's error, as [`Dissect::new`].
    pub fn compile<S: AsRef<str>>(patterns: &[S]) -> Result<Self, ParserError> {
        Ok(Self { patterns: patterns.iter().map(|p| Dissect::new(p.as_ref())).collect::<Result<_, _>>()? })
    }

    /// The fields of the first pattern that matches `input`.
    pub fn parse(&self, input: &str) -> Option<Vec<(&str, FieldValue)>> {
        self.patterns.iter().find_map(|d| d.parse(input))
    }

    /// The compiled patterns, in order.
    pub fn patterns(&self) -> &[Dissect] {
        &self.patterns
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn s(v: &str) -> FieldValue {
        FieldValue::String(v.into())
    }

    #[test]
    fn each_key_reads_up_to_the_text_after_it_and_the_last_takes_the_rest() {
        let d = Dissect::new("[%{ts}] %{level} (%{?thread}) %{msg}").unwrap();
        assert_eq!(
            d.parse("[2023-11-14 22:13:20] WARN (main) disk almost full: 91%").unwrap(),
            vec![("ts", s("2023-11-14 22:13:20")), ("level", s("WARN")), ("msg", s("disk almost full: 91%"))]
        );
        assert_eq!(d.field_names(), ["ts", "level", "msg"]);
        // The prefix, and each literal, must be there.
        assert_eq!(d.parse("2023-11-14 WARN (main) x"), None);
        assert_eq!(d.parse("[2023-11-14] WARN main x"), None);
    }

    #[test]
    fn typed_values_are_numbers_dashes_are_left_out_and_words_do_not_match() {
        let d = Dissect::new("%{status:int} %{bytes:int} %{took:float}").unwrap();
        assert_eq!(d.parse("200 512 0.25").unwrap(), vec![("status", FieldValue::Long(200)), ("bytes", FieldValue::Long(512)), ("took", FieldValue::Double(0.25))]);
        assert_eq!(d.parse("502 - -1").unwrap(), vec![("status", FieldValue::Long(502)), ("took", FieldValue::Double(-1.0))]);
        assert_eq!(d.parse("OK 512 0.25"), None);
        assert_eq!(d.parse("200 512 NaN"), None);
        // Empty values are left out, typed or not.
        assert_eq!(Dissect::new("%{a},%{b},%{c:int}").unwrap().parse(",x,").unwrap(), vec![("b", s("x"))]);
    }

    #[test]
    fn padding_skips_repeated_delimiters_and_a_trailing_literal_ends_the_line() {
        let d = Dissect::new("%{ts}, %{level->} %{component->} %{msg}").unwrap();
        assert_eq!(
            d.parse("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack").unwrap(),
            vec![("ts", s("2016-09-28 04:30:30")), ("level", s("Info")), ("component", s("CBS")), ("msg", s("Loaded Servicing Stack"))]
        );
        let quoted = Dissect::new(r#""%{request}" %{status}""#).unwrap();
        assert_eq!(quoted.parse(r#""GET / HTTP/1.1" 200""#).unwrap(), vec![("request", s("GET / HTTP/1.1")), ("status", s("200"))]);
        assert_eq!(quoted.parse(r#""GET / HTTP/1.1" 200" extra"#), None);
    }

    #[test]
    fn the_first_matching_pattern_of_a_set_wins() {
        let set = DissectSet::compile(&["%{a} %{b} %{c:int}", "%{a} %{b}"]).unwrap();
        assert_eq!(set.parse("x y 3").unwrap().len(), 3);
        assert_eq!(set.parse("x y z").unwrap(), vec![("a", s("x")), ("b", s("y z"))]);
        assert_eq!(set.parse("xyz"), None);
    }

    #[test]
    fn malformed_patterns_are_refused_with_the_reason() {
        for (pattern, reason) in [
            ("%{a}%{b}", "needs text between"),
            ("%{a", "unclosed"),
            ("no keys", "no `%{key}`"),
            ("%{a:date} x", "unknown type"),
            ("%{+a} %{a}", "not supported"),
            ("%{?a:int} x", "no type"),
        ] {
            let err = Dissect::new(pattern).unwrap_err().to_string();
            assert!(err.contains(reason), "{pattern}: {err}");
        }
    }

    #[test]
    fn multi_byte_text_and_delimiters() {
        let d = Dissect::new("%{a} → %{b} | %{c}").unwrap();
        assert_eq!(d.parse("München → Zürich | 東京").unwrap(), vec![("a", s("München")), ("b", s("Zürich")), ("c", s("東京"))]);
    }
}
