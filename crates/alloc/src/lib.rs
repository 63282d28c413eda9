//! The allocator of NexusLog's binaries.
//!
//! mimalloc serves Rust's allocations and, through its `override` feature, the `malloc` of the
//! C libraries linked in (zstd in the embedded log and in Tantivy's document store, librdkafka).
//! Left to glibc, those gave each of ~20 threads an arena of up to 64 MiB that fragmentation
//! kept resident: peak RSS under a 500 000-event burst was ~915 MiB, ~500 MiB with them on
//! mimalloc (`loadtest standalone-bench`).

pub use mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay` (its position in `mi_option_e`, `mimalloc.h`): how
/// long freed memory stays committed before it is returned to the system.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds freed memory waits before it goes back to the system. mimalloc's default is a
/// second: under a burst that second of churn (request bodies, decoded batches, documents) is
/// all resident at once. 50 ms measured ~90 MiB lower peak RSS with no CPU cost that the
/// noise of this machine could show.
const PURGE_DELAY_MS: std::ffi::c_long = 50;

/// Sets the allocator's options, unless the environment sets them (`MIMALLOC_PURGE_DELAY`,
/// read by mimalloc itself). Call first thing in `main`.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set stores an integer in mimalloc's option table; any value is valid
        // for this option and it is read with an atomic load on every purge decision.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

/// The purge delay in effect, milliseconds.
#[must_use]
pub fn purge_delay_ms() -> std::ffi::c_long {
    // SAFETY: mi_option_get reads an integer from mimalloc's option table.
    #[allow(unsafe_code)]
    unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_option_index_is_the_purge_delay_and_tune_sets_it() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // mimalloc v3's default purge delay: a different value means the index names another
        // option (an upgrade renumbered them) and `tune` would set the wrong one.
        assert_eq!(super::purge_delay_ms(), 1000);
        super::tune();
        assert_eq!(super::purge_delay_ms(), super::PURGE_DELAY_MS);
    }
}
