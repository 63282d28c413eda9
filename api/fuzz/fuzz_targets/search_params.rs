//! A `/v1/search` query string as the API reads it (URL decoding, unknown and repeated
//! parameters, `from`/`to` date math, `limit`, `sort`, `cursor`, and `q` in the search
//! language): no panic, and what is accepted is in range (`from` before `to`, a limit within
//! bounds), or the check answers the 500 the target turns into a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexuslog_api::{check_search_query_string, ApiError};

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    if let Err(ApiError::Internal(e)) = check_search_query_string(&query) {
        panic!("{e}");
    }
});
