//! Type inference for strings extracted by the untyped parsers (logfmt, kv, regex).
//!
//! Conservative on purpose: a value that becomes a number in one record and stays a string
//! in the next makes a field's index mapping flip, so only unambiguous spellings convert.
//! `"007"` (an id, a zip code) stays a string, as do `"-"`, `"+5"`, `"1e5"` (a hex id as
//! often as a float), `".5"`, `"NaN"`, `"True"` and integers beyond `i64`.

use crate::FieldValue;

/// `"200"` → `Long(200)`, `"-0.25"` → `Double(-0.25)`, `"true"`/`"false"` → `Bool`,
/// anything else → `String`. Numbers are `-?(0|[1-9][0-9]*)(\.[0-9]+)?` exactly.
pub fn infer(s: &str) -> FieldValue {
    match s {
        "true" => return FieldValue::Bool(true),
        "false" => return FieldValue::Bool(false),
        _ => {}
    }
    if is_number(s) {
        if s.contains('.') {
            if let Ok(d) = s.parse::<f64>() {
                if d.is_finite() {
                    return FieldValue::Double(d);
                }
            }
        } else if let Ok(l) = s.parse::<i64>() {
            return FieldValue::Long(l);
        }
    }
    FieldValue::String(s.to_owned())
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    let int_ok = int == "0"
        || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str) -> FieldValue {
        FieldValue::String(s.to_owned())
    }

    #[test]
    fn infers_only_unambiguous_spellings() {
        for (input, expected) in [
            ("200", FieldValue::Long(200)),
            ("0", FieldValue::Long(0)),
            ("-17", FieldValue::Long(-17)),
            ("9223372036854775807", FieldValue::Long(i64::MAX)),
            ("-9223372036854775808", FieldValue::Long(i64::MIN)),
            ("0.25", FieldValue::Double(0.25)),
            ("-3.5", FieldValue::Double(-3.5)),
            ("10.000", FieldValue::Double(10.0)),
            ("true", FieldValue::Bool(true)),
            ("false", FieldValue::Bool(false)),
            ("-", string("-")),
            ("", string("")),
            ("007", string("007")),
            ("00.5", string("00.5")),
            ("9223372036854775808", string("9223372036854775808")),
            ("+5", string("+5")),
            ("1e5", string("1e5")),
            (".5", string(".5")),
            ("5.", string("5.")),
            ("1.2.3", string("1.2.3")),
            ("NaN", string("NaN")),
            ("inf", string("inf")),
            ("True", string("True")),
            (" 1", string(" 1")),
            ("1 ", string("1 ")),
            ("--1", string("--1")),
            ("٣", string("٣")),
        ] {
            assert_eq!(infer(input), expected, "{input:?}");
        }
    }
}
