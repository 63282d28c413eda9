//! Error types: why a message was rejected by [`crate::parse_strict`], and why a frame was
//! rejected by [`crate::Framer`]. Messages are lowercase without a trailing period so they
//! chain into dead-letter reasons.

use thiserror::Error;

/// Why [`crate::parse_strict`] refused a message. The gateway dead-letters these with the
/// `Display` text as the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyslogError {
    /// Nothing but trailing newlines or NULs.
    #[error("empty message")]
    Empty,
    /// The message does not start with `<PRI>`.
    #[error("missing <PRI> at the start of the message")]
    MissingPri,
    /// `<` was there, but not a valid priority (1-3 digits, at most 191, then `>`).
    #[error("invalid priority {0:?}: expected <0> to <191>")]
    InvalidPri(String),
    /// A `<PRI>` with nothing after it.
    #[error("nothing after the <PRI>")]
    NoContent,
    /// A control character that text logs never contain: the sender is not speaking syslog.
    #[error("binary content: control byte 0x{byte:02x} at offset {offset}")]
    BinaryContent {
        /// Byte offset in the input.
        offset: usize,
        /// The offending byte.
        byte: u8,
    },
    /// An RFC 5424 header that ends before all of its fields.
    #[error("rfc 5424 header truncated before {field}")]
    TruncatedHeader {
        /// The first missing field.
        field: &'static str,
    },
    /// An RFC 5424 TIMESTAMP that is neither `-` nor a valid RFC 3339 time.
    #[error("invalid rfc 5424 timestamp {0:?}")]
    InvalidTimestamp(String),
    /// Malformed RFC 5424 STRUCTURED-DATA.
    #[error("invalid structured data at offset {offset}: {reason}")]
    InvalidStructuredData {
        /// Byte offset in the input.
        offset: usize,
        /// What was wrong there.
        reason: &'static str,
    },
}

/// Why [`crate::Framer::next_frame`] rejected a frame. After returning one of these the
/// framer has already resynchronised; the caller just counts it and keeps reading.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// An octet-counted frame declared more than `max` bytes, or a newline-delimited frame
    /// ran past `max` bytes without a delimiter.
    #[error("frame too large: {declared_or_seen} bytes, the limit is {max}")]
    TooLarge {
        /// The declared octet count, or the bytes seen so far without a delimiter.
        declared_or_seen: usize,
        /// The configured maximum message size.
        max: usize,
    },
    /// An octet-counting header that cannot be a length (zero, or a leading zero).
    #[error("bad octet-counting length: {0}")]
    BadLength(String),
}
