//! An OTLP logs request body as the gateway reads it: the fast path straight from the
//! protobuf bytes (`otlp_wire`) must never read a body differently from prost's full decode.
//! Whatever it accepts, prost accepts too, with the same event payloads and refusals; what it
//! gives up on goes to prost anyway.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_ingest_gateway::otlp::both_paths;

fuzz_target!(|data: &[u8]| {
    let (fast, general) = both_paths(data, 512);
    if let Some(fast) = fast {
        assert_eq!(Some(fast), general, "the fast path read a body differently from prost");
    }
});
