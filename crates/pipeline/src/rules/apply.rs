//! Running compiled rules on a record.

use chrono::{DateTime, NaiveDateTime};
use nexuslog_parsers::{infer::infer, kv, logfmt};
use nexuslog_schemas::{FieldValue, LogRecord, ParseStatus, TimestampSource};
use serde::Serialize;

use super::compile::{CompiledCondition, CompiledStep, Parser, Pipeline};
use super::fields::{self, assign, exists, text, value_text};
use super::spec::{OnError, TargetType};
use crate::parse_level;
use crate::timestamp::{parse_timestamp_in, TimeContext, Zone};

/// What became of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Record(LogRecord),
    /// A `drop` step matched; the event is not indexed.
    Dropped { rule: String },
    /// A step failed in a rule with `on_error: dead_letter`.
    DeadLetter { record: LogRecord, rule: String, reason: String },
}

/// What one rule did to a record, for dry runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    pub rule: String,
    pub matched: bool,
    pub steps: Vec<StepTrace>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTrace {
    pub step: &'static str,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Drop,
}

impl CompiledCondition {
    pub(crate) fn matches(&self, r: &LogRecord) -> bool {
        if let Some(s) = &self.source {
            if !r.source.symbol().eq_ignore_ascii_case(s) {
                return false;
            }
        }
        if let Some(re) = &self.host {
            if !r.host.as_deref().is_some_and(|h| re.is_match(h)) {
                return false;
            }
        }
        if let Some(re) = &self.service {
            if !r.service.as_deref().is_some_and(|s| re.is_match(s)) {
                return false;
            }
        }
        if let Some(f) = &self.field {
            if let Some(want) = f.exists {
                if exists(r, &f.name) != want {
                    return false;
                }
            }
            let value = text(r, &f.name);
            if let Some(eq) = &f.equals {
                if value.as_deref() != Some(eq.as_str()) {
                    return false;
                }
            }
            if let Some(re) = &f.matches {
                if !value.as_deref().is_some_and(|v| re.is_match(v)) {
                    return false;
                }
            }
        }
        true
    }
}

/// Where the message is kept when a parser replaces it.
const ORIGINAL: &str = "event.original";

/// Stores a parsed value: under the prefix as a plain field, or, without one, into the standard
/// field its name or alias (`msg`, `lvl`, `ts`, …) names, as for a JSON event; the first of a
/// parse step to name a standard field sets it, later ones stay fields under their own names
/// (`claimed`), and a value that does not fit the standard field stays a field, with a note.
fn put(r: &mut LogRecord, prefix: &str, name: &str, v: FieldValue, claimed: &mut Vec<&'static str>, zone: Zone) {
    if !prefix.is_empty() {
        r.fields.insert(format!("{prefix}{name}"), v);
        return;
    }
    let standard = if name == "@timestamp" { Some("timestamp") } else { crate::normalize::standard_alias(name) };
    let Some(standard) = standard.filter(|s| !claimed.contains(s)) else {
        r.fields.insert(name.to_owned(), v);
        return;
    };
    claimed.push(standard);
    if standard == "message" && !r.fields.contains_key(ORIGINAL) {
        // A parser replacing the message (grok's `%{GREEDYDATA:message}`) keeps what it replaced,
        // e.g. a Java stack trace after the first line, as ECS does.
        let before = std::mem::take(&mut r.message);
        r.fields.insert(ORIGINAL.to_owned(), FieldValue::String(before));
    }
    if let Err(e) = assign(r, standard, v.clone(), zone) {
        r.parse_status = ParseStatus::Partial;
        r.parse_errors.push(format!("{name}: {e}; kept as a field"));
        r.fields.insert(name.to_owned(), v);
    }
}

fn typed(s: String, infer_types: bool) -> FieldValue {
    if infer_types {
        infer(&s)
    } else {
        FieldValue::String(s)
    }
}

