//! Grok on arbitrary bytes (decoded lossily, as the processor does), two ways chosen by the
//! first byte: the standard log patterns on the line, asserting that only declared fields
//! come back, never empty, with `:int` fields as numbers; or the input's first line compiled
//! as a user pattern and matched against the rest, asserting no panic (compile errors are
//! fine).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nexuslog_parsers::grok::{Grok, GrokLibrary};
use nexuslog_parsers::FieldValue;

static GROKS: LazyLock<Vec<Grok>> = LazyLock::new(|| {
    let lib = GrokLibrary::standard();
    [
        "%{NGINXACCESS}",
        "^%{SYSLOGBASE} %{GREEDYDATA:message}",
        "%{JAVALOG}",
        "%{JAVASTACKTRACEPART}",
        "%{PYTHONLOG}",
        "%{HTTPD_ERRORLOG}",
        "%{URI:uri} %{IP:ip} %{NUMBER:float:float} %{INT:int:int}",
    ]
    .iter()
    .map(|p| lib.compile(p).expect("standard patterns compile"))
    .collect()
});

const INT_FIELDS: &[&str] = &[
    "response",
    "bytes",
    "pid",
    "line",
    "port",
    "int",
    "clientport",
];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if mode < 224 {
        for grok in GROKS.iter() {
            let Some(fields) = grok.parse(&text) else {
                continue;
            };
            let names = grok.field_names();
            for (name, value) in fields {
                assert!(names.contains(&name), "undeclared field {name}");
                assert_ne!(value, FieldValue::String(String::new()), "empty {name}");
                if INT_FIELDS.contains(&name.as_str()) {
                    assert!(matches!(value, FieldValue::Long(_)), "{name} is {value:?}");
                }
            }
        }
    } else {
        let (pattern, input) = text.split_once('\n').unwrap_or((&text, ""));
        if let Ok(grok) = GrokLibrary::standard().compile(pattern) {
            let _ = grok.parse(input);
        }
    }
});
