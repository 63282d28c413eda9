//! The built-in rules: common secrets that should never be stored, on for every project unless
//! it turns them off. Each pattern's first capture group, when it has one, is the part
//! redacted, so the key before a value stays readable (`password=[REDACTED]`).

use crate::Action;

/// A built-in rule.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub pattern: &'static str,
    pub action: Action,
    /// Matches failing this check are left alone.
    pub check: Option<fn(&[u8]) -> bool>,
    /// What a text must hold for the pattern to match at all.
    pub needs: Needs,
}

/// What a text must hold for a rule's pattern to match: every event is screened for all rules'
/// needs in one pass, and only the rules whose needs are met run their pattern. Most events
/// meet none, and the screen costs a fraction of running the patterns (case-insensitive
/// alternations and counted digit runs give the regex engine no literal to search for).
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// One of these words, in any case.
    AnyOf(&'static [&'static str]),
    /// A run of this many digits, single spaces or dashes between them allowed.
    Digits(usize),
}

/// Words in the keys of `secret_field` and `secret_key_value` (`client_secret` holds `secret`).
const SECRET_WORDS: &[&str] = &["password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "private_key"];

/// Keys whose values are secrets, in JSON and in `key=value` text (a macro: patterns are
/// built with `concat!`, which takes literals only).
macro_rules! secret_keys {
    () => {
        "password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey|private_key"
    };
}

/// The built-in rules, in the order they run.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "private_key",
        description: "PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` to its END line), also inside JSON strings",
        pattern: r"-----BEGIN[A-Z ]{0,20} PRIVATE KEY-----(?s:.)*?-----END[A-Z ]{0,20} PRIVATE KEY-----",
        action: Action::Remove,
        check: None,
        needs: Needs::AnyOf(&[" PRIVATE KEY-----"]),
    },
    Builtin {
        name: "jwt",
        description: "JSON Web Tokens (three base64url parts, the first two JSON objects)",
        pattern: r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
        action: Action::Hash,
        check: None,
        needs: Needs::AnyOf(&["eyJ"]),
    },
    Builtin {
        name: "bearer_token",
        description: "bearer tokens (`Bearer` and 16 or more token characters) and the credential of `Authorization: Basic …`",
        pattern: r#"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{16,})|authorization["']?\s*[:=]\s*["']?basic\s+([A-Za-z0-9+/=]{8,})"#,
        action: Action::Hash,
        check: None,
        needs: Needs::AnyOf(&["bearer", "authorization"]),
    },
    Builtin {
        name: "aws_access_key_id",
        description: "AWS access key ids (`AKIA…`, `ASIA…`: 20 characters)",
        pattern: r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b",
        action: Action::Mask,
        check: None,
        needs: Needs::AnyOf(&["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA"]),
    },
    Builtin {
        name: "aws_secret_access_key",
        description: "AWS secret access keys: 40 base64 characters after a key named like `aws_secret_access_key`",
        pattern: r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b"#,
        action: Action::Remove,
        check: None,
        needs: Needs::AnyOf(&["secret"]),
    },
    Builtin {
        name: "secret_field",
        description: concat!("values of JSON keys named ", secret_keys!(), " (any case)"),
        pattern: concat!(r#"(?i)"(?:"#, secret_keys!(), r#")"\s*:\s*"((?:[^"\\]|\\.)+)""#),
        action: Action::Remove,
        check: None,
        needs: Needs::AnyOf(SECRET_WORDS),
    },
    Builtin {
        name: "secret_key_value",
        description: "values after `password=`, `token:`, `secret=` … in text (the keys of `secret_field`)",
        pattern: concat!(r"(?i)\b(?:", secret_keys!(), r#")\s*[=:]\s*([^\s"'&,;]+)"#),
        action: Action::Remove,
        check: None,
        needs: Needs::AnyOf(SECRET_WORDS),
    },
    Builtin {
        name: "credit_card",
        description: "payment card numbers: 13 to 19 digits, optionally grouped by spaces or dashes, with a card network's prefix and length, that pass the Luhn check",
        pattern: r"(?-u:\b)(?:[0-9][ -]?){12,18}[0-9](?-u:\b)",
        action: Action::Mask,
        check: Some(card_number),
        needs: Needs::Digits(13),
    },
];

/// A payment card number: a card network's prefix and length, and the Luhn check. The prefix
/// matters as much as the checksum: a tenth of all digit strings pass Luhn, and logs are full
/// of them — epoch timestamps in milliseconds (13 digits, `17…`) and nanoseconds (19), ids.
pub fn card_number(text: &[u8]) -> bool {
    let digits: Vec<u8> = text.iter().filter(|b| b.is_ascii_digit()).map(|b| b - b'0').collect();
    let prefix = |n: usize| digits.iter().take(n).fold(0u32, |acc, &d| acc * 10 + u32::from(d));
    let len = digits.len();
    let network = match digits.first() {
        Some(4) => matches!(len, 13 | 16 | 19),                                    // Visa
        Some(5) => (13..=19).contains(&len),                                       // Mastercard 51-55, Maestro 50, 56-59
        Some(2) => (2221..=2720).contains(&prefix(4)) && len == 16,                // Mastercard 2-series
        Some(3) => match prefix(2) {
            34 | 37 => len == 15,                                                  // American Express
            35 => (16..=19).contains(&len),                                        // JCB
            30 | 36 | 38 | 39 => (14..=19).contains(&len),                         // Diners Club
            _ => false,
        },
        Some(6) => (16..=19).contains(&len),                                       // Discover, UnionPay, Maestro
        _ => false,
    };
    network && luhn(text)
}

/// The Luhn checksum of the digits in `text` (separators skipped), for 13 to 19 digits.
pub fn luhn(text: &[u8]) -> bool {
    let digits: Vec<u32> = text.iter().filter(|b| b.is_ascii_digit()).map(|b| u32::from(b - b'0')).collect();
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `text` has `n` digits in a row, single spaces or dashes between them allowed: what
/// the card pattern `(?:[0-9][ -]?){12,18}[0-9]` needs.
///
/// Such a run spans at least `n` bytes, so it covers one in every `n` bytes: only those are
/// looked at, and only the span of digits and separators around one that is part of such a span
/// is read in full. Event text is full of short numbers, and reading every byte cost more than
/// the rest of the screen.
pub(crate) fn digit_run(text: &[u8], n: usize) -> bool {
    let part = |b: u8| b.is_ascii_digit() || b == b' ' || b == b'-';
    let mut i = n.saturating_sub(1);
    while i < text.len() {
        if !part(text[i]) {
            i += n;
            continue;
        }
        let mut start = i;
        while start > 0 && part(text[start - 1]) {
            start -= 1;
        }
        let end = text[i..].iter().position(|&b| !part(b)).map_or(text.len(), |k| i + k);
        if run_within(&text[start..end], n) {
            return true;
        }
        // `end` is no part of a run: the next run starts after it.
        i = end + n;
    }
    false
}

/// The run rule on a span of digits, spaces and dashes only.
fn run_within(span: &[u8], n: usize) -> bool {
    let mut run = 0;
    for (i, &b) in span.iter().enumerate() {
        if b.is_ascii_digit() {
            run += 1;
            if run >= n {
                return true;
            }
        } else if !(run > 0 && span.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            // A separator continues a run only between two digits.
            run = 0;
        }
    }
    false
}
