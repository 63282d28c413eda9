//! Grok: named, reusable regex fragments (`%{IPORHOST:clientip}`) compiled into one regex
//! per pipeline pattern.
//!
//! The library ([`GrokLibrary::standard`], from `patterns.txt`) follows Logstash's names
//! and field names; see that file for the patterns and where they differ from Logstash.
//! A pattern is expanded and compiled once, when the pipeline is configured; all errors
//! (unknown or recursive pattern, bad regex, too large) surface then. Matching uses the
//! `regex` crate's engines, linear in the input, so no line can stall a processor: first
//! anchored at the line's start (where a format's lines match), then anywhere.
//!
//! Matching semantics, as in Logstash:
//! - the search is unanchored: a pattern matches anywhere in the line unless it starts with
//!   `^` (or ends with `$`). Nothing is anchored behind the user's back; writing `^` is
//!   also the fastest way to reject lines that do not match.
//! - a capture that did not take part in the match, or matched the empty string, is left
//!   out (Logstash's `keep_empty_captures => false`); e.g. `bytes` for a `-` in an access log.
//! - a field captured more than once (nested or repeated) appears once per capture, in
//!   pattern order; the caller decides whether the last one wins.
//! - `%{NAME:field:int}` / `:float` convert like Logstash (Ruby's `to_i` / `to_f`), every
//!   other capture is a string.

mod convert;
mod expand;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use regex::{Regex, RegexBuilder};
use regex_automata::{meta, Anchored, Input};

use self::expand::{Capture, CaptureType};
use crate::{FieldValue, ParserError};

/// The standard pattern file, `NAME regex` per line.
const STANDARD_PATTERNS: &str = include_str!("patterns.txt");

/// Upper bound on a compiled pattern's automaton, in bytes. The largest standard pattern
/// (HTTPD_ERRORLOG) needs under 256 KiB; 8 MiB leaves room for users' bigger alternations while
/// keeping one mistaken pattern (a `{1000}` repetition of a class) from taking hundreds of MiB.
pub const REGEX_SIZE_LIMIT: usize = 8 << 20;

static STANDARD: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| parse_pattern_file(STANDARD_PATTERNS).collect());

/// Reads `NAME regex` lines; blank lines and `#` comments are skipped, and so is a line
/// without a definition (the standard file has none: a unit test checks it).
fn parse_pattern_file(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let (name, definition) = line.split_once(|c: char| c.is_ascii_whitespace())?;
        Some((name.to_owned(), definition.trim().to_owned()))
    })
}

/// A set of named patterns that grok expressions refer to with `%{NAME}`.
#[derive(Debug, Clone)]
pub struct GrokLibrary {
    patterns: HashMap<String, String>,
}

impl Default for GrokLibrary {
    fn default() -> Self {
        Self::standard()
    }
}

impl GrokLibrary {
    /// The standard library (`patterns.txt`): Logstash's grok-patterns and httpd patterns,
    /// plus NGINXACCESS, JAVALOG, PYTHONLOG and PYTHONLOG_ASCTIME.
    pub fn standard() -> Self {
        Self {
            patterns: STANDARD.clone(),
        }
    }

