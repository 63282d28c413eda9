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

pub mod auto;
mod level;
pub mod multiline;
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
pub fn process(raw: &RawEvent, pipeline: &Pipeline, mut trace: Option<&mut Vec<RuleTrace>>) -> Result<Outcome, NormalizeError> {
    let mut record = normalize(raw)?;
    // An auto rule parses what no other rule selects, before them (the preset's standard
    // fields may then select later rules).
    if let Some((rule, chooser)) = pipeline.auto_for(&record) {
        let line = String::from_utf8_lossy(&raw.payload);
        record = match chooser.parse(rule, line.trim(), record, trace.as_deref_mut(), raw.received_at) {
            Some(r) => r,
            None => return Ok(Outcome::Dropped { rule: rule.to_owned() }),
        };
    }
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
