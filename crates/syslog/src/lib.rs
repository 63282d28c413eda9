//! Syslog for NexusLog: parsing of RFC 5424, RFC 3164 and the BSD, rsyslog, syslog-ng and
//! Cisco variants devices really send, and an RFC 6587 framer for TCP/TLS streams.
//!
//! Pure functions over bytes, no I/O: the ingest gateway owns sockets and feeds bytes to a
//! [`Framer`], then uses [`parse_strict`] to decide what to dead-letter (and
//! [`SyslogMessage::sd_param`] to read an API key); the stream processor uses [`parse`],
//! which never fails, to turn any message into a [`SyslogMessage`].
//!
//! All timestamps are microseconds since the Unix epoch, UTC; times without a zone are
//! taken as UTC, and year-less RFC 3164 times get the year that puts them closest before
//! the receive time (see `timestamp::infer_year`).

mod error;
mod framer;
mod pri;
mod rfc3164;
mod rfc5424;
mod timestamp;

pub use error::{FrameError, SyslogError};
pub use framer::Framer;
pub use pri::{facility_name, severity_name};

/// Which grammar a message was read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `<PRI>1 TIMESTAMP HOSTNAME ...`
    Rfc5424,
    /// BSD syslog and its variants, including lines without PRI that start with a timestamp.
    Rfc3164,
    /// Not syslog: the whole input is in `message`.
    Unparsed,
}

/// One RFC 5424 SD-ELEMENT: `[id name="value" ...]`, values unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement {
    /// SD-ID, e.g. `timeQuality` or `nexuslog@32473`.
    pub id: String,
    /// Parameters in order; names may repeat (RFC 5424 6.3.3).
    pub params: Vec<(String, String)>,
}

impl SdElement {
    /// The first value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed syslog message. Fields a format lacks, or that held NILVALUE, are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogMessage {
    /// Which grammar matched.
    pub format: Format,
    /// Facility from PRI (0..=23); `None` when there was no PRI.
    pub facility: Option<u8>,
    /// Severity from PRI (0..=7); `None` when there was no PRI.
    pub severity: Option<u8>,
    /// The sender's time in µs since the epoch, UTC; `None` for NILVALUE, absent or
    /// unparsable (callers fall back to the receive time).
    pub timestamp_micros: Option<i64>,
    /// HOSTNAME.
    pub hostname: Option<String>,
    /// APP-NAME, or the RFC 3164 TAG.
    pub app_name: Option<String>,
    /// PROCID, or the RFC 3164 `[pid]`.
    pub proc_id: Option<String>,
    /// MSGID (RFC 5424 only).
    pub msg_id: Option<String>,
    /// STRUCTURED-DATA elements (RFC 5424 only).
    pub structured_data: Vec<SdElement>,
    /// The free-form text: UTF-8 BOM stripped, invalid UTF-8 replaced (lossy).
    pub message: String,
    /// Cisco `service sequence-numbers` counter.
    pub sequence: Option<u64>,
}

impl SyslogMessage {
    pub(crate) fn with_pri(format: Format, pri: Option<u8>) -> Self {
        Self {
            format,
            facility: pri.map(|p| p >> 3),
            severity: pri.map(|p| p & 7),
            timestamp_micros: None,
            hostname: None,
            app_name: None,
            proc_id: None,
            msg_id: None,
            structured_data: Vec::new(),
            message: String::new(),
            sequence: None,
        }
    }

    /// Parameter `name` of the first SD element whose id starts with `sd_id_prefix` and has
    /// that parameter: `sd_param("nexuslog@", "key")` reads `[nexuslog@32473 key="..."]`
    /// whatever the enterprise number.
    pub fn sd_param(&self, sd_id_prefix: &str, name: &str) -> Option<&str> {
        self.structured_data
            .iter()
            .filter(|e| e.id.starts_with(sd_id_prefix))
            .find_map(|e| e.param(name))
    }
}

/// A whole BSD-style syslog time (`Mar  7 04:02:16`, with or without year, fraction or zone),
/// as microseconds; a year-less time is placed in the year that puts it closest before
/// `received_at_micros`. For times a pipeline extracted from text (grok's `SYSLOGTIMESTAMP`).
pub fn bsd_timestamp(text: &str, received_at_micros: i64) -> Option<i64> {
    let t = text.trim();
    timestamp::bsd(t.as_bytes(), received_at_micros, false).filter(|s| s.len == t.len()).and_then(|s| s.micros)
}

/// Parses one syslog message, whatever its format. Never fails and never panics: input
/// that is not syslog comes back as [`Format::Unparsed`] with the (lossy) text in
/// `message`. Trailing CR, LF and NUL are ignored.
pub fn parse(bytes: &[u8], received_at_micros: i64) -> SyslogMessage {
    parse_with(bytes, received_at_micros, false).unwrap_or_else(|_| {
        let mut m = SyslogMessage::with_pri(Format::Unparsed, None);
        m.message = lossy(strip_bom(trim_trailer(bytes)));
        m
    })
}

/// Parses one syslog message and rejects what is not syslog, for dead-lettering.
///
/// # Errors
/// [`SyslogError`] when the input is empty, has no or an invalid `<PRI>`, contains binary
/// control bytes, or is RFC 5424 with a truncated header, an invalid timestamp or malformed
/// structured data. RFC 3164 after a valid PRI is always accepted: that RFC defines no
/// invalid content.
pub fn parse_strict(bytes: &[u8], received_at_micros: i64) -> Result<SyslogMessage, SyslogError> {
    let trimmed = trim_trailer(bytes);
    if let Some(offset) = trimmed.iter().position(|&c| is_binary(c)) {
        return Err(SyslogError::BinaryContent {
            offset,
            byte: trimmed[offset],
        });
    }
    parse_with(bytes, received_at_micros, true)
}

fn parse_with(
    bytes: &[u8],
    received_at_micros: i64,
    strict: bool,
) -> Result<SyslogMessage, SyslogError> {
    let bytes = trim_trailer(bytes);
    if bytes.is_empty() {
        return Err(SyslogError::Empty);
    }
    match pri::parse(bytes) {
        pri::Pri::Missing if strict => Err(SyslogError::MissingPri),
        pri::Pri::Missing => {
            rfc3164::parse(bytes, None, received_at_micros, true).ok_or(SyslogError::MissingPri)
        }
        pri::Pri::Invalid(text) => Err(SyslogError::InvalidPri(text)),
        pri::Pri::Valid { value, len } => {
            let rest = &bytes[len..];
            if rest.is_empty() && strict {
                Err(SyslogError::NoContent)
            } else if let Some(after_version) = rest.strip_prefix(b"1 ") {
                rfc5424::parse(after_version, len + 2, value, strict)
            } else {
                rfc3164::parse(rest, Some(value), received_at_micros, false)
                    .ok_or(SyslogError::NoContent)
            }
        }
    }
}

/// Control bytes that never occur in text logs. Tab, CR, LF (multi-line messages) and ESC
/// (ANSI colours from CLI tools) do, so they pass.
fn is_binary(c: u8) -> bool {
    matches!(c, 0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f)
}

/// Drops the trailing LF, CRLF or NUL a transport may leave on a message.
fn trim_trailer(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|&c| !matches!(c, b'\n' | b'\r' | b'\0'))
        .map_or(0, |i| i + 1);
    &b[..end]
}

pub(crate) fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

pub(crate) fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
