//! How big a pipeline may be. Rules are written by users and compiled in a shared process (the
//! API's dry runs, every processor), so each dimension that costs CPU or memory at compile or
//! run time is bounded and checked at save time, where the error names the rule and step.
//!
//! The regex engine runs in linear time, so what is left to bound is the compiled size of each
//! pattern (see `nexuslog_parsers::grok::REGEX_SIZE_LIMIT`) and how many of them there are.

use super::spec::{RuleSpec, Step};

/// Rules in one project's pipeline (enabled or not).
pub const MAX_RULES: usize = 100;
/// Steps in one rule.
pub const MAX_STEPS: usize = 32;
/// Grok patterns tried by one parse step.
pub const MAX_GROK_PATTERNS: usize = 16;
/// Custom grok definitions in one parse step.
pub const MAX_GROK_DEFINITIONS: usize = 64;
/// Characters in one pattern: a grok pattern or definition, a regex, `when.field.matches`,
/// a host or service glob, a timestamp format.
pub const MAX_PATTERN_CHARS: usize = 4096;
/// Entries of a `map_level` map or a `remove` list.
pub const MAX_LIST_ENTRIES: usize = 256;

fn pattern(what: &str, s: &str) -> Result<(), String> {
    let n = s.chars().count();
    if n > MAX_PATTERN_CHARS {
        return Err(format!("`{what}` is {n} characters long; the limit is {MAX_PATTERN_CHARS}"));
    }
    Ok(())
}

/// The rule-level limits: counts and lengths, checked before anything is compiled so an
/// oversized rule costs nothing. `Err((step, message))`, `step` 0-based.
pub(crate) fn check(r: &RuleSpec) -> Result<(), (Option<usize>, String)> {
    if r.steps.len() > MAX_STEPS {
        return Err((None, format!("{} steps; a rule has at most {MAX_STEPS}", r.steps.len())));
    }
    let when = &r.when;
    for (what, value) in [("when.host", &when.host), ("when.service", &when.service)] {
        value.as_deref().map_or(Ok(()), |v| pattern(what, v)).map_err(|m| (None, m))?;
    }
    if let Some(m) = when.field.as_ref().and_then(|f| f.matches.as_deref()) {
        pattern("when.field.matches", m).map_err(|m| (None, m))?;
    }
    for (i, s) in r.steps.iter().enumerate() {
        step(s).map_err(|m| (Some(i), m))?;
    }
    Ok(())
}

fn step(s: &Step) -> Result<(), String> {
    match s {
        Step::Parse(p) => {
            if p.patterns.len() > MAX_GROK_PATTERNS {
                return Err(format!("{} grok patterns; a step has at most {MAX_GROK_PATTERNS}", p.patterns.len()));
            }
            if p.definitions.len() > MAX_GROK_DEFINITIONS {
                return Err(format!("{} grok definitions; a step has at most {MAX_GROK_DEFINITIONS}", p.definitions.len()));
            }
            p.patterns.iter().try_for_each(|x| pattern("patterns", x))?;
            p.definitions.values().try_for_each(|x| pattern("definitions", x))?;
            p.pattern.as_deref().map_or(Ok(()), |x| pattern("pattern", x))
        }
        Step::Remove { fields } if fields.len() > MAX_LIST_ENTRIES => {
            Err(format!("{} fields to remove; the limit is {MAX_LIST_ENTRIES}", fields.len()))
        }
        Step::MapLevel { map, .. } if map.len() > MAX_LIST_ENTRIES => {
            Err(format!("{} `map` entries; the limit is {MAX_LIST_ENTRIES}", map.len()))
        }
        Step::Convert { format: Some(f), .. } => pattern("format", f),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rules::Pipeline;

    fn rule(json: serde_json::Value) -> RuleSpec {
        serde_json::from_value(json).expect("a rule")
    }

    #[test]
    fn every_dimension_is_bounded_and_named() {
        let steps: Vec<_> = (0..=MAX_STEPS).map(|_| serde_json::json!({ "drop": {} })).collect();
        let e = Pipeline::validate(&rule(serde_json::json!({ "name": "long", "steps": steps }))).unwrap_err();
        assert_eq!((e.step, e.message.contains("at most 32")), (None, true), "{e}");

        let long = "a".repeat(MAX_PATTERN_CHARS + 1);
        let matches = rule(serde_json::json!({ "name": "m", "when": { "field": { "name": "message", "matches": long } }, "steps": [{ "drop": {} }] }));
        assert!(Pipeline::validate(&matches).unwrap_err().message.contains("`when.field.matches` is 4097 characters"));

        let patterns: Vec<_> = (0..=MAX_GROK_PATTERNS).map(|_| "%{WORD:w}").collect();
        let grok = rule(serde_json::json!({ "name": "g", "steps": [{ "drop": {} }, { "parse": { "with": "grok", "patterns": patterns } }] }));
        let e = Pipeline::validate(&grok).unwrap_err();
        assert_eq!((e.step, e.message.contains("17 grok patterns")), (Some(1), true), "{e}");

        let map: serde_json::Map<_, _> = (0..=MAX_LIST_ENTRIES).map(|i| (format!("v{i}"), serde_json::json!("info"))).collect();
        let e = Pipeline::validate(&rule(serde_json::json!({ "name": "l", "steps": [{ "map_level": { "field": "lvl", "map": map } }] }))).unwrap_err();
        assert!(e.message.contains("257 `map` entries"), "{e}");
    }

    #[test]
    fn a_regex_that_compiles_too_big_is_refused_not_built() {
        // Short to write, huge once compiled: the size limit stops it at save time.
        let bomb = rule(serde_json::json!({ "name": "bomb", "when": { "field": { "name": "message", "matches": "(\\w{100}){100}" } }, "steps": [{ "drop": {} }] }));
        let e = Pipeline::validate(&bomb).unwrap_err();
        assert!(e.message.contains("when.field.matches") && e.message.contains("limit"), "{e}");
    }

    #[test]
    fn a_pipeline_has_at_most_max_rules() {
        let specs: Vec<RuleSpec> = (0..=MAX_RULES).map(|i| rule(serde_json::json!({ "name": format!("r{i}"), "steps": [{ "drop": {} }] }))).collect();
        let e = Pipeline::compile(specs.iter().map(|s| ("id", s)), 1).unwrap_err();
        assert!(e.message.contains("101 rules"), "{e}");
        assert!(Pipeline::compile(specs[..MAX_RULES].iter().map(|s| ("id", s)), 1).is_ok());
    }
}
