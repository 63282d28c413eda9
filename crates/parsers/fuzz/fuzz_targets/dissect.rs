//! dissect on arbitrary bytes, split at the first NUL into a pattern and a line (both decoded
//! lossily): compiling never panics, and what a compiled pattern reads from the line is text
//! of the line, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_parsers::dissect::Dissect;
use nexuslog_parsers::FieldValue;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let pattern = String::from_utf8_lossy(&data[..split]);
    let line = String::from_utf8_lossy(data.get(split + 1..).unwrap_or_default());
    let Ok(dissect) = Dissect::new(&pattern) else {
        return;
    };
    let Some(fields) = dissect.parse(&line) else {
        return;
    };
    let mut from = 0;
    for (name, value) in fields {
        if let FieldValue::String(text) = value {
            let at = line[from..].find(text.as_str()).unwrap_or_else(|| panic!("{name}={text:?} is not in {line:?} after byte {from}"));
            from += at + text.len();
        }
    }
});
