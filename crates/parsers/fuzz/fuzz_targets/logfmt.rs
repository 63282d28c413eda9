//! logfmt on arbitrary bytes (decoded lossily): no panic; accepted pairs have keys that
//! logfmt can write back; and what parses reads the same after encoding it again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_parsers::logfmt;

fn encode(pairs: &[(String, String)]) -> String {
    let mut line = String::new();
    for (key, value) in pairs {
        line.push_str(key);
        line.push('=');
        line.push('"');
        for c in value.chars() {
            match c {
                '"' => line.push_str("\\\""),
                '\\' => line.push_str("\\\\"),
                c if c.is_control() => line.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => line.push(c),
            }
        }
        line.push_str("\" ");
    }
    line
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(pairs) = logfmt::parse(&text) else {
        return;
    };
    for (key, _) in &pairs {
        assert!(!key.is_empty(), "empty key");
        assert!(
            !key.bytes().any(|b| b <= b' ' || b == b'=' || b == b'"'),
            "bad key {key:?}"
        );
    }
    let again = logfmt::parse(&encode(&pairs)).expect("encoded pairs parse");
    assert_eq!(again, pairs, "round trip");
});
