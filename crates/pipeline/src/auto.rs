//! Auto mode: a rule `{"when": {...}, "steps": [{"auto": {}}]}` parses the events of each
//! source it selects (by service, else host, else transport) with the preset that suits that
//! source best, chosen from the source's first lines and then kept.
//!
//! - **Sampling**: a source's first [`SAMPLE_LINES`] lines are ranked exactly as
//!   `POST /pipeline/detect` ranks sample lines ([`crate::presets::detect`]); meanwhile each
//!   line is parsed by the best preset for that line alone, so nothing waits.
//! - **Chosen**: the best preset (if any parses at least half the sample) parses every later
//!   line. Its success is counted per [`WINDOW`] lines; when fewer than half parse, the source
//!   is sampled again under the next *generation*.
//! - **Shared**: each choice is a proposal ([`AutoChooser::take_proposals`]) that the processor
//!   stores first-writer-wins under (project, rule, source, generation) and audits; what the
//!   store holds is adopted ([`AutoChooser::adopt`]), so every replica parses a source with the
//!   same preset even though each saw different lines.
//!
//! Only events no other rule selects reach it: the rule runs before the others, and only when
//! none of them would match the event as it arrived.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use nexuslog_schemas::{FieldValue, LogRecord, ParseStatus};

use crate::rules::{Outcome, RuleTrace, StepTrace};

/// Lines of a source ranked before a preset is chosen.
pub const SAMPLE_LINES: usize = 20;
/// Lines over which a chosen preset's success is judged.
pub const WINDOW: u32 = 200;
/// With no preset fitting, lines before the source is sampled again.
const NOTHING_FITS_WINDOW: u32 = 10_000;
/// Sources one rule keeps a choice for; events of further sources are left as they are.
const MAX_SOURCES: usize = 10_000;
/// The field naming the preset that parsed an event in auto mode.
pub const PRESET_FIELD: &str = "auto.preset";

#[derive(Debug)]
enum State {
    Sampling { generation: u32, lines: Vec<String> },
    Chosen { generation: u32, preset: Option<&'static str>, ok: u32, seen: u32 },
}

/// A choice to store and audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub source: String,
    pub generation: u32,
    /// `None`: no preset parses the source's lines.
    pub preset: Option<&'static str>,
    /// Share of the sample the preset parsed completely.
    pub share: f64,
    /// The preset this choice replaces (its success dropped).
    pub previous: Option<&'static str>,
}

/// One auto rule's per-source choices. Shared by the processing tasks.
#[derive(Debug, Default)]
pub struct AutoChooser {
    sources: Mutex<HashMap<String, State>>,
    proposals: Mutex<Vec<Proposal>>,
    /// Per source being sampled again: the preset whose success dropped.
    replaced: Mutex<HashMap<String, Option<&'static str>>>,
}

/// The source an event belongs to for auto mode.
fn source_of(r: &LogRecord) -> String {
    r.service.clone().or_else(|| r.host.clone()).unwrap_or_else(|| r.source.symbol().to_owned())
}

/// Applies preset `name` to `r`; whether every step succeeded. `None` only if the preset
/// dropped the record, which no preset does.
fn run_preset(name: &str, r: LogRecord, trace: Option<&mut Vec<RuleTrace>>) -> Option<(LogRecord, bool)> {
    let Some(pipeline) = crate::presets::pipeline(name) else { return Some((r, false)) };
    let mut steps = Vec::new();
    let record = match pipeline.apply(r, Some(&mut steps)) {
        Outcome::Record(r) | Outcome::DeadLetter { record: r, .. } => r,
        Outcome::Dropped { .. } => return None,
    };
    let ok = record.parse_status == ParseStatus::Ok && steps.iter().all(|t| t.steps.iter().all(|s| s.ok));
    if let Some(t) = trace {
        t.extend(steps);
    }
    Some((record, ok))
}

/// The presets for `lines`, best first, as detection ranks them; without the generic `json`
/// preset for JSON events: the normalizer already reads them, so it would explain nothing.
fn rank(lines: &[String], received_at: i64) -> Vec<crate::presets::Detection> {
    let mut ranked = crate::presets::detect(lines, received_at);
    if lines.iter().all(|l| l.starts_with('{')) {
        ranked.retain(|d| d.preset != "json");
    }
    ranked
}

