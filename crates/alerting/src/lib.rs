//! Alert rules evaluated as the events stream by, on event time.
//!
//! The work is split so that the result of a window is exact however events are spread over
//! partitions and processor replicas:
//!
//! 1. Each processor runs [`Collector`] over its batch: every record that matches a rule's
//!    query adds to a [`Partial`] per (rule, group, window). The partials of a batch, with the
//!    largest event time the batch saw per input partition, form one [`PartialBatch`], written
//!    to the partials topic in the same transaction as the processor's outputs and offsets, so
//!    each event is counted exactly once.
//! 2. One [`Evaluator`] reads the partials topic in order, merges partials per window
//!    ([`Accumulator`] is mergeable: count, sum, min, max, distinct hashes, a log-bucket
//!    sketch for percentiles), closes windows as the watermark passes them, and runs the
//!    OK → Pending → Firing → OK state machine per group, emitting [`Transition`]s with ids
//!    derived from (rule, group, window, state) so a replay yields the same ids.
//!
//! Nothing here does I/O: the processor and the evaluator task own the bus; the state is
//! serializable and checkpointed by its owner with the offsets it has consumed.

mod acc;
pub mod channel;
mod collect;
mod evaluator;
mod ruleset;
mod spec;
mod template;
mod window;

pub use acc::{Accumulator, SKETCH_RELATIVE_ERROR};
pub use collect::{Collector, Partial, PartialBatch};
pub use ruleset::RuleSet;
pub use evaluator::{Evaluator, GroupStatus, RuleStatus, Transition, MAX_SAMPLES};
pub use spec::{AggKind, Aggregation, CompareOp, Condition, Rule, RuleKind, RuleSpec, Severity, SpecError, MAX_GROUPS};
pub use template::render;
pub use window::Windows;

/// Where the evaluator publishes a rule's [`RuleStatus`] in the shared state store, for the API.
pub fn status_key(rule_id: &str) -> String {
    format!("alerting:status:{rule_id}")
}

/// A group is the values of a rule's `group_by` fields, in order (`""` for a missing value).
pub type GroupKey = Vec<String>;

/// The state of one group of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Ok,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Pending => "pending",
            Self::Firing => "firing",
        }
    }
}
