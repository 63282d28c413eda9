//! RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG]`.
//!
//! Strict mode reports the first violation; lenient mode keeps every field it could read,
//! so a truncated header or broken structured data still yields hostname, app and text.

use crate::error::SyslogError;
use crate::{lossy, strip_bom, timestamp, Format, SdElement, SyslogMessage};

/// Parses what follows `<PRI>1 `. `base` is the offset of `b` in the original input, for
/// error positions.
pub(crate) fn parse(
    b: &[u8],
    base: usize,
    pri: u8,
    strict: bool,
) -> Result<SyslogMessage, SyslogError> {
    let mut m = SyslogMessage::with_pri(Format::Rfc5424, Some(pri));
    let mut pos = 0;
    if let Some(tok) = field(b, &mut pos, "TIMESTAMP", strict)? {
        if tok != b"-" {
            match timestamp::rfc3339(tok) {
                Some(s) if s.len == tok.len() && s.micros.is_some() => {
                    m.timestamp_micros = s.micros
                }
                _ if strict => return Err(SyslogError::InvalidTimestamp(lossy(tok))),
                _ => {}
            }
        }
    }
    m.hostname = field(b, &mut pos, "HOSTNAME", strict)?.and_then(nil_or_string);
    m.app_name = field(b, &mut pos, "APP-NAME", strict)?.and_then(nil_or_string);
    m.proc_id = field(b, &mut pos, "PROCID", strict)?.and_then(nil_or_string);
    m.msg_id = field(b, &mut pos, "MSGID", strict)?.and_then(nil_or_string);

    if pos >= b.len() {
        if strict {
            return Err(SyslogError::TruncatedHeader {
                field: "STRUCTURED-DATA",
            });
        }
        return Ok(m);
    }
    let rest = &b[pos..];
    let msg_start = match structured_data(rest) {
        Ok((elements, used)) => {
            m.structured_data = elements;
            used
        }
        Err((offset, reason)) if strict => {
            return Err(SyslogError::InvalidStructuredData {
                offset: base + pos + offset,
                reason,
            });
        }
        // Lenient: keep the bytes as text rather than lose them.
        Err(_) => 0,
    };
    let mut msg = &rest[msg_start..];
    if msg_start > 0 {
        match msg.first() {
            Some(b' ') => msg = &msg[1..],
            None => {}
            Some(_) if strict => {
                return Err(SyslogError::InvalidStructuredData {
                    offset: base + pos + msg_start,
                    reason: "expected a space after the structured data",
                });
            }
            Some(_) => {}
        }
    }
    m.message = lossy(strip_bom(msg));
    Ok(m)
}

/// The next space-separated header field; `None` (lenient) when the header ended early.
fn field<'a>(
    b: &'a [u8],
    pos: &mut usize,
    name: &'static str,
    strict: bool,
) -> Result<Option<&'a [u8]>, SyslogError> {
    if *pos >= b.len() {
        return if strict {
            Err(SyslogError::TruncatedHeader { field: name })
        } else {
            Ok(None)
        };
    }
    let len = b[*pos..]
        .iter()
        .position(|&c| c == b' ')
        .unwrap_or(b.len() - *pos);
    let tok = &b[*pos..*pos + len];
    *pos += len + 1; // the separating space, or one past the end
    Ok(Some(tok))
}

/// An SD parse error: offset in the SD and the reason.
type SdError = (usize, &'static str);
/// One `name="value"`, unescaped.
type Param = (String, String);

fn nil_or_string(tok: &[u8]) -> Option<String> {
    (tok != b"-" && !tok.is_empty()).then(|| lossy(tok))
}

/// STRUCTURED-DATA at the start of `b`: `-` or one or more `[ID name="value" ...]`. Returns
/// the elements and the bytes used, or the offset and reason of the first error.
fn structured_data(b: &[u8]) -> Result<(Vec<SdElement>, usize), SdError> {
    if b.first() == Some(&b'-') {
        return Ok((Vec::new(), 1));
    }
    if b.first() != Some(&b'[') {
        return Err((0, "expected '-' or '['"));
    }
    let mut elements = Vec::new();
    let mut pos = 0;
    while b.get(pos) == Some(&b'[') {
        pos += 1;
        let id_len = b[pos..].iter().take_while(|&&c| is_sd_name_char(c)).count();
        if id_len == 0 {
            return Err((pos, "empty SD-ID"));
        }
        let id = lossy(&b[pos..pos + id_len]);
        pos += id_len;
        let mut params = Vec::new();
        loop {
            match b.get(pos) {
                Some(b']') => {
                    pos += 1;
                    break;
                }
                Some(b' ') => pos += 1,
                Some(_) => {
                    let (param, used) = sd_param(&b[pos..]).map_err(|(o, r)| (pos + o, r))?;
                    params.push(param);
                    pos += used;
                }
                None => return Err((pos, "unterminated SD-ELEMENT")),
            }
        }
        elements.push(SdElement { id, params });
    }
    Ok((elements, pos))
}

/// `name="value"` with the RFC's three escapes (`\"`, `\\`, `\]`); a backslash before any
/// other character is kept, as the RFC requires.
fn sd_param(b: &[u8]) -> Result<(Param, usize), SdError> {
    let name_len = b.iter().take_while(|&&c| is_sd_name_char(c)).count();
    if name_len == 0 {
        return Err((0, "invalid PARAM-NAME"));
    }
    if b.get(name_len) != Some(&b'=') {
        return Err((name_len, "expected '=' after PARAM-NAME"));
    }
    if b.get(name_len + 1) != Some(&b'"') {
        return Err((name_len + 1, "expected '\"' to open PARAM-VALUE"));
    }
    let mut pos = name_len + 2;
    let mut value = Vec::new();
    loop {
        match b.get(pos) {
            Some(b'"') => break,
            Some(b'\\') => match b.get(pos + 1) {
                Some(&c @ (b'"' | b'\\' | b']')) => {
                    value.push(c);
                    pos += 2;
                }
                _ => {
                    value.push(b'\\');
                    pos += 1;
                }
            },
            Some(&c) => {
                value.push(c);
                pos += 1;
            }
            None => return Err((pos, "unterminated PARAM-VALUE")),
        }
    }
    Ok(((lossy(&b[..name_len]), lossy(&value)), pos + 1))
}

/// SD-NAME: printable US-ASCII except `=`, space, `]` and `"`.
fn is_sd_name_char(c: u8) -> bool {
    (33..=126).contains(&c) && !matches!(c, b'=' | b']' | b'"')
}
