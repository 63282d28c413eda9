//! The processor's half of alerting: fold the matching records of one batch into partial
//! aggregates per (rule, group, window), written to the partials topic in the batch's
//! transaction.

use foldhash::HashMap;

use nexuslog_query::{numeric_value, standard_value, FieldRef, Record};
use nexuslog_schemas::{FieldValue, LogRecord};
use serde::{Deserialize, Serialize};

use crate::acc::{stable_hash, Accumulator};
use crate::evaluator::MAX_SAMPLES;
use crate::ruleset::RuleSet;
use crate::spec::AggKind;
use crate::window::Windows;
use crate::GroupKey;

/// Format version of [`PartialBatch`] on the partials topic.
pub const PARTIALS_VERSION: u32 = 1;

/// One rule's events in one window of one group, as seen by one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    pub rule_id: String,
    pub group: GroupKey,
    pub window_start: i64,
    pub acc: Accumulator,
    /// Ids of the first matching records (at most [`MAX_SAMPLES`]).
    pub samples: Vec<String>,
}

/// What one processor batch contributes to alerting; the unit written to the partials topic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialBatch {
    pub v: u32,
    /// The largest event time in the batch, each record's time capped at the time it was
    /// received (so one event stamped next year cannot close every window). Matching or not,
    /// every record moves the watermark.
    pub max_event_time: Option<i64>,
    /// Set on a heartbeat: the processor found nothing to read at this wall-clock time, so
    /// windows may close without new events (what lets absence rules fire on a silent stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_at: Option<i64>,
    pub partials: Vec<Partial>,
}

impl PartialBatch {
    pub fn heartbeat(now: i64) -> Self {
        Self { v: PARTIALS_VERSION, max_event_time: None, idle_at: Some(now), partials: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.max_event_time.is_none() && self.idle_at.is_none() && self.partials.is_empty()
    }
}

/// A field's value as text: what groups and distinct counts are keyed by.
fn field_text(record: &LogRecord, field: &FieldRef) -> Option<String> {
    match field {
        FieldRef::Message => Some(record.message.clone()),
        FieldRef::Timestamp => Some(record.timestamp.to_string()),
        FieldRef::Level => Some(record.level.symbol().to_ascii_lowercase()),
        FieldRef::Standard(f) => standard_value(record, *f).map(str::to_owned),
        FieldRef::Extracted(path) => match record.fields.get(path)? {
            FieldValue::Null => None,
            FieldValue::String(s) => Some(s.clone()),
            FieldValue::Bool(b) => Some(b.to_string()),
            v @ (FieldValue::Long(_) | FieldValue::Double(_)) => numeric_value(v).map(|x| x.to_string()),
        },
    }
}

/// A field's value as a number: what the other aggregations read.
fn field_number(record: &LogRecord, field: &FieldRef) -> Option<f64> {
    match field {
        FieldRef::Timestamp => Some(record.timestamp as f64),
        FieldRef::Extracted(path) => match record.fields.get(path)? {
            FieldValue::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
            v => numeric_value(v),
        },
        FieldRef::Message | FieldRef::Level | FieldRef::Standard(_) => None,
    }
}

/// A group's window, within one rule.
type Key = (GroupKey, i64);
type Slot = (Accumulator, Vec<String>);

/// Folds records into partials; one per processing task, merged before the commit.
#[derive(Debug, Default)]
pub struct Collector {
    /// By rule id first, so a matching record looks its rule up by reference instead of
    /// building an owned key (this runs for every matching record of every rule).
    partials: HashMap<String, HashMap<Key, Slot>>,
    max_event_time: Option<i64>,
}

impl Collector {
    /// Counts `record` in every window of every rule of its project that it matches.
    pub fn observe(&mut self, record: &LogRecord, rules: &RuleSet) {
        let t = if record.received_at > 0 { record.timestamp.min(record.received_at) } else { record.timestamp };
        self.max_event_time = Some(self.max_event_time.map_or(t, |m| m.max(t)));
        if rules.is_empty() {
            return;
        }
        let r = Record::new(record);
        for rule in rules.candidates(record).filter(|rule| rule.project_id == record.project_id) {
            if !r.matches(&rule.query) {
                continue;
            }
            let group: GroupKey = rule.group_refs.iter().map(|f| field_text(record, f).unwrap_or_default()).collect();
            let (number, distinct) = match (&rule.field_ref, rule.aggregation.kind) {
                (None, _) => (None, None),
                (Some(f), AggKind::CountDistinct) => (None, field_text(record, f).as_deref().map(stable_hash)),
                (Some(f), _) => (field_number(record, f), None),
            };
            let windows = Windows { window_us: rule.window_us, every_us: rule.every_us };
            if !self.partials.contains_key(&rule.id) {
                self.partials.insert(rule.id.clone(), HashMap::default());
            }
            let Some(slots) = self.partials.get_mut(&rule.id) else { continue };
            for start in windows.containing(record.timestamp) {
                let (acc, samples) = slots.entry((group.clone(), start)).or_default();
                acc.add(rule.aggregation.kind, number, distinct);
                if samples.len() < MAX_SAMPLES {
                    samples.push(record.id.clone());
                }
            }
        }
    }

    /// Adds another task's partials (the batch order is kept by merging in task order).
    pub fn merge(&mut self, other: Collector) {
        self.max_event_time = match (self.max_event_time, other.max_event_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (rule_id, slots) in other.partials {
            let mine = self.partials.entry(rule_id).or_default();
            for (key, (acc, samples)) in slots {
                let (my_acc, my_samples) = mine.entry(key).or_default();
                my_acc.merge(&acc);
                my_samples.extend(samples.into_iter().take(MAX_SAMPLES.saturating_sub(my_samples.len())));
            }
        }
    }

    pub fn finish(self) -> PartialBatch {
        let mut partials: Vec<Partial> = self
            .partials
            .into_iter()
            .flat_map(|(rule_id, slots)| {
                slots.into_iter().map(move |((group, window_start), (acc, samples))| Partial { rule_id: rule_id.clone(), group, window_start, acc, samples })
            })
            .collect();
        // A stable order makes the evaluator's input (and so its output) reproducible.
        partials.sort_by(|a, b| (&a.rule_id, &a.group, a.window_start).cmp(&(&b.rule_id, &b.group, b.window_start)));
        PartialBatch { v: PARTIALS_VERSION, max_event_time: self.max_event_time, idle_at: None, partials }
    }
}
