//! The framer on arbitrary bytes pushed in pieces whose size comes from the first input
//! byte: no panic, progress on every call, bounded memory, frames within the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_syslog::Framer;

const MAX: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let chunk = usize::from(first) + 1;
    let mut framer = Framer::new(MAX);
    for piece in rest.chunks(chunk) {
        framer.push(piece);
        // Each call consumes input or returns None; more calls than bytes means a loop.
        let mut calls = 0;
        while let Some(frame) = framer.next_frame() {
            calls += 1;
            assert!(calls <= rest.len() + 1, "framer made no progress");
            if let Ok(frame) = frame {
                assert!(!frame.is_empty() && frame.len() <= MAX, "frame of {} bytes", frame.len());
            }
        }
        assert!(framer.buffered() <= MAX + 11, "buffered {}", framer.buffered());
    }
    if let Some(tail) = framer.finish() {
        assert!(tail.len() <= MAX + 11);
    }
});
