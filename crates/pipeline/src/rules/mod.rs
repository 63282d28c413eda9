//! Per-project processing rules: what users write ([`spec`]), checked and compiled once
//! ([`compile`]), then applied to every record ([`apply`]).

mod apply;
mod compile;
mod fields;
pub mod limits;
pub mod spec;

pub use apply::{Outcome, RuleTrace, StepTrace};
pub use compile::{Pipeline, RuleError};
pub use spec::{Condition, FieldMatch, OnError, ParseSpec, ParserKind, RuleSpec, Step, TargetType};
