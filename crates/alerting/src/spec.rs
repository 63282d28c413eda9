//! The rule as users write it ([`RuleSpec`], the JSON of the API) and as it runs ([`Rule`],
//! checked once). Validation errors name the field, as the API reports them.

use std::collections::BTreeMap;

use nexuslog_query::{parse, time::parse_interval, FieldRef, Query};
use serde::{Deserialize, Serialize};

/// Most groups one rule tracks; events of further groups are counted on the rule, not evaluated.
pub const MAX_GROUPS: usize = 1000;
/// Shortest window: below a second the watermark's granularity is larger than the window.
const MIN_WINDOW_US: i64 = 1_000_000;
/// Longest window: an open window holds state, and a week is longer than any alert waits.
const MAX_WINDOW_US: i64 = 7 * 86_400_000_000;
const MAX_GROUP_BY: usize = 5;

/// A rule as submitted: `POST /v1/projects/{project}/alert-rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default)]
    pub query: String,
    pub window: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    #[serde(default = "count_aggregation")]
    pub aggregation: BTreeMap<String, AggregationParams>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(default)]
    pub kind: RuleKind,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_lateness: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn count_aggregation() -> BTreeMap<String, AggregationParams> {
    BTreeMap::from([("count".to_owned(), AggregationParams::default())])
}

fn yes() -> bool {
    true
}

/// The body of one aggregation: `{}` for count, `{"field": F}` for the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AggregationParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// The aggregate of each window compared with the threshold.
    #[default]
    Threshold,
    /// Fires when a window has no matching event.
    Absence,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub op: CompareOp,
    pub threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CompareOp {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
}

impl CompareOp {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Gt => value > threshold,
            Self::Ge => value >= threshold,
            Self::Lt => value < threshold,
            Self::Le => value <= threshold,
            Self::Eq => value == threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Eq => "==",
        }
    }
}

/// What a window is reduced to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggKind {
    Count,
    Avg,
    Min,
    Max,
    Sum,
    P95,
    P99,
    CountDistinct,
}

impl AggKind {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "count" => Self::Count,
            "avg" => Self::Avg,
            "min" => Self::Min,
            "max" => Self::Max,
            "sum" => Self::Sum,
            "p95" => Self::P95,
            "p99" => Self::P99,
            "count_distinct" => Self::CountDistinct,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Sum => "sum",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::CountDistinct => "count_distinct",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Aggregation {
    pub kind: AggKind,
    /// The field aggregated; `None` for count.
    pub field: Option<String>,
}

/// A checked rule, as the processors and the evaluator run it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub query: Query,
    pub window_us: i64,
    /// Windows start every `every_us`; equal to the window for tumbling windows.
    pub every_us: i64,
    pub aggregation: Aggregation,
    pub group_by: Vec<String>,
    pub condition: Condition,
    pub for_us: i64,
    pub kind: RuleKind,
    pub severity: Severity,
    pub channels: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub message: Option<String>,
    pub allowed_lateness_us: i64,
    pub enabled: bool,
    /// `group_by` and the aggregation's field, resolved once here rather than for every
    /// record the processors fold.
    pub group_refs: Vec<FieldRef>,
    pub field_ref: Option<FieldRef>,
}

/// A rule that does not validate: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

fn bad(field: &str, message: impl Into<String>) -> SpecError {
    SpecError { field: field.to_owned(), message: message.into() }
}

fn duration(field: &str, value: Option<&str>, default_us: i64, allow_zero: bool) -> Result<i64, SpecError> {
    match value {
        None => Ok(default_us),
        // "0s" (or "0"): intervals are otherwise positive.
        Some(v) if allow_zero && v.strip_prefix('0').is_some_and(|unit| unit.is_empty() || parse_interval(&format!("1{unit}")).is_ok()) => Ok(0),
        Some(v) => parse_interval(v).map_err(|e| bad(field, e)),
    }
}

