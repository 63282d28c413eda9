//! Level normalization: the usual spellings, syslog severities and pino/bunyan numbers.

use nexuslog_schemas::Level;

/// Maps a level written as text to the normalized level.
pub fn parse_level(s: &str) -> Option<Level> {
    let lower = s.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "trace" | "trc" | "finest" | "finer" => Level::Trace,
        "debug" | "dbg" | "d" | "fine" | "config" => Level::Debug,
        "info" | "inf" | "i" | "information" | "informational" | "notice" | "log" => Level::Info,
        "warn" | "warning" | "wrn" | "w" => Level::Warn,
        "error" | "err" | "e" | "severe" | "failure" => Level::Error,
        "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic" | "f" => Level::Fatal,
        _ => {
            let n: i64 = lower.parse().ok()?;
            return level_from_number(n);
        }
    })
}

/// Numbers: 0–7 are syslog severities; 10–60 are pino/bunyan levels.
pub fn level_from_number(n: i64) -> Option<Level> {
    Some(match n {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        7 => Level::Debug,
        10..=19 => Level::Trace,
        20..=29 => Level::Debug,
        30..=39 => Level::Info,
        40..=49 => Level::Warn,
        50..=59 => Level::Error,
        60..=69 => Level::Fatal,
        _ => return None,
    })
}

/// Finds a level word near the start of a plain-text line (`2024-01-01 ERROR ...`, `[WARN] ...`).
pub fn sniff_level(line: &str) -> Option<Level> {
    // The first 64 characters, borrowed: this runs for every plain-text line.
    let head = line.char_indices().nth(64).map_or(line, |(end, _)| &line[..end]);
    for token in head.split(|c: char| !c.is_ascii_alphabetic()).filter(|t| t.len() >= 4).take(6) {
        let is_upper = token.chars().all(|c| c.is_ascii_uppercase());
        if !is_upper {
            continue;
        }
        if let Some(l) = parse_level(token) {
            return Some(l);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(parse_level("WARNING"), Some(Level::Warn));
        assert_eq!(parse_level("err"), Some(Level::Error));
        assert_eq!(parse_level("notice"), Some(Level::Info));
        assert_eq!(parse_level("3"), Some(Level::Error));
        assert_eq!(parse_level("50"), Some(Level::Error));
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn sniffing_plain_text() {
        assert_eq!(sniff_level("2024-01-01 12:00:00 ERROR db down"), Some(Level::Error));
        assert_eq!(sniff_level("[WARN] disk 91%"), Some(Level::Warn));
        assert_eq!(sniff_level("user said error happened"), None, "lowercase prose is not a level");
    }
}