impl AutoChooser {
    /// Parses `r` (whose text as sent is `line`) with its source's preset; records what
    /// happened in `trace` under `rule`.
    pub fn parse(&self, rule: &str, line: &str, mut r: LogRecord, trace: Option<&mut Vec<RuleTrace>>, received_at: i64) -> Option<LogRecord> {
        let source = source_of(&r);
        let (preset, by_choice) = self.preset_for(&source, line, received_at);
        let Some(name) = preset else {
            if by_choice {
                // Nothing fitted the sample: the source is sampled again after a long window.
                self.count(&source, false);
            }
            if let Some(t) = trace {
                t.push(RuleTrace { rule: rule.to_owned(), matched: true, steps: vec![StepTrace { step: "auto", ok: false, error: Some("no preset parses this source's lines".into()) }] });
            }
            return Some(r);
        };
        r.fields.insert(PRESET_FIELD.to_owned(), FieldValue::String(name.to_owned()));
        let mut steps = Vec::new();
        let (record, ok) = run_preset(name, r, trace.is_some().then_some(&mut steps))?;
        if by_choice {
            self.count(&source, ok);
        }
        if let Some(t) = trace {
            t.push(RuleTrace { rule: rule.to_owned(), matched: true, steps: vec![StepTrace { step: "auto", ok, error: (!ok).then(|| format!("preset {name} did not parse it completely")) }] });
            t.extend(steps);
        }
        Some(record)
    }

