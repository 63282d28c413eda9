//! Property tests: every parser is total on any input (lines come from the network, and
//! grok patterns from users), and logfmt reads back what a go-logfmt-style encoder writes.
#![allow(clippy::unwrap_used)]

use std::sync::LazyLock;

use nexuslog_parsers::dissect::Dissect;
use nexuslog_parsers::grok::{Grok, GrokLibrary};
use nexuslog_parsers::infer::infer;
use nexuslog_parsers::kv::{self, KvOptions};
use nexuslog_parsers::regex_parser::NamedRegex;
use nexuslog_parsers::{logfmt, FieldValue};
use proptest::prelude::*;

static GROKS: LazyLock<Vec<Grok>> = LazyLock::new(|| {
    let lib = GrokLibrary::standard();
    [
        "%{NGINXACCESS}",
        "^%{SYSLOGBASE} %{GREEDYDATA:message}",
        "%{JAVALOG}",
        "%{JAVASTACKTRACEPART}",
        "%{PYTHONLOG}",
        "%{HTTPD_ERRORLOG}",
        "%{URI:u} %{IP:ip} %{NUMBER:n:float} %{INT:i:int}",
        "%{QS:q}%{DATA:d}%{TIMESTAMP_ISO8601:t}",
    ]
    .iter()
    .map(|p| lib.compile(p).unwrap())
    .collect()
});

/// Text made of log-line pieces, so matching gets deep into the patterns.
fn loglike() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("10.0.0.1 ".to_owned()),
        Just("2001:db8::1 ".to_owned()),
        Just("- - ".to_owned()),
        Just("[12/Mar/2024:10:15:32 +0000] ".to_owned()),
        Just("\"GET /a?b=c HTTP/1.1\" ".to_owned()),
        Just("200 ".to_owned()),
        Just("\"\\\"x\\\"\" ".to_owned()),
        Just("Mar  7 04:02:16 host app[12]: ".to_owned()),
        Just("2024-03-12 10:15:32,118 ".to_owned()),
        Just("ERROR ".to_owned()),
        Just("\tat a.b.C.d(C.java:1)".to_owned()),
        Just("k=\"v w\" ".to_owned()),
        Just("=".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        "\\PC{0,8}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Bytes from the wire, decoded the way the processor decodes them.
fn lossy() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..256)
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Grok expressions users might write, well-formed or not.
fn grokish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("%{IP:ip}".to_owned()),
        Just("%{NUMBER:n:int}".to_owned()),
        Just("%{WORD}".to_owned()),
        Just("%{NOPE}".to_owned()),
        Just("%{INT:x:bool}".to_owned()),
        Just("%{".to_owned()),
        Just("}".to_owned()),
        Just("(?<f>".to_owned()),
        Just("(?<".to_owned()),
        Just("(?>".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("\\".to_owned()),
        Just("\\d+".to_owned()),
        Just("{2,3}".to_owned()),
        "\\PC{0,6}",
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

fn kv_options() -> impl Strategy<Value = KvOptions> {
    ("\\PC{0,3}", "\\PC{0,3}", "\\PC{0,3}", "\\PC{0,3}").prop_map(
        |(field_split, value_split, trim_chars, prefix)| KvOptions {
            field_split,
            value_split,
            trim_chars,
            prefix,
        },
    )
}

/// Encodes pairs the way go-logfmt does: quote a value that is empty-unsafe, escape `"`,
/// `\` and control characters inside quotes.
fn encode(pairs: &[(String, String)]) -> String {
    let mut line = String::new();
    for (key, value) in pairs {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(key);
        line.push('=');
        let needs_quotes = value
            .chars()
            .any(|c| c <= ' ' || c == '=' || c == '"' || c.is_control());
        if !needs_quotes {
            line.push_str(value);
            continue;
        }
        line.push('"');
        for c in value.chars() {
            match c {
                '"' => line.push_str("\\\""),
                '\\' => line.push_str("\\\\"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                '\t' => line.push_str("\\t"),
                c if c.is_control() => line.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => line.push(c),
            }
        }
        line.push('"');
    }
    line
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn grok_never_panics(line in loglike(), bytes in lossy()) {
        for grok in GROKS.iter() {
            for input in [&line, &bytes] {
                if let Some(fields) = grok.parse(input) {
                    // Only non-empty captures come back, and only declared fields.
                    let names = grok.field_names();
                    for (name, value) in fields {
                        prop_assert!(names.contains(&name));
                        prop_assert_ne!(value, FieldValue::String(String::new()));
                    }
                }
            }
        }
    }

    #[test]
    fn grok_compile_never_panics(pattern in grokish(), input in "\\PC{0,40}") {
        if let Ok(grok) = GrokLibrary::standard().compile(&pattern) {
            let _ = grok.parse(&input);
            prop_assert_eq!(grok.pattern_source(), pattern.as_str());
        }
    }

    #[test]
    fn typed_int_capture_reads_back_any_i64(n in any::<i64>()) {
        let grok = GrokLibrary::standard().compile("^%{INT:n:int}$").unwrap();
        prop_assert_eq!(grok.parse(&n.to_string()), Some(vec![("n".to_owned(), FieldValue::Long(n))]));
    }

    #[test]
    fn logfmt_never_panics(line in loglike(), bytes in lossy()) {
        let _ = logfmt::parse(&line);
        let _ = logfmt::parse(&bytes);
    }

    #[test]
    fn logfmt_round_trips(
        pairs in proptest::collection::vec(("[A-Za-z0-9_.:/@-]{1,12}", any::<String>()), 0..8)
    ) {
        let line = encode(&pairs);
        prop_assert_eq!(logfmt::parse(&line).unwrap(), pairs, "line {:?}", line);
    }

    #[test]
    fn kv_never_panics(line in loglike(), bytes in lossy(), opts in kv_options()) {
        for input in [&line, &bytes] {
            for (key, value) in kv::parse(input, &opts).into_iter().chain(kv::parse(input, &KvOptions::default())) {
                prop_assert!(!key.is_empty() && !value.is_empty());
            }
        }
    }

    #[test]
    fn named_regex_never_panics(pattern in grokish(), input in lossy()) {
        if let Ok(re) = NamedRegex::new(&pattern) {
            let _ = re.parse(&input);
        }
    }

    #[test]
    fn dissect_never_panics(pattern in grokish(), line in loglike(), bytes in lossy()) {
        if let Ok(d) = Dissect::new(&pattern) {
            let _ = d.parse(&line);
            let _ = d.parse(&bytes);
        }
    }

    #[test]
    fn dissect_reads_back_what_was_joined(
        values in proptest::collection::vec("[^|]{1,12}", 1..8),
        delimiter in prop::sample::select(vec![" | ", "|", "||"]),
    ) {
        // Values without the delimiter's `|`, joined by it, come back as they were.
        let pattern = (0..values.len()).map(|i| format!("%{{k{i}}}")).collect::<Vec<_>>().join(delimiter);
        let line = values.join(delimiter);
        let dissect = Dissect::new(&pattern).unwrap();
        let fields = dissect.parse(&line);
        let expected: Vec<_> = values.iter().enumerate().map(|(i, v)| (format!("k{i}"), FieldValue::String(v.clone()))).collect();
        let got: Option<Vec<_>> = fields.map(|f| f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
        prop_assert_eq!(got, Some(expected), "line {:?}", line);
    }

    #[test]
    fn infer_is_total_and_reads_back_integers(s in any::<String>(), n in any::<i64>()) {
        let _ = infer(&s);
        prop_assert_eq!(infer(&n.to_string()), FieldValue::Long(n));
    }
}
