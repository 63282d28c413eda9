//! Small things every NexusLog crate needs: ids, the clock, the shutdown signal, and the
//! helpers integration tests use to find the real services.

pub mod backoff;
pub mod health;
pub mod shutdown;
pub mod testing;

use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh ingest id: a UUIDv7, so ids sort by creation time and spread evenly over partitions.
pub fn new_ingest_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether `id` was minted by [`new_ingest_id`], i.e. is unique to one acceptance of one event:
/// such a record reaches the log store twice only when a consumer replays it. Ids derived from
/// what a client sends (an `Idempotency-Key`, a client's own document id) must be UUIDv5 or
/// anything but v7, since a client's retry repeats them at new offsets.
pub fn is_minted_ingest_id(id: &str) -> bool {
    uuid::Uuid::try_parse(id).is_ok_and(|u| u.get_version_num() == 7)
}

/// Microseconds since the Unix epoch (the unit of every timestamp in the schemas).
pub fn now_micros() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_ids_are_unique_and_time_ordered() {
        let a = new_ingest_id();
        let b = new_ingest_id();
        assert_ne!(a, b);
        assert!(a < b, "UUIDv7 text sorts by time: {a} < {b}");
    }

    #[test]
    fn only_minted_ids_are_recognised_as_minted() {
        assert!(is_minted_ingest_id(&new_ingest_id()));
        let v5 = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, b"project\x00key\x00req-1\x000").to_string();
        assert!(!is_minted_ingest_id(&v5));
        assert!(!is_minted_ingest_id("not-a-uuid"));
        assert!(!is_minted_ingest_id(""));
    }

    #[test]
    fn now_micros_is_after_2020() {
        assert!(now_micros() > 1_577_836_800_000_000);
    }
}