impl RuleSpec {
    /// Checks the spec and builds the rule it describes.
    ///
    /// # Errors
    /// The first field that is wrong, named as in the JSON (`window`, `aggregation.avg.field`, ...).
    pub fn compile(&self, id: &str, project_id: &str) -> Result<Rule, SpecError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(bad("name", "must be 1 to 200 characters"));
        }
        let query = parse(&self.query).map_err(|e| bad("query", e.to_string()))?;
        let window_us = duration("window", Some(&self.window), 0, false)?;
        if !(MIN_WINDOW_US..=MAX_WINDOW_US).contains(&window_us) {
            return Err(bad("window", "must be between 1s and 7d"));
        }
        let every_us = duration("every", self.every.as_deref(), window_us, false)?;
        if every_us > window_us || window_us % every_us != 0 || every_us < MIN_WINDOW_US {
            return Err(bad("every", "must be at least 1s and divide the window (e.g. window 1m, every 10s)"));
        }
        let aggregation = self.aggregation()?;
        if self.group_by.len() > MAX_GROUP_BY {
            return Err(bad("group_by", format!("at most {MAX_GROUP_BY} fields")));
        }
        if let Some(i) = self.group_by.iter().position(|f| f.trim().is_empty()) {
            return Err(bad(&format!("group_by[{i}]"), "empty field name"));
        }
        let condition = match (self.kind, self.condition) {
            (RuleKind::Threshold, Some(c)) if c.threshold.is_finite() => c,
            (RuleKind::Threshold, Some(_)) => return Err(bad("condition.threshold", "must be a finite number")),
            (RuleKind::Threshold, None) => return Err(bad("condition", "required for a threshold rule, e.g. {\"op\": \">\", \"threshold\": 100}")),
            // An absence rule fires on an empty window: count == 0.
            (RuleKind::Absence, _) => Condition { op: CompareOp::Eq, threshold: 0.0 },
        };
        if self.kind == RuleKind::Absence && aggregation.kind != AggKind::Count {
            return Err(bad("aggregation", "an absence rule counts events: use {\"count\": {}}"));
        }
        let for_us = duration("for", self.for_.as_deref(), 0, true)?;
        let allowed_lateness_us = duration("allowed_lateness", self.allowed_lateness.as_deref(), 30_000_000, true)?;
        if allowed_lateness_us > 86_400_000_000 {
            return Err(bad("allowed_lateness", "at most 1d"));
        }
        if let Some(i) = self.channels.iter().position(|c| c.trim().is_empty()) {
            return Err(bad(&format!("channels[{i}]"), "empty channel id"));
        }
        if self.message.as_ref().is_some_and(|m| m.len() > 4096) {
            return Err(bad("message", "at most 4096 bytes"));
        }
        Ok(Rule {
            id: id.to_owned(),
            project_id: project_id.to_owned(),
            name: name.to_owned(),
            query,
            window_us,
            every_us,
            group_by: self.group_by.clone(),
            condition,
            for_us,
            kind: self.kind,
            severity: self.severity,
            channels: self.channels.clone(),
            labels: self.labels.clone(),
            message: self.message.clone(),
            allowed_lateness_us,
            enabled: self.enabled,
            group_refs: self.group_by.iter().map(|f| FieldRef::resolve(f)).collect(),
            field_ref: aggregation.field.as_deref().map(FieldRef::resolve),
            aggregation,
        })
    }

    fn aggregation(&self) -> Result<Aggregation, SpecError> {
        let mut entries = self.aggregation.iter();
        let (Some((name, params)), None) = (entries.next(), entries.next()) else {
            return Err(bad("aggregation", "exactly one of count, avg, min, max, sum, p95, p99, count_distinct"));
        };
        let kind = AggKind::parse(name)
            .ok_or_else(|| bad("aggregation", format!("unknown aggregation {name:?}: one of count, avg, min, max, sum, p95, p99, count_distinct")))?;
        let field = params.field.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned);
        match (kind, &field) {
            (AggKind::Count, Some(_)) => Err(bad("aggregation.count.field", "count takes no field")),
            (AggKind::Count, None) => Ok(Aggregation { kind, field: None }),
            (_, None) => Err(bad(&format!("aggregation.{name}.field"), "required")),
            (_, Some(_)) => Ok(Aggregation { kind, field }),
        }
    }
}

