use std::collections::BTreeMap;
use std::sync::OnceLock;

use apache_avro::types::Value;

use crate::avro::{self, avro_enum, AvroRecord, Compiled, Fields, SchemaError};

avro_enum!(
    /// The state an alert rule moved into.
    AlertState, default = Firing, {
        Firing => "FIRING",
        Resolved => "RESOLVED",
    }
);

avro_enum!(
    AlertSeverity, default = Warning, {
        Info => "INFO",
        Warning => "WARNING",
        Critical => "CRITICAL",
    }
);

/// A state transition of an alert rule (`alert_event.avsc`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEvent {
    /// Idempotency key of the transition: the notifier sends at most one notification per id.
    pub transition_id: String,
    pub project_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub state: AlertState,
    pub severity: AlertSeverity,
    pub at: i64,
    pub window_start: i64,
    pub window_end: i64,
    pub value: f64,
    pub threshold: f64,
    pub summary: String,
    pub sample_ids: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl AvroRecord for AlertEvent {
    const NAME: &'static str = "io.nexuslog.v1.AlertEvent";

    fn compiled() -> &'static Compiled {
        static COMPILED: OnceLock<Compiled> = OnceLock::new();
        COMPILED.get_or_init(|| Compiled::new("alert_event", crate::avsc::ALERT_EVENT))
    }

    fn to_value(&self) -> Value {
        avro::record(vec![
            ("transition_id", Value::String(self.transition_id.clone())),
            ("project_id", Value::String(self.project_id.clone())),
            ("rule_id", Value::String(self.rule_id.clone())),
            ("rule_name", Value::String(self.rule_name.clone())),
            ("state", self.state.to_value()),
            ("severity", self.severity.to_value()),
            ("at", Value::TimestampMicros(self.at)),
            ("window_start", Value::TimestampMicros(self.window_start)),
            ("window_end", Value::TimestampMicros(self.window_end)),
            ("value", Value::Double(self.value)),
            ("threshold", Value::Double(self.threshold)),
            ("summary", Value::String(self.summary.clone())),
            ("sample_ids", avro::string_array(&self.sample_ids)),
            ("labels", avro::string_map(&self.labels)),
        ])
    }

    fn from_value(value: Value) -> Result<Self, SchemaError> {
        let mut f = Fields::new("AlertEvent", value)?;
        Ok(Self {
            transition_id: f.string("transition_id")?,
            project_id: f.string("project_id")?,
            rule_id: f.string("rule_id")?,
            rule_name: f.string("rule_name")?,
            state: AlertState::from_symbol(&f.symbol("state")?),
            severity: AlertSeverity::from_symbol(&f.symbol("severity")?),
            at: f.micros("at")?,
            window_start: f.micros("window_start")?,
            window_end: f.micros("window_end")?,
            value: f.double("value")?,
            threshold: f.double("threshold")?,
            summary: f.string("summary")?,
            sample_ids: f.string_array("sample_ids")?,
            labels: f.string_map("labels")?,
        })
    }
}