    /// Adds custom patterns, replacing standard ones of the same name (as a Logstash
    /// `patterns_dir` does). Every added pattern is expanded once to check it.
    ///
    /// # Errors
    /// [`ParserError::InvalidPatternName`] for a name other than `[A-Za-z0-9_]+`; for a
    /// definition that refers to an unknown pattern, forms a cycle, or is malformed, the
    /// error its expansion gives ([`ParserError::UnknownPattern`],
    /// [`ParserError::RecursivePattern`], ...). Regex syntax is checked by [`Self::compile`].
    pub fn with_patterns(
        mut self,
        custom: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ParserError> {
        let mut added = Vec::new();
        for (name, definition) in custom {
            if !expand::is_pattern_name(&name) {
                return Err(ParserError::InvalidPatternName(name));
            }
            added.push(name.clone());
            self.patterns.insert(name, definition);
        }
        // A cycle or unknown reference must involve an added pattern (the standard set has
        // none), so expanding the added ones finds them all.
        for name in added {
            expand::expand(&self.patterns, &format!("%{{{name}}}"))?;
        }
        Ok(self)
    }

    /// The definition of pattern `name`, as written.
    pub fn pattern(&self, name: &str) -> Option<&str> {
        self.patterns.get(name).map(String::as_str)
    }

    /// All pattern names, sorted.
    pub fn pattern_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.patterns.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Compiles a grok expression: `%{NAME}`, `%{NAME:field}`, `%{NAME:field:int}`,
    /// `%{NAME:field:float}`, `(?<field>regex)` and raw regex in between.
    ///
    /// # Errors
    /// [`ParserError::UnknownPattern`], [`ParserError::RecursivePattern`],
    /// [`ParserError::TooDeep`], [`ParserError::InvalidToken`],
    /// [`ParserError::UnknownCaptureType`], [`ParserError::PatternTooLarge`] from the
    /// expansion; [`ParserError::InvalidRegex`] or [`ParserError::RegexTooLarge`] from the
    /// regex compiler.
    pub fn compile(&self, pattern: &str) -> Result<Grok, ParserError> {
        let expansion = expand::expand(&self.patterns, pattern)?;
        let build = |source: &str| {
            RegexBuilder::new(source)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| crate::error::regex_error(e, REGEX_SIZE_LIMIT))
        };
        let regex = build(&expansion.regex)?;
        // Without the lazy DFA, the meta engine runs the capture search at once instead of
        // first finding the match's end with the DFA and then searching again for the
        // captures: a quarter less time per matching line (see `starts_lines` for the cost of
        // a failing one).
        let at_start = meta::Regex::builder()
            .configure(meta::Config::new().nfa_size_limit(Some(REGEX_SIZE_LIMIT)).hybrid(false).dfa(false))
            .build(&expansion.regex)
            .map_err(|e| match e.size_limit() {
                Some(_) => ParserError::RegexTooLarge { limit: REGEX_SIZE_LIMIT },
                None => ParserError::InvalidRegex(e.to_string()),
            })?;
        // Group `gN` is capture N; map group indices to captures once, here.
        let mut slots = Vec::with_capacity(expansion.captures.len());
        for (group, name) in regex.capture_names().enumerate() {
            let capture = name
                .and_then(|n| n.strip_prefix('g'))
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| expansion.captures.get(n));
            if let Some(capture) = capture {
                slots.push((group, capture.clone()));
            }
        }
        Ok(Grok {
            inner: Arc::new(GrokInner {
                source: pattern.to_owned(),
                regex,
                at_start,
                starts_lines: AtomicBool::new(true),
                slots,
            }),
        })
    }
}

/// A compiled grok expression. Cheap to clone and share between threads (one `Arc`).
#[derive(Debug, Clone)]
pub struct Grok {
    inner: Arc<GrokInner>,
}

#[derive(Debug)]
struct GrokInner {
    source: String,
    regex: Regex,
    /// The same pattern, searched anchored at the start of the input. Lines of a known format
    /// match from their first byte, and there the leftmost match is the anchored one; an
    /// anchored search skips the reverse scan that finds where an unanchored match starts (a
    /// fifth of the regex time of a preset), and fails within a few bytes on a line of another
    /// format. It numbers its groups as `regex` does (same pattern).
    at_start: meta::Regex,
    /// Whether the last match started at the first byte: then the anchored search is tried
    /// first. A failing anchored search without the DFA costs more than the unanchored
    /// search's DFA pass (it clears state for the whole line), so a pattern that stopped
    /// matching at the start (the first of several patterns in a set, for lines the second
    /// one reads) goes straight to the unanchored search. Only the cost depends on it: both
    /// searches find the same match.
    starts_lines: AtomicBool,
    /// (capture group index, field) in pattern order.
    slots: Vec<(usize, Capture)>,
}

impl Grok {
    /// The fields of the first match in `input`, in pattern order, or `None` when the
    /// pattern does not match. Captures that did not participate or matched nothing are
    /// left out.
    pub fn parse(&self, input: &str) -> Option<Vec<(String, FieldValue)>> {
        Some(self.captures(input)?.into_iter().map(|(field, value)| (field.to_owned(), value)).collect())
    }

