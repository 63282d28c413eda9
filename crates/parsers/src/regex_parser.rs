//! A plain `regex` crate expression whose named groups are the fields: for formats no grok
//! pattern fits, without grok's expansion. Syntax is the regex crate's (`(?P<name>...)` or
//! `(?<name>...)`), matching is unanchored unless the pattern says `^`, and time is linear
//! in the input.

use regex::{Regex, RegexBuilder};

use crate::ParserError;

/// Upper bound on the compiled automaton, as for grok (see [`crate::grok::REGEX_SIZE_LIMIT`]).
const SIZE_LIMIT: usize = crate::grok::REGEX_SIZE_LIMIT;

/// Compiles any user-written regex under the size limit.
///
/// # Errors
/// As [`NamedRegex::new`].
pub fn bounded(pattern: &str) -> Result<Regex, ParserError> {
    RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).build().map_err(|e| crate::error::regex_error(e, SIZE_LIMIT))
}

/// A compiled regex with its named groups, resolved to group indices once.
#[derive(Debug, Clone)]
pub struct NamedRegex {
    regex: Regex,
    /// (group index, name) of every named group, in pattern order.
    names: Vec<(usize, String)>,
}

impl NamedRegex {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// [`ParserError::InvalidRegex`] for bad syntax (including duplicate group names and
    /// look-around, which the regex crate does not have), [`ParserError::RegexTooLarge`]
    /// past the size limit.
    pub fn new(pattern: &str) -> Result<Self, ParserError> {
        let regex = bounded(pattern)?;
        let names = regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, name)| name.map(|n| (i, n.to_owned())))
            .collect();
        Ok(Self { regex, names })
    }

    /// The named groups of the first match, in pattern order; groups that did not take
    /// part in the match are left out (one that matched the empty string is kept). `None`
    /// when the regex does not match.
    pub fn parse(&self, input: &str) -> Option<Vec<(String, String)>> {
        let captures = self.regex.captures(input)?;
        let mut fields = Vec::with_capacity(self.names.len());
        for (group, name) in &self.names {
            if let Some(m) = captures.get(*group) {
                fields.push((name.clone(), m.as_str().to_owned()));
            }
        }
        Some(fields)
    }

    /// The group names, in pattern order.
    pub fn field_names(&self) -> Vec<String> {
        self.names.iter().map(|(_, n)| n.clone()).collect()
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn named_groups_only_and_unmatched_optional_groups_omitted() {
        let re = NamedRegex::new(r"^(?P<method>[A-Z]+) (\S+)(?: took (?<ms>\d+)ms)?(?<tail>.*)$")
            .unwrap();
        assert_eq!(re.field_names(), ["method", "ms", "tail"]);
        assert_eq!(
            re.parse("GET /x").unwrap(),
            [
                ("method".to_owned(), "GET".to_owned()),
                ("tail".to_owned(), String::new())
            ]
        );
        assert_eq!(
            re.parse("PUT /y took 12ms!").unwrap(),
            [
                ("method".to_owned(), "PUT".to_owned()),
                ("ms".to_owned(), "12".to_owned()),
                ("tail".to_owned(), "!".to_owned())
            ]
        );
        assert_eq!(re.parse("get /x"), None);
    }

    #[test]
    fn bad_regexes_are_errors() {
        assert!(matches!(
            NamedRegex::new("(unclosed"),
            Err(ParserError::InvalidRegex(_))
        ));
        assert!(matches!(
            NamedRegex::new(r"(?<=a)b"),
            Err(ParserError::InvalidRegex(_))
        ));
        assert!(matches!(
            NamedRegex::new(r"(?P<a>x)(?P<a>y)"),
            Err(ParserError::InvalidRegex(_))
        ));
        let err = NamedRegex::new(r"\w{1000}\w{1000}\w{1000}").unwrap_err();
        assert_eq!(err, ParserError::RegexTooLarge { limit: SIZE_LIMIT });
        assert_eq!(
            err.to_string(),
            "compiled regex exceeds the size limit of 8388608 bytes"
        );
    }
}
