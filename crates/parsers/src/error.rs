//! Why a pattern could not be compiled or a line could not be parsed. Messages are
//! lowercase without a trailing period so they chain into pipeline errors
//! (`stage parse: unknown grok pattern FOO`).

use std::fmt;

use thiserror::Error;

/// Errors of this crate: compile-time errors of grok, dissect and regex patterns (returned when a
/// pipeline is configured, never while matching) and logfmt syntax errors (per line).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParserError {
    /// `%{NAME}` names a pattern the library does not have.
    #[error("unknown grok pattern {name}")]
    UnknownPattern {
        /// The missing pattern's name.
        name: String,
    },
    /// A pattern refers to itself, directly or through others.
    #[error("recursive grok pattern: {}", chain.join(" -> "))]
    RecursivePattern {
        /// The cycle, starting and ending with the same name.
        chain: Vec<String>,
    },
    /// Patterns nest deeper than the compiler follows (a guard for the stack).
    #[error("grok patterns nest deeper than {limit} levels at {name}")]
    TooDeep {
        /// Where the limit was hit.
        name: String,
        /// The maximum depth.
        limit: usize,
    },
    /// A custom pattern name that is not `[A-Za-z0-9_]+`.
    #[error("invalid grok pattern name {0:?}: expected letters, digits and _")]
    InvalidPatternName(String),
    /// A malformed `%{...}` token or `(?<name>...)` group.
    #[error("invalid grok token at byte {position}: {reason}")]
    InvalidToken {
        /// Byte offset of the token in the pattern text it was found in.
        position: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// `%{NAME:field:type}` with a type other than `int` or `float`.
    #[error("unknown grok capture type {0:?}: expected int or float")]
    UnknownCaptureType(String),
    /// The fully expanded pattern is longer than the expansion limit.
    #[error("grok pattern expands to more than {limit} bytes")]
    PatternTooLarge {
        /// The limit in bytes of regex text.
        limit: usize,
    },
    /// The compiled automaton would be larger than the regex size limit.
    #[error("compiled regex exceeds the size limit of {limit} bytes")]
    RegexTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The regex (as written, or after grok expansion) does not compile.
    #[error("invalid regex: {0}")]
    InvalidRegex(String),
    /// A dissect pattern that cannot be compiled.
    #[error("invalid dissect pattern at byte {position}: {reason}")]
    InvalidDissect {
        /// Byte offset of the problem in the pattern.
        position: usize,
        /// What is wrong there.
        reason: String,
    },
    /// A logfmt line that go-logfmt would reject too.
    #[error("invalid logfmt at byte {position}: {kind}")]
    Logfmt {
        /// Byte offset in the line where the problem was found.
        position: usize,
        /// What was wrong there.
        kind: LogfmtErrorKind,
    },
}

/// The logfmt syntax errors, as go-logfmt reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogfmtErrorKind {
    /// A quoted value without its closing quote.
    UnterminatedQuote,
    /// A quoted value with an invalid escape or a raw control character.
    InvalidQuotedValue,
    /// A byte that cannot appear where it is (`=` with no key, `"` in a key, `=` or `"`
    /// inside an unquoted value).
    UnexpectedByte(char),
}

impl fmt::Display for LogfmtErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnterminatedQuote => f.write_str("unterminated quoted value"),
            Self::InvalidQuotedValue => f.write_str("invalid quoted value"),
            Self::UnexpectedByte(c) => write!(f, "unexpected {c:?}"),
        }
    }
}

/// Maps a regex build error, keeping the size limit apart: it means "make the pattern
/// smaller", not "fix its syntax".
pub(crate) fn regex_error(err: regex::Error, size_limit: usize) -> ParserError {
    match err {
        regex::Error::CompiledTooBig(_) => ParserError::RegexTooLarge { limit: size_limit },
        other => ParserError::InvalidRegex(other.to_string()),
    }
}