fn parse(r: &mut LogRecord, field: &str, parser: &Parser, prefix: &str, infer_types: bool, zone: Zone) -> Result<(), String> {
    let input = text(r, field).ok_or_else(|| format!("no field `{field}` to parse"))?;
    let claimed = &mut Vec::new();
    match parser {
        Parser::Grok(set) => {
            let (_, captures) = set.captures(&input).ok_or("no grok pattern matched")?;
            for (name, v) in captures {
                put(r, prefix, name, v, claimed, zone);
            }
        }
        Parser::Dissect(set) => {
            for (name, v) in set.parse(&input).ok_or("no dissect pattern matched")? {
                put(r, prefix, name, v, claimed, zone);
            }
        }
        Parser::Logfmt => {
            for (k, v) in logfmt::parse(&input).map_err(|e| e.to_string())? {
                put(r, prefix, &k, typed(v, infer_types), claimed, zone);
            }
        }
        Parser::Kv(opts) => {
            let pairs = kv::parse(&input, opts);
            if pairs.is_empty() {
                return Err("no key=value pairs found".into());
            }
            for (k, v) in pairs {
                put(r, prefix, &k, typed(v, infer_types), claimed, zone);
            }
        }
        Parser::Regex(re) => {
            for (k, v) in re.parse(&input).ok_or("the regex did not match")? {
                put(r, prefix, &k, typed(v, infer_types), claimed, zone);
            }
        }
        Parser::Json => {
            let value: serde_json::Value = serde_json::from_str(input.trim()).map_err(|e| format!("invalid JSON: {e}"))?;
            let serde_json::Value::Object(map) = value else { return Err("not a JSON object".into()) };
            let mut flat = std::collections::BTreeMap::new();
            for (k, v) in map {
                crate::normalize::flatten(&mut flat, k, v, 0);
            }
            for (k, v) in flat {
                put(r, prefix, &k, v, claimed, zone);
            }
        }
    }
    Ok(())
}

fn to_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn to_int(s: &str) -> Option<i64> {
    let s = s.trim();
    s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
}

fn convert(r: &mut LogRecord, field: &str, to: TargetType, format: Option<&str>, zone: Zone) -> Result<(), String> {
    // A `timestamp` capture that could not become the event time was kept as a field of that
    // name: converting `timestamp` means converting it, not the event time it failed to set.
    let kept = matches!(field, "timestamp" | "@timestamp") && r.fields.contains_key(field);
    let Some(value) = (if kept { r.fields.get(field).map(value_text) } else { text(r, field) }) else { return Ok(()) };
    let bad = |what: &str| format!("cannot convert {value:?} to {what}");
    let converted = match to {
        TargetType::Int => FieldValue::Long(to_int(&value).ok_or_else(|| bad("an integer"))?),
        TargetType::Float => FieldValue::Double(value.trim().parse().map_err(|_| bad("a number"))?),
        TargetType::Bool => FieldValue::Bool(to_bool(&value).ok_or_else(|| bad("a boolean"))?),
        TargetType::String => FieldValue::String(value),
        TargetType::Timestamp => {
            let cx = TimeContext { zone, received_at: r.received_at };
            let micros = match format {
                Some(f) => match DateTime::parse_from_str(value.trim(), f) {
                    Ok(d) => d.timestamp_micros(),
                    Err(zoned) => {
                        let naive = NaiveDateTime::parse_from_str(value.trim(), f).map_err(|_| format!("{} with format {f:?}: {zoned}", bad("a time")))?;
                        zone.instant(naive).ok_or_else(|| format!("{} with format {f:?}: outside 2000..2100", bad("a time")))?
                    }
                },
                None => {
                    let raw = r.fields.get(field).map_or_else(|| serde_json::Value::String(value.clone()), |v| match v {
                        FieldValue::Long(l) => (*l).into(),
                        FieldValue::Double(d) => (*d).into(),
                        other => value_text(other).into(),
                    });
                    parse_timestamp_in(&raw, &cx).ok_or_else(|| bad("a time"))?
                }
            };
            r.timestamp = micros;
            r.timestamp_source = TimestampSource::Event;
            if kept {
                // The capture's earlier failure is repaired: drop it and the note it left.
                r.fields.remove(field);
                let note = format!("{field}: ");
                r.parse_errors.retain(|e| !e.starts_with(&note));
                if r.parse_errors.is_empty() && r.parse_status == ParseStatus::Partial {
                    r.parse_status = ParseStatus::Ok;
                }
            }
            return Ok(());
        }
    };
    assign(r, field, converted, zone)
}

