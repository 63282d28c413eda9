//! From a raw event to a log record: the part of processing that is pure computation, shared by
//! the stream processors (which run it on every event) and the API (which validates rules and
//! dry-runs them on sample lines with exactly the same code).
//!
//! 1. [`normalize`]: JSON objects are recognized automatically (well-known keys become the
//!    standard fields), syslog is parsed, anything else is a text line.
//! 2. [`rules`]: then the project's pipeline — an ordered list of rules, each with a condition
//!    and steps (parse with grok/logfmt/kv/regex/JSON, rename, remove, set, convert, map level,
//!    drop) — refines the record. A failed step keeps the record with the error noted, unless
//!    its rule says to dead-letter.

mod level;
pub mod normalize;
pub mod presets;
pub mod rules;
mod syslog;
mod timestamp;
mod window;

pub use level::parse_level;
pub use normalize::{normalize, stamp_provenance, NormalizeError, RESERVED_FIELDS};
pub use rules::{Outcome, Pipeline, RuleError, RuleSpec, RuleTrace};
pub use timestamp::{parse_timestamp, parse_timestamp_in, TimeContext, Zone};
pub use window::{TimeWindow, ORIGINAL_TIMESTAMP_FIELD};

use nexuslog_schemas::RawEvent;

/// Normalizes a raw event, then runs the project's pipeline on it.
///
/// # Errors
/// When the event cannot be normalized at all (not UTF-8, broken JSON): a dead letter.
pub fn process(raw: &RawEvent, pipeline: &Pipeline, trace: Option<&mut Vec<RuleTrace>>) -> Result<Outcome, NormalizeError> {
    let record = normalize(raw)?;
    // The receiver's fields are stamped again after the rules: a parse step reading event
    // content (json, kv, logfmt, grok into `ingest.*`) must not be able to forge them.
    Ok(match pipeline.apply(record, trace) {
        Outcome::Record(mut r) => {
            stamp_provenance(&mut r, raw);
            Outcome::Record(r)
        }
        other => other,
    })
}
