//! Alerting in the stream: the rules in force (`rules.rs`), the evaluator task that merges the
//! processors' partial aggregates into windows and transitions (`evaluator.rs`), and the
//! notifier that delivers each transition to its channels once (`notifier.rs`). The rule
//! semantics themselves live in `crates/alerting`.

mod evaluator;
mod notifier;
mod rules;

pub use evaluator::{alert_event, AlertEvaluator, EVALUATOR_GROUP};
pub use notifier::{silenced_by, Notifier, NotifierSettings, NOTIFIER_GROUP};
pub use rules::{AlertRuleRegistry, AlertRules, ALERT_RULES_POLL};
