//! `:int` and `:float` conversions with Logstash's semantics, which are Ruby's
//! `String#to_i` and `String#to_f`: read the longest numeric prefix, never fail (no digits
//! gives 0), so a typed capture always yields a number of its declared type and the field
//! keeps one type in the index. One difference: Ruby integers are unbounded, here values
//! beyond `i64` saturate at `i64::MIN` / `i64::MAX`.

/// Ruby's `String#to_i`: leading ASCII whitespace, an optional sign, digits with single
/// `_` between them; `"12.7"` is 12, `"abc"` is 0.
pub(crate) fn to_i(s: &str) -> i64 {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: i64 = 0;
    let mut after_digit = false;
    for b in digits.bytes() {
        match b {
            b'0'..=b'9' => {
                let d = i64::from(b - b'0');
                value = value.saturating_mul(10);
                value = if negative {
                    value.saturating_sub(d)
                } else {
                    value.saturating_add(d)
                };
                after_digit = true;
            }
            b'_' if after_digit => after_digit = false,
            _ => break,
        }
    }
    value
}

/// Ruby's `String#to_f`: leading ASCII whitespace, then the longest prefix of
/// `[+-]digits[.digits][e[+-]digits]` (with single `_` between digits); `"1.5kb"` is 1.5,
/// `"x"` is 0.0.
pub(crate) fn to_f(s: &str) -> f64 {
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let b = s.as_bytes();
    let mut clean = String::with_capacity(s.len());
    let mut i = 0;
    if let Some(&sign @ (b'+' | b'-')) = b.first() {
        clean.push(char::from(sign));
        i = 1;
    }
    let int_digits = digits(b, &mut i, &mut clean);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        clean.push('.');
        i += 1;
        frac_digits = digits(b, &mut i, &mut clean);
    }
    if int_digits + frac_digits == 0 {
        return 0.0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        let mut exponent = String::from("e");
        if let Some(&sign @ (b'+' | b'-')) = b.get(j) {
            exponent.push(char::from(sign));
            j += 1;
        }
        if digits(b, &mut j, &mut exponent) > 0 {
            clean.push_str(&exponent);
        }
    }
    clean.parse().unwrap_or(0.0)
}

/// Appends the digits at `b[*i..]` (single `_` separators dropped) to `out`; returns how
/// many digits there were.
fn digits(b: &[u8], i: &mut usize, out: &mut String) -> usize {
    let mut count = 0;
    while let Some(&c) = b.get(*i) {
        if c.is_ascii_digit() {
            out.push(char::from(c));
            count += 1;
        } else if !(c == b'_' && count > 0 && b.get(*i + 1).is_some_and(u8::is_ascii_digit)) {
            break;
        }
        *i += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_i_reads_the_numeric_prefix_like_ruby() {
        for (input, expected) in [
            ("200", 200),
            ("-17", -17),
            ("+5", 5),
            ("  42 ", 42),
            ("12.7", 12),
            ("1_000", 1000),
            ("1__000", 1),
            ("_1", 0),
            ("abc", 0),
            ("", 0),
            ("-", 0),
            ("99999999999999999999", i64::MAX),
            ("-99999999999999999999", i64::MIN),
        ] {
            assert_eq!(to_i(input), expected, "{input:?}");
        }
    }

    #[test]
    fn to_f_reads_the_numeric_prefix_like_ruby() {
        for (input, expected) in [
            ("0.25", 0.25),
            ("-1.5kb", -1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1e", 1.0),
            ("2.5E-1x", 0.25),
            ("1_000.5", 1000.5),
            ("x", 0.0),
            ("-", 0.0),
            ("", 0.0),
        ] {
            assert_eq!(to_f(input), expected, "{input:?}");
        }
    }
}