    /// As [`Self::parse`], with the field names borrowed from the pattern (one allocation less
    /// per field on the processor's path).
    pub fn captures(&self, input: &str) -> Option<Vec<(&str, FieldValue)>> {
        let inner = &*self.inner;
        if inner.starts_lines.load(Ordering::Relaxed) {
            let mut anchored = inner.at_start.create_captures();
            inner.at_start.search_captures(&Input::new(input).anchored(Anchored::Yes), &mut anchored);
            if anchored.is_match() {
                return Some(self.fields(|i| anchored.get_group(i).map(|span| &input[span.range()])));
            }
            inner.starts_lines.store(false, Ordering::Relaxed);
        }
        let unanchored = inner.regex.captures(input)?;
        if unanchored.get(0).is_some_and(|m| m.start() == 0) {
            inner.starts_lines.store(true, Ordering::Relaxed);
        }
        Some(self.fields(|i| unanchored.get(i).map(|m| m.as_str())))
    }

    /// The fields of a match, given the text of each capture group.
    fn fields<'i>(&self, group: impl Fn(usize) -> Option<&'i str>) -> Vec<(&str, FieldValue)> {
        let mut fields = Vec::with_capacity(self.inner.slots.len());
        for (index, capture) in &self.inner.slots {
            let Some(text) = group(*index) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            let value = match capture.kind {
                CaptureType::String => FieldValue::String(text.to_owned()),
                CaptureType::Int => FieldValue::Long(convert::to_i(text)),
                CaptureType::Float => FieldValue::Double(convert::to_f(text)),
            };
            fields.push((capture.field.as_str(), value));
        }
        fields
    }

    /// Whether the pattern matches anywhere in `input`, without extracting fields (faster).
    pub fn is_match(&self, input: &str) -> bool {
        self.inner.regex.is_match(input)
    }

    /// The grok expression as written by the user.
    pub fn pattern_source(&self) -> &str {
        &self.inner.source
    }

    /// The expanded regex handed to the regex crate (for debugging a pattern).
    pub fn regex_source(&self) -> &str {
        self.inner.regex.as_str()
    }

    /// The distinct field names this pattern can produce, in pattern order.
    pub fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (_, capture) in &self.inner.slots {
            if !names.contains(&capture.field) {
                names.push(capture.field.clone());
            }
        }
        names
    }
}

/// Several grok expressions tried in order; the first that matches wins, as in a Logstash
/// grok filter with several `match` patterns and `break_on_match => true`.
#[derive(Debug, Clone)]
pub struct GrokSet {
    groks: Vec<Grok>,
}

impl GrokSet {
    /// Compiles every pattern with `lib`.
    ///
    /// # Errors
    /// The first pattern's error, as [`GrokLibrary::compile`] returns it.
    pub fn compile(lib: &GrokLibrary, patterns: &[String]) -> Result<Self, ParserError> {
        let mut groks = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            groks.push(lib.compile(pattern)?);
        }
        Ok(Self { groks })
    }

    /// The index of the first pattern that matches, and its fields; `None` when none does.
    pub fn parse(&self, input: &str) -> Option<(usize, Vec<(String, FieldValue)>)> {
        let (i, fields) = self.captures(input)?;
        Some((i, fields.into_iter().map(|(field, value)| (field.to_owned(), value)).collect()))
    }

    /// As [`Self::parse`], with the field names borrowed from the patterns.
    pub fn captures(&self, input: &str) -> Option<(usize, Vec<(&str, FieldValue)>)> {
        self.groks
            .iter()
            .enumerate()
            .find_map(|(i, grok)| grok.captures(input).map(|fields| (i, fields)))
    }

    /// The compiled patterns, in order.
    pub fn groks(&self) -> &[Grok] {
        &self.groks
    }

    /// How many patterns there are.
    pub fn len(&self) -> usize {
        self.groks.len()
    }

    /// Whether there are no patterns (then nothing matches).
    pub fn is_empty(&self) -> bool {
        self.groks.is_empty()
    }
}

#[cfg(test)]
mod tests;
