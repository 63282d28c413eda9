//! Property tests for the parsers: total on any input, and consistent with each other.

use nexuslog_syslog::{facility_name, parse, parse_strict, severity_name, Format};
use proptest::prelude::*;

/// Bytes that look like syslog often enough to reach deep into the grammar.
fn syslogish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"<13>".to_vec()),
        Just(b"<189>12: ".to_vec()),
        Just(b"1 ".to_vec()),
        Just(b"2024-10-03T12:00:00.123+02:00 ".to_vec()),
        Just(b"Oct  3 12:00:00 ".to_vec()),
        Just(b"*Mar  1 00:00:12.345 UTC: ".to_vec()),
        Just(b"- ".to_vec()),
        Just(b"[id@1 a=\"b\\\"c\"]".to_vec()),
        Just(b"host ".to_vec()),
        Just(b"app[12]: ".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512), received in any::<i64>()) {
        let _ = parse(&data, received);
        let _ = parse_strict(&data, received);
    }

    #[test]
    fn parse_is_total_on_syslogish_input(data in syslogish(), received in any::<i64>()) {
        let lenient = parse(&data, received);
        if let Ok(strict) = parse_strict(&data, received) {
            // Whatever strict accepts, lenient reads the same way.
            prop_assert_eq!(&strict, &lenient);
            prop_assert!(strict.format != Format::Unparsed);
        }
        if let Some(f) = lenient.facility {
            prop_assert!(f <= 23);
            prop_assert_ne!(facility_name(f), "unknown");
        }
        if let Some(s) = lenient.severity {
            prop_assert_ne!(severity_name(s), "unknown");
        }
        // One BOM is the RFC 5424 marker and is stripped; a second one would be content.
        let bom = '\u{feff}';
        let double_bom = data.windows(6).any(|w| w == b"\xEF\xBB\xBF\xEF\xBB\xBF");
        prop_assert!(!lenient.message.starts_with(bom) || double_bom, "BOM left in message");
    }

    /// RFC 5424 built from parts parses back to the same parts.
    #[test]
    fn rfc5424_round_trip(
        pri in 0u8..192,
        host in "[!-~&&[^ ]]{1,20}",
        app in "[a-zA-Z0-9_.]{1,20}",
        value in "[ -~]{0,20}",
        msg in "[ -~]{0,40}",
        secs in 0i64..4_000_000_000,
        micros in 0i64..1_000_000,
    ) {
        let t = secs * 1_000_000 + micros;
        let stamp = chrono::DateTime::from_timestamp_micros(t).expect("in range").format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]");
        let line = format!("<{pri}>1 {stamp} {host} {app} - - [nexuslog@32473 key=\"{escaped}\"] {msg}");
        let m = parse_strict(line.as_bytes(), 0).expect("well-formed");
        prop_assert_eq!(m.timestamp_micros, Some(t));
        prop_assert_eq!(m.facility, Some(pri >> 3));
        prop_assert_eq!(m.severity, Some(pri & 7));
        prop_assert_eq!(m.hostname.as_deref(), (host != "-").then_some(host.as_str()));
        prop_assert_eq!(m.app_name.as_deref(), Some(app.as_str()));
        prop_assert_eq!(m.sd_param("nexuslog@", "key"), Some(value.as_str()));
        prop_assert_eq!(m.message, msg);
    }
}
