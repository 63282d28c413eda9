//! An HTTP ingest body as the gateway reads it: decompressed per `Content-Encoding` (the
//! first byte picks identity, gzip, zstd or an unknown one) under a size limit, then split
//! into events. No panic; nothing inflates past the limit; every accepted event fits the event
//! limit; line numbers are 1-based and never go down (several objects on one line share it); a refused line keeps at most the limit of bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_ingest_gateway::{decompress, split_events};

const BODY_LIMIT: u64 = 64 * 1024;
const EVENT_LIMIT: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let encoding = match selector % 5 {
        0 => None,
        1 => Some("identity"),
        2 => Some("gzip"),
        3 => Some("zstd"),
        _ => Some("br"),
    };
    let Ok(body) = decompress(encoding, body, BODY_LIMIT) else { return };
    assert!(body.len() as u64 <= BODY_LIMIT, "inflated to {} bytes", body.len());
    let Ok((events, refused)) = split_events(&body, EVENT_LIMIT) else { return };
    let mut last = 0;
    for e in &events {
        assert!(e.bytes.len() <= EVENT_LIMIT, "event of {} bytes accepted", e.bytes.len());
        // Objects one after another on a line (Fluent Bit's json_stream) share its number.
        assert!(e.line >= 1 && e.line >= last, "line numbers never go down: {} after {last}", e.line);
        last = e.line;
    }
    for r in &refused {
        assert!(r.line >= 1 && r.original.len() <= EVENT_LIMIT.max(body.len()));
    }
});
