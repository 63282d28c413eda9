//! `<PRI>`: facility and severity, and their names.

/// Result of looking for `<PRI>` at the start of a message.
pub(crate) enum Pri {
    /// The message does not start with `<`.
    Missing,
    /// It starts with `<` but what follows is not a priority; holds the text for the error.
    Invalid(String),
    /// A valid priority and the number of bytes `<NNN>` took.
    Valid { value: u8, len: usize },
}

/// Parses `<0>` .. `<191>`. Leading zeros (`<013>`) are tolerated: RFC 5424 forbids them
/// but old senders emit them and the value is unambiguous.
pub(crate) fn parse(bytes: &[u8]) -> Pri {
    if bytes.first() != Some(&b'<') {
        return Pri::Missing;
    }
    let digits = bytes[1..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    let closed = bytes.get(1 + digits) == Some(&b'>');
    if digits == 0 || digits > 3 || !closed {
        let end = bytes.len().min(6);
        return Pri::Invalid(String::from_utf8_lossy(&bytes[..end]).into_owned());
    }
    let value = bytes[1..1 + digits]
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match u8::try_from(value) {
        Ok(v) if v <= 191 => Pri::Valid {
            value: v,
            len: digits + 2,
        },
        _ => Pri::Invalid(String::from_utf8_lossy(&bytes[..digits + 2]).into_owned()),
    }
}

/// The conventional keyword for a facility code (RFC 5424 table 1, names as syslog.conf
/// spells them); `"unknown"` outside 0..=23.
pub fn facility_name(f: u8) -> &'static str {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
        "local3", "local4", "local5", "local6", "local7",
    ];
    NAMES.get(usize::from(f)).copied().unwrap_or("unknown")
}

/// The conventional keyword for a severity code (RFC 5424 table 2); `"unknown"` outside 0..=7.
pub fn severity_name(s: u8) -> &'static str {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    NAMES.get(usize::from(s)).copied().unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_priorities() {
        assert!(matches!(parse(b"<0>x"), Pri::Valid { value: 0, len: 3 }));
        assert!(matches!(
            parse(b"<191>x"),
            Pri::Valid { value: 191, len: 5 }
        ));
        assert!(matches!(parse(b"<013>x"), Pri::Valid { value: 13, len: 5 }));
        assert!(matches!(parse(b"<192>x"), Pri::Invalid(_)));
        assert!(matches!(parse(b"<1234>x"), Pri::Invalid(_)));
        assert!(matches!(parse(b"<>x"), Pri::Invalid(_)));
        assert!(matches!(parse(b"<12"), Pri::Invalid(_)));
        assert!(matches!(parse(b"12>"), Pri::Missing));
    }

    #[test]
    fn names() {
        assert_eq!(facility_name(0), "kern");
        assert_eq!(facility_name(23), "local7");
        assert_eq!(facility_name(24), "unknown");
        assert_eq!(severity_name(3), "err");
        assert_eq!(severity_name(8), "unknown");
    }
}
