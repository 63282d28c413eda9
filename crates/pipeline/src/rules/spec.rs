//! The rule language, as JSON: what the API accepts and stores. Every struct refuses unknown
//! keys, so a typo is an error at save time, not a silently ignored step.
//!
//! ```json
//! { "name": "nginx access", "when": { "service": "nginx*" },
//!   "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}"] } },
//!              { "rename": { "from": "clientip", "to": "client.ip" } },
//!              { "convert": { "field": "bytes", "to": "int" } } ],
//!   "on_error": "keep" }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

fn message() -> String {
    "message".into()
}

/// One rule of a project's pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When the rule applies; all given conditions must hold (none: every record).
    #[serde(default)]
    pub when: Condition,
    pub steps: Vec<Step>,
    /// What a failed step does: `keep` the record with the error noted (default), or send the
    /// event to the dead-letter topic.
    #[serde(default)]
    pub on_error: OnError,
    /// The zone of times this rule reads that do not give one: `UTC` (default), an offset
    /// (`+08:00`) or an IANA name (`Asia/Shanghai`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    #[default]
    Keep,
    DeadLetter,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Transport: `http`, `syslog`, `es_bulk`, `otlp`, `hec` or `loki`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Host name pattern, `*` matching any run of characters (`web-*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Service name pattern, as `host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldMatch>,
}

/// A test on one field (a standard one like `message`, or an extracted one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldMatch {
    pub name: String,
    /// The value, as text, equals this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The value, as text, contains a match of this regular expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// The field is present (true) or absent (false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
}

/// One step; written as a one-key object: `{"rename": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Parse a field's text; the results become fields (standard names like `level`,
    /// `timestamp`, `host`, `message` set the standard fields).
    Parse(ParseSpec),
    Rename { from: String, to: String },
    Remove { fields: Vec<String> },
    /// Sets a field to a JSON scalar; with `if_absent`, only when it is not there.
    Set {
        field: String,
        value: serde_json::Value,
        #[serde(default)]
        if_absent: bool,
    },
    /// Converts a field's type; `timestamp` sets the event's time from it (with a chrono
    /// `format` like `%d/%b/%Y:%H:%M:%S %z`, or the usual formats when none is given).
    Convert {
        field: String,
        to: TargetType,
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    /// Sets the level from a field: through `map` (value → level name) when given, else by
    /// reading the value as a level (`WARN`, `err`, `5`, ...).
    MapLevel {
        field: String,
        #[serde(default)]
        map: BTreeMap<String, String>,
    },
    /// Drops the event (counted, not indexed).
    Drop {},
    /// A preset's steps, by name (`{"preset": "nginx_access"}`; `GET /v1/presets` lists them).
    Preset(String),
    /// Joins continuation lines (stack traces, or lines a pattern says) into the event they
    /// continue. The rule's first step: the gateway runs it on arrival, before any rule.
    Multiline(crate::multiline::MultilineSpec),
    /// Parses each source's events with the preset that suits it, chosen from its first lines
    /// and kept (see `crate::auto`). A rule's only step; it takes the events no other rule
    /// selects.
    Auto {},
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Int,
    Float,
    Bool,
    String,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParserKind {
    Grok,
    /// Splits at the literal text between `%{key}`s (Elasticsearch's dissect), no regex.
    Dissect,
    Logfmt,
    Kv,
    Regex,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseSpec {
    pub with: ParserKind,
    /// The field to parse (default `message`).
    #[serde(default = "message")]
    pub field: String,
    /// Grok, dissect: patterns tried in order, the first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Grok: extra named patterns usable as `%{NAME}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub definitions: BTreeMap<String, String>,
    /// Regex: a regular expression whose named groups become fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Kv: separator between pairs (default a space) and between key and value (default `=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_split: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_split: Option<String>,
    /// Put results under `<prefix><name>` (then standard names are not special).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// Logfmt, kv, regex: read `200` as a number, `true` as a boolean (default true). Grok
    /// types by its own `:int`/`:float` suffixes.
    #[serde(default = "yes")]
    pub infer_types: bool,
    /// A field that does not parse is not an error: the step does nothing (e.g. `json` on a
    /// message that is JSON only for some events).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_failure: bool,
}
