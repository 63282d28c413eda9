//! RFC 3164 and the BSD-style variants real devices send:
//!
//! ```text
//! <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG          classic (Oct  3 padded with a space)
//! <PRI>Mmm dd hh:mm:ss TAG: MSG                    no hostname (local senders, old BSD)
//! <PRI>Mmm dd YYYY hh:mm:ss HOST ...               with a year (Cisco ASA, IOS `year`)
//! <PRI>YYYY Mmm dd hh:mm:ss HOST ...               year first (NX-OS)
//! <PRI>2024-10-03T12:00:00.123+02:00 HOST TAG: MSG rsyslog/syslog-ng RFC 3339 templates
//! <PRI>123: *Mar  1 00:00:12.345 UTC: %FAC-5-MNEMONIC: MSG   Cisco IOS
//! <PRI>TAG[PID]: MSG                               no timestamp at all
//! ```
//!
//! RFC 3164 has no invalid messages: whatever cannot be read as header is message text.

use crate::{lossy, strip_bom, timestamp, Format, SyslogMessage};

/// Longest TAG we accept. RFC 3164 says 32, but rsyslog and journald emit longer ones; past
/// this it is more likely a sentence with a colon than a tag.
const MAX_TAG: usize = 128;

/// Parses what follows `<PRI>` (or the whole line when `pri` is `None`). With
/// `require_timestamp`, returns `None` unless a timestamp leads (used for lines without PRI,
/// where anything else is just text).
pub(crate) fn parse(
    b: &[u8],
    pri: Option<u8>,
    received_at_micros: i64,
    require_timestamp: bool,
) -> Option<SyslogMessage> {
    let mut m = SyslogMessage::with_pri(Format::Rfc3164, pri);
    let mut pos = 0;

    // Cisco: "123: " sequence number, then optionally "origin-host: ".
    if let Some((seq, used)) = cisco_sequence(b) {
        m.sequence = Some(seq);
        pos = used;
        if let Some((host, used)) = cisco_origin_host(&b[pos..], received_at_micros) {
            m.hostname = Some(host);
            pos += used;
        }
    }
    let cisco = m.sequence.is_some();

    // Cisco marks an unsynchronised clock with '*' and a once-synchronised one with '.'.
    let marker = usize::from(matches!(b.get(pos), Some(b'*' | b'.')));
    let stamp = timestamp::rfc3339(&b[pos + marker..])
        .or_else(|| timestamp::bsd(&b[pos + marker..], received_at_micros, cisco || marker == 1));
    let Some(stamp) = stamp else {
        if require_timestamp {
            return None;
        }
        tag_and_message(&mut m, &b[pos..]);
        return Some(m);
    };
    m.timestamp_micros = stamp.micros;
    pos += marker + stamp.len;

    match b.get(pos) {
        // Cisco style: "<timestamp>: %FAC-SEV-MNEMONIC: text"; the mnemonic stays in the
        // message, where operators expect to search for it.
        Some(b':') => {
            pos += 1;
            if b.get(pos) == Some(&b' ') {
                pos += 1;
            }
            m.message = lossy(strip_bom(&b[pos..]));
        }
        Some(b' ') => {
            while b.get(pos) == Some(&b' ') {
                pos += 1;
            }
            let rest = &b[pos..];
            let tok_len = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
            if m.hostname.is_none() && tag(rest).is_none_or(|(_, _, used)| used < tok_len) {
                // The first word is not a tag, so it is the hostname.
                m.hostname = Some(lossy(&rest[..tok_len]));
                let mut after = tok_len;
                if rest.get(after) == Some(&b' ') {
                    after += 1;
                }
                tag_and_message(&mut m, &rest[after..]);
            } else {
                tag_and_message(&mut m, rest);
            }
        }
        _ => m.message = lossy(strip_bom(&b[pos..])),
    }
    Some(m)
}

/// Reads an optional `TAG[PID]: ` or `TAG: ` and stores the rest as the message.
fn tag_and_message(m: &mut SyslogMessage, b: &[u8]) {
    let mut rest = b;
    if let Some((app, pid, used)) = tag(b) {
        m.app_name = Some(app);
        m.proc_id = pid;
        rest = &b[used..];
        if rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
    }
    m.message = lossy(strip_bom(rest));
}

/// `TAG[PID]:` or `TAG:` (the colon followed by a space or the end), or `TAG[PID]` followed
/// by a space. Returns app name, pid and the bytes used (without the following space).
fn tag(b: &[u8]) -> Option<(String, Option<String>, usize)> {
    let name_len = b
        .iter()
        .take(MAX_TAG + 1)
        .take_while(|&&c| c.is_ascii_graphic() && c != b':' && c != b'[')
        .count();
    // `%FAC-SEV-MNEMONIC:` is Cisco's message code, not a program: it stays in the text.
    if name_len == 0 || name_len > MAX_TAG || b[0] == b'%' {
        return None;
    }
    let ends_here = |i: usize| matches!(b.get(i), None | Some(b' '));
    match b.get(name_len) {
        Some(b':') if ends_here(name_len + 1) => Some((lossy(&b[..name_len]), None, name_len + 1)),
        Some(b'[') => {
            let pid_len = b[name_len + 1..]
                .iter()
                .take(MAX_TAG)
                .position(|&c| c == b']')?;
            let pid = &b[name_len + 1..name_len + 1 + pid_len];
            if pid.is_empty() || !pid.iter().all(u8::is_ascii_graphic) {
                return None;
            }
            let after = name_len + pid_len + 2;
            let used = match b.get(after) {
                Some(b':') if ends_here(after + 1) => after + 1,
                None | Some(b' ') => after,
                _ => return None,
            };
            Some((lossy(&b[..name_len]), Some(lossy(pid)), used))
        }
        _ => None,
    }
}

/// Cisco's `service sequence-numbers`: digits, `:`, space. Not to be confused with a year
/// (`2024 Oct ...`, `2024-10-...`) since those are not followed by `:`.
fn cisco_sequence(b: &[u8]) -> Option<(u64, usize)> {
    let n = b.iter().take(20).take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || b.get(n) != Some(&b':') || b.get(n + 1) != Some(&b' ') {
        return None;
    }
    let seq = std::str::from_utf8(&b[..n]).ok()?.parse().ok()?;
    Some((seq, n + 2))
}

/// Cisco's `logging origin-id hostname`: `host: ` between the sequence number and the
/// timestamp. Only taken when a timestamp really follows.
fn cisco_origin_host(b: &[u8], received_at_micros: i64) -> Option<(String, usize)> {
    let len = b.iter().take(256).position(|&c| c == b':')?;
    if len == 0 || b.get(len + 1) != Some(&b' ') || !b[..len].iter().all(u8::is_ascii_graphic) {
        return None;
    }
    let after = &b[len + 2..];
    let after = after
        .strip_prefix(b"*")
        .or_else(|| after.strip_prefix(b"."))
        .unwrap_or(after);
    timestamp::bsd(after, received_at_micros, true)?;
    Some((lossy(&b[..len]), len + 2))
}
