//! Tolerant `key=value` extraction from free text, like Logstash's kv filter: firewall and
//! appliance logs (`IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 ... DF SYN URGP=0`), audit
//! lines, query strings (`field_split: "&"`).
//!
//! Unlike [`crate::logfmt`] it never fails: words without a value separator are junk and
//! skipped, as are pairs whose key or value is empty (Logstash's default
//! `allow_empty_values => false`). Rules:
//!
//! - `field_split` and `value_split` are sets of characters, each one a separator (as in
//!   Logstash), not strings to find;
//! - a value that starts with `"` or `'` runs to the matching unescaped quote and is
//!   returned without the quotes, with `\<quote>` and `\\` unescaped; with no closing
//!   quote it is read like an unquoted value;
//! - an unquoted value runs to the next field separator and may contain the value
//!   separator (`url=/a?b=c` gives `url` = `/a?b=c`);
//! - `trim_chars` are stripped from both ends of every key and of unquoted values;
//! - `prefix` is prepended to every key.

/// How [`parse`] splits a line. The default reads `a=1 b="two words"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvOptions {
    /// Characters that separate pairs. Default `" "`.
    pub field_split: String,
    /// Characters that separate a key from its value. Default `"="`.
    pub value_split: String,
    /// Characters stripped from both ends of keys and unquoted values. Default `"'`.
    pub trim_chars: String,
    /// Prepended to every key, e.g. `"fw."`. Default empty.
    pub prefix: String,
}

impl Default for KvOptions {
    fn default() -> Self {
        Self {
            field_split: " ".to_owned(),
            value_split: "=".to_owned(),
            trim_chars: "\"'".to_owned(),
            prefix: String::new(),
        }
    }
}

/// The key/value pairs found in `input`, in order; keys may repeat.
pub fn parse(input: &str, opts: &KvOptions) -> Vec<(String, String)> {
    let is_field = |c: char| opts.field_split.contains(c);
    let is_value = |c: char| opts.value_split.contains(c);
    let trim = |s: &'_ str| -> String {
        s.trim_matches(|c: char| opts.trim_chars.contains(c))
            .to_owned()
    };

    let mut pairs = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start_matches(is_field);
        let key_end = rest
            .find(|c: char| is_field(c) || is_value(c))
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = &rest[key_end..];
        let Some(separator) = rest.chars().next() else {
            return pairs;
        };
        if !is_value(separator) {
            // A word without a value: junk.
            continue;
        }
        rest = &rest[separator.len_utf8()..];

        let value = match quoted(rest) {
            Some((value, after)) => {
                rest = after;
                value
            }
            None => {
                let end = rest.find(is_field).unwrap_or(rest.len());
                let value = trim(&rest[..end]);
                rest = &rest[end..];
                value
            }
        };
        let key = trim(key);
        if !key.is_empty() && !value.is_empty() {
            pairs.push((format!("{}{key}", opts.prefix), value));
        }
    }
}

/// If `s` starts with a quote that is closed, the unescaped contents and what follows the
/// closing quote.
fn quoted(s: &str) -> Option<(String, &str)> {
    let quote = s.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let mut value = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((value, &s[1 + i + 1..]));
        }
        if c == '\\' {
            match chars.next() {
                Some((_, e)) if e == quote || e == '\\' => value.push(e),
                Some((_, e)) => {
                    value.push('\\');
                    value.push(e);
                }
                None => return None,
            }
        } else {
            value.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn pairs_among_junk() {
        let opts = KvOptions::default();
        assert_eq!(
            parse("junk a=1  b=two = c= =x DF url=/p?q=1 last", &opts),
            owned(&[("a", "1"), ("b", "two"), ("url", "/p?q=1")])
        );
        assert_eq!(parse("", &opts), owned(&[]));
        assert_eq!(parse("a=", &opts), owned(&[]));
    }

    #[test]
    fn quoted_values_and_trimmed_keys() {
        let opts = KvOptions::default();
        assert_eq!(
            parse(r#"msg="say \"hi\" \n" 'k'='v w' "k2"=x"#, &opts),
            owned(&[("msg", r#"say "hi" \n"#), ("k", "v w"), ("k2", "x")])
        );
        // No closing quote: read like an unquoted value, then trimmed.
        assert_eq!(
            parse(r#"a="open b=1"#, &opts),
            owned(&[("a", "open"), ("b", "1")])
        );
        // Junk glued to a closing quote becomes the start of the next key.
        assert_eq!(
            parse(r#"a="x"y=2"#, &opts),
            owned(&[("a", "x"), ("y", "2")])
        );
    }

    #[test]
    fn custom_separators_and_prefix() {
        let opts = KvOptions {
            field_split: "&;".to_owned(),
            value_split: ":=".to_owned(),
            trim_chars: String::new(),
            prefix: "q.".to_owned(),
        };
        assert_eq!(
            parse("a=1&b:2;;c=3&d", &opts),
            owned(&[("q.a", "1"), ("q.b", "2"), ("q.c", "3")])
        );
    }
}
