//! Both parsers on arbitrary bytes: no panic, and strict never disagrees with lenient.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The receive time comes from the input too, so year inference sees odd clocks.
    let (received, bytes) = match data.split_first_chunk::<8>() {
        Some((head, rest)) => (i64::from_le_bytes(*head), rest),
        None => (0, data),
    };
    let lenient = nexuslog_syslog::parse(bytes, received);
    if let Ok(strict) = nexuslog_syslog::parse_strict(bytes, received) {
        assert_eq!(strict, lenient, "strict and lenient disagree");
    }
});