fn run(step: &CompiledStep, r: &mut LogRecord, zone: Zone) -> Result<Flow, String> {
    match step {
        CompiledStep::Parse { field, parser, prefix, infer, ignore_failure } => match parse(r, field, parser, prefix, *infer, zone) {
            Err(_) if *ignore_failure => {}
            other => other?,
        },
        CompiledStep::Rename { from, to } => {
            if let Some(v) = fields::take(r, from) {
                assign(r, to, v, zone)?;
            }
        }
        CompiledStep::Remove(names) => {
            for n in names {
                fields::remove(r, n);
            }
        }
        CompiledStep::Set { field, value, if_absent } => {
            if !(*if_absent && exists(r, field)) {
                assign(r, field, value.clone(), zone)?;
            }
        }
        CompiledStep::Convert { field, to, format } => convert(r, field, *to, format.as_deref(), zone)?,
        CompiledStep::MapLevel { field, map } => {
            if let Some(v) = text(r, field) {
                let key = v.trim().to_lowercase();
                r.level = map.get(&key).copied().or_else(|| parse_level(&v)).ok_or_else(|| format!("{v:?} is not a level and not in `map`"))?;
            }
        }
        CompiledStep::Drop => return Ok(Flow::Drop),
        CompiledStep::Multiline | CompiledStep::Auto => {}
        CompiledStep::Preset(steps) => {
            for s in steps {
                if run(s, r, zone)? == Flow::Drop {
                    return Ok(Flow::Drop);
                }
            }
        }
    }
    Ok(Flow::Continue)
}

impl Pipeline {
    /// Runs the rules in order on a record; with `trace`, records what each rule did.
    pub fn apply(&self, mut r: LogRecord, mut trace: Option<&mut Vec<RuleTrace>>) -> Outcome {
        for rule in &self.rules {
            if rule.auto.is_some() {
                // Ran before the rules (`crate::process`), when it took the record.
                continue;
            }
            let matched = rule.when.matches(&r);
            let mut t = RuleTrace { rule: rule.name.clone(), matched, steps: Vec::new() };
            if matched {
                for step in &rule.steps {
                    match run(step, &mut r, rule.zone) {
                        Ok(Flow::Continue) => t.steps.push(StepTrace { step: step.kind(), ok: true, error: None }),
                        Ok(Flow::Drop) => {
                            t.steps.push(StepTrace { step: step.kind(), ok: true, error: None });
                            if let Some(tr) = trace.as_deref_mut() {
                                tr.push(t);
                            }
                            metrics::counter!("nexuslog_pipeline_dropped_total").increment(1);
                            return Outcome::Dropped { rule: rule.name.clone() };
                        }
                        Err(e) => {
                            metrics::counter!("nexuslog_pipeline_step_failures_total", "step" => step.kind()).increment(1);
                            let note = format!("rule {:?} ({}): {}: {e}", rule.name, rule.id, step.kind());
                            t.steps.push(StepTrace { step: step.kind(), ok: false, error: Some(e) });
                            if rule.on_error == OnError::DeadLetter {
                                if let Some(tr) = trace.as_deref_mut() {
                                    tr.push(t);
                                }
                                return Outcome::DeadLetter { record: r, rule: rule.name.clone(), reason: note };
                            }
                            // The rest of this rule depends on the failed step: skip it, keep the record.
                            r.parse_status = ParseStatus::Partial;
                            r.parse_errors.push(note);
                            break;
                        }
                    }
                }
            }
            if let Some(tr) = trace.as_deref_mut() {
                tr.push(t);
            }
        }
        Outcome::Record(r)
    }
}