impl Rule {
    /// Whether the window's value can only grow as events arrive, so the condition holding on
    /// part of the window already decides it: such rules fire as soon as the crossing event is
    /// counted instead of when the window closes.
    pub fn fires_early(&self) -> bool {
        let grows = matches!(self.aggregation.kind, AggKind::Count | AggKind::Max | AggKind::CountDistinct);
        self.kind == RuleKind::Threshold && grows && matches!(self.condition.op, CompareOp::Gt | CompareOp::Ge) && self.for_us == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<Rule, SpecError> {
        let s: RuleSpec = serde_json::from_value(json).map_err(|e| bad("body", e.to_string()))?;
        s.compile("r1", "p1")
    }

    #[test]
    fn a_count_rule_with_defaults() {
        let r = spec(serde_json::json!({"name": "errors", "query": "level:error", "window": "1m",
            "condition": {"op": ">", "threshold": 10}}))
        .expect("valid");
        assert_eq!(r.window_us, 60_000_000);
        assert_eq!(r.every_us, 60_000_000);
        assert_eq!(r.aggregation.kind, AggKind::Count);
        assert_eq!(r.allowed_lateness_us, 30_000_000);
        assert_eq!(r.for_us, 0);
        assert!(r.enabled && r.fires_early());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (serde_json::json!({"name": "", "window": "1m", "condition": {"op": ">", "threshold": 1}}), "name"),
            (serde_json::json!({"name": "a", "query": "a AND", "window": "1m", "condition": {"op": ">", "threshold": 1}}), "query"),
            (serde_json::json!({"name": "a", "window": "1x", "condition": {"op": ">", "threshold": 1}}), "window"),
            (serde_json::json!({"name": "a", "window": "1m", "every": "7s", "condition": {"op": ">", "threshold": 1}}), "every"),
            (serde_json::json!({"name": "a", "window": "1m"}), "condition"),
            (serde_json::json!({"name": "a", "window": "1m", "aggregation": {"avg": {}}, "condition": {"op": ">", "threshold": 1}}), "aggregation.avg.field"),
            (serde_json::json!({"name": "a", "window": "1m", "aggregation": {"median": {"field": "x"}}, "condition": {"op": ">", "threshold": 1}}), "aggregation"),
            (serde_json::json!({"name": "a", "window": "1m", "for": "soon", "condition": {"op": ">", "threshold": 1}}), "for"),
            (serde_json::json!({"name": "a", "window": "1m", "kind": "absence", "aggregation": {"max": {"field": "x"}}}), "aggregation"),
        ];
        for (json, field) in cases {
            let e = spec(json.clone()).expect_err(&json.to_string());
            assert_eq!(e.field, field, "{json}: {e}");
        }
    }

    #[test]
    fn sliding_windows_and_zero_durations() {
        let r = spec(serde_json::json!({"name": "a", "window": "1m", "every": "10s", "for": "0s", "allowed_lateness": "0s",
            "aggregation": {"p99": {"field": "latency"}}, "condition": {"op": ">", "threshold": 1}}))
        .expect("valid");
        assert_eq!((r.every_us, r.for_us, r.allowed_lateness_us), (10_000_000, 0, 0));
        assert!(!r.fires_early(), "a percentile can fall as events arrive");
        let absence = spec(serde_json::json!({"name": "a", "window": "5m", "kind": "absence"})).expect("valid");
        assert_eq!(absence.condition, Condition { op: CompareOp::Eq, threshold: 0.0 });
    }
}