    /// The preset to parse this line with, sampling the source as needed; whether it is the
    /// source's choice (not just the best for this line while sampling).
    fn preset_for(&self, source: &str, line: &str, received_at: i64) -> (Option<&'static str>, bool) {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if !sources.contains_key(source) {
            if sources.len() >= MAX_SOURCES {
                return (None, false);
            }
            sources.insert(source.to_owned(), State::Sampling { generation: 0, lines: Vec::new() });
        }
        let Some(state) = sources.get_mut(source) else { return (None, false) };
        match state {
            State::Chosen { preset, .. } => (*preset, true),
            State::Sampling { generation, lines } => {
                lines.push(line.to_owned());
                let best_for_line = rank(std::slice::from_ref(&lines[lines.len() - 1]), received_at).first().map(|d| d.preset);
                if lines.len() >= SAMPLE_LINES {
                    let ranked = rank(lines, received_at);
                    let best = ranked.first().filter(|d| d.share >= 0.5);
                    let proposal = Proposal { source: source.to_owned(), generation: *generation, preset: best.map(|d| d.preset), share: best.map_or(0.0, |d| d.share), previous: None };
                    *state = State::Chosen { generation: proposal.generation, preset: proposal.preset, ok: 0, seen: 0 };
                    self.proposals.lock().unwrap_or_else(PoisonError::into_inner).push(proposal);
                }
                (best_for_line, false)
            }
        }
    }

    /// Counts a chosen preset's success; too many failures start a new sample.
    fn count(&self, source: &str, parsed: bool) {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(State::Chosen { generation, preset, ok, seen }) = sources.get_mut(source) else { return };
        *seen += 1;
        *ok += u32::from(parsed);
        let window = if preset.is_some() { WINDOW } else { NOTHING_FITS_WINDOW };
        if *seen < window {
            return;
        }
        if *ok * 2 >= *seen {
            (*ok, *seen) = (0, 0);
            return;
        }
        // The processor logs and audits the new choice, naming the one it replaces.
        metrics::counter!("nexuslog_pipeline_auto_rechosen_total").increment(1);
        let next = State::Sampling { generation: *generation + 1, lines: Vec::new() };
        let previous = *preset;
        sources.insert(source.to_owned(), next);
        drop(sources);
        // The new choice will say what it replaced.
        self.replaced.lock().unwrap_or_else(PoisonError::into_inner).insert(source.to_owned(), previous);
    }

    /// The choices made since the last call, to store and audit.
    pub fn take_proposals(&self) -> Vec<Proposal> {
        let mut out = std::mem::take(&mut *self.proposals.lock().unwrap_or_else(PoisonError::into_inner));
        let mut replaced = self.replaced.lock().unwrap_or_else(PoisonError::into_inner);
        for p in &mut out {
            p.previous = replaced.remove(&p.source).flatten();
        }
        out
    }

    /// Puts back proposals that could not be stored.
    pub fn requeue(&self, proposals: impl IntoIterator<Item = Proposal>) {
        self.proposals.lock().unwrap_or_else(PoisonError::into_inner).extend(proposals);
    }

    /// Takes the choice stored for (source, generation), which may be another replica's.
    pub fn adopt(&self, source: &str, generation: u32, preset: Option<&'static str>) {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(State::Chosen { generation: g, preset: p, .. }) = sources.get_mut(source) {
            if *g == generation {
                *p = preset;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use nexuslog_schemas::{RawEvent, SourceKind};
    use serde_json::json;

    use super::*;
    use crate::{Pipeline, RuleSpec};

    fn pipeline(rules: serde_json::Value) -> Pipeline {
        let specs: Vec<RuleSpec> = serde_json::from_value(rules).expect("rules");
        Pipeline::compile(specs.iter().map(|s| (s.name.as_str(), s)), 1).expect("compiles")
    }

    fn record(p: &Pipeline, service: &str, line: &str) -> LogRecord {
        let payload = json!({ "service": service, "message": line }).to_string().into_bytes();
        let raw = RawEvent { ingest_id: "i".into(), project_id: "p".into(), source: SourceKind::Http, received_at: 1_700_000_000_000_000, remote_addr: None, payload, metadata: Default::default() };
        match crate::process(&raw, p, None).expect("processes") {
            Outcome::Record(r) => r,
            other => panic!("{other:?}"),
        }
    }

    fn example(name: &str) -> &'static str {
        crate::presets::preset(name).expect("preset").example
    }

    fn chosen(r: &LogRecord) -> Option<&str> {
        match r.fields.get(PRESET_FIELD) {
            Some(FieldValue::String(s)) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn a_source_gets_the_preset_of_its_first_lines_then_another_when_it_stops_parsing() {
        let p = pipeline(json!([{ "name": "auto", "steps": [{ "auto": {} }] }]));
        let chooser = p.auto_choosers().next().expect("an auto rule").1;
        for _ in 0..SAMPLE_LINES + 5 {
            let r = record(&p, "edge", example("nginx_access"));
            assert_eq!(chosen(&r), Some("nginx_access"));
            assert_eq!(r.fields.get("http.response.status_code"), Some(&FieldValue::Long(200)), "{r:?}");
        }
        let first = chooser.take_proposals();
        assert_eq!(first, vec![Proposal { source: "edge".into(), generation: 0, preset: Some("nginx_access"), share: 1.0, previous: None }]);
        // Another source is sampled on its own.
        assert_eq!(chosen(&record(&p, "db", example("postgresql"))), Some("postgresql"));

        // The source now sends another format: once a window holds more failures than
        // successes, the source is sampled again.
        let mut failed = 0;
        for _ in 0..WINDOW - 5 {
            let r = record(&p, "edge", example("apache_error"));
            failed += usize::from(r.parse_status == ParseStatus::Partial && chosen(&r) == Some("nginx_access"));
        }
        assert_eq!(failed, WINDOW as usize - 5, "parsed by the old choice, which fails");
        assert!(chooser.take_proposals().is_empty());
        for _ in 0..SAMPLE_LINES {
            assert_eq!(chosen(&record(&p, "edge", example("apache_error"))), Some("apache_error"));
        }
        let again = chooser.take_proposals();
        assert_eq!(again, vec![Proposal { source: "edge".into(), generation: 1, preset: Some("apache_error"), share: 1.0, previous: Some("nginx_access") }]);
    }

    #[test]
    fn the_stored_choice_wins_and_other_rules_keep_their_events() {
        let p = pipeline(json!([
            { "name": "api", "when": { "service": "api" }, "steps": [{ "set": { "field": "x", "value": 1 } }] },
            { "name": "auto", "steps": [{ "auto": {} }] },
        ]));
        let chooser = p.auto_choosers().next().expect("an auto rule").1;
        let api = record(&p, "api", example("nginx_access"));
        assert_eq!((chosen(&api), api.fields.get("x")), (None, Some(&FieldValue::Long(1))), "a rule selects it: auto leaves it");
        for _ in 0..SAMPLE_LINES {
            record(&p, "web", example("nginx_access"));
        }
        // Another replica stored its choice first: it is adopted.
        chooser.adopt("web", 0, Some("apache_access"));
        assert_eq!(chosen(&record(&p, "web", example("nginx_access"))), Some("apache_access"));
    }

    #[test]
    fn lines_no_preset_parses_are_left_as_they_are() {
        let p = pipeline(json!([{ "name": "auto", "steps": [{ "auto": {} }] }]));
        for _ in 0..SAMPLE_LINES + 1 {
            let r = record(&p, "prose", "the quick brown fox jumps over the lazy dog");
            assert_eq!((chosen(&r), r.parse_status, r.message.as_str()), (None, ParseStatus::Ok, "the quick brown fox jumps over the lazy dog"));
        }
        let proposals = p.auto_choosers().next().expect("auto").1.take_proposals();
        assert_eq!(proposals.iter().map(|p| p.preset).collect::<Vec<_>>(), vec![None]);
    }

    #[test]
    fn auto_is_a_rule_of_its_own() {
        let spec: RuleSpec = serde_json::from_value(json!({ "name": "a", "steps": [{ "auto": {} }, { "drop": {} }] })).expect("reads");
        assert!(Pipeline::validate(&spec).is_err());
    }
}
