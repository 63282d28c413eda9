//! Any line, through a pipeline using every kind of step: never a panic, always an outcome
//! for the same event id (every line comes from the network).
#![allow(clippy::unwrap_used)]

use nexuslog_pipeline::{process, Outcome, Pipeline, RuleSpec};
use nexuslog_schemas::{RawEvent, SourceKind};
use proptest::prelude::*;
use serde_json::json;

/// Compiled once: compiling the grok patterns per case would dominate the test.
fn everything() -> &'static Pipeline {
    static P: std::sync::OnceLock<Pipeline> = std::sync::OnceLock::new();
    P.get_or_init(compile_everything)
}

fn compile_everything() -> Pipeline {
    let rules: Vec<RuleSpec> = serde_json::from_value(json!([
        { "name": "grok", "steps": [ { "parse": { "with": "grok", "patterns": ["%{NGINXACCESS}", "%{SYSLOGBASE} %{GREEDYDATA:message}", "%{JAVALOG}"] } } ] },
        { "name": "logfmt", "steps": [ { "parse": { "with": "logfmt", "prefix": "l." } } ] },
        { "name": "kv", "steps": [ { "parse": { "with": "kv", "field_split": " ,", "value_split": "=:" } } ] },
        { "name": "regex", "steps": [ { "parse": { "with": "regex", "pattern": "(?P<level>[A-Z]{4,5}) (?P<rest>.*)" } } ] },
        { "name": "json", "when": { "field": { "name": "message", "matches": "^\\{" } }, "steps": [ { "parse": { "with": "json", "prefix": "j." } } ] },
        { "name": "shape", "steps": [
            { "rename": { "from": "rest", "to": "message" } },
            { "convert": { "field": "response", "to": "int" } },
            { "convert": { "field": "l.ts", "to": "timestamp" } },
            { "convert": { "field": "l.when", "to": "timestamp", "format": "%d/%m/%Y %H:%M" } },
            { "map_level": { "field": "l.lvl", "map": { "w": "warn" } } },
            { "set": { "field": "host", "value": "h", "if_absent": true } },
            { "remove": { "fields": ["l.secret", "message"] } } ] },
        { "name": "strict", "on_error": "dead_letter", "when": { "field": { "name": "l.strict", "exists": true } }, "steps": [ { "convert": { "field": "l.strict", "to": "bool" } } ] },
        { "name": "drop", "when": { "field": { "name": "l.drop", "equals": "yes" } }, "steps": [ { "drop": {} } ] },
    ]))
    .unwrap();
    Pipeline::compile(rules.iter().map(|r| ("p", r)), 1).unwrap()
}

fn raw(payload: Vec<u8>, source: SourceKind) -> RawEvent {
    RawEvent { ingest_id: "the-id".into(), project_id: "p".into(), source, received_at: 1_800_000_000_000_000, remote_addr: None, payload, metadata: Default::default() }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_text_line_has_an_outcome(line in "[ -~\\t]{0,200}", syslog in any::<bool>()) {
        let p = everything();
        let source = if syslog { SourceKind::Syslog } else { SourceKind::Http };
        match process(&raw(line.into_bytes(), source), p, None) {
            Ok(Outcome::Record(r)) | Ok(Outcome::DeadLetter { record: r, .. }) => prop_assert_eq!(r.id, "the-id"),
            Ok(Outcome::Dropped { .. }) | Err(_) => {}
        }
    }

    #[test]
    fn structured_looking_lines_have_an_outcome(
        pairs in proptest::collection::vec(("[a-z.]{1,6}", "[ -~]{0,12}"), 0..8),
        quote in any::<bool>(),
    ) {
        let line: Vec<String> = pairs.iter().map(|(k, v)| if quote { format!("{k}=\"{v}\"") } else { format!("{k}={v}") }).collect();
        let p = everything();
        let out = process(&raw(line.join(" ").into_bytes(), SourceKind::Http), p, None);
        prop_assert!(out.is_ok());
    }

    #[test]
    fn any_bytes_have_an_outcome(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let p = everything();
        let _ = process(&raw(bytes, SourceKind::Http), p, None);
    }
}
