//! The rules a processor matches each record against, indexed so that a record is evaluated
//! only against the rules it could match.
//!
//! Most rules name a service, a host or a level (`level:error service:checkout`,
//! `level:>=error`, `service:a OR service:b`): a rule whose query requires one of a few exact
//! standard-field values is filed under each of them, and a record looks up its own values
//! instead of trying every rule. Rules without such a condition (free text only, say) are tried
//! on every record. The index only skips rules whose required condition fails, so the records a
//! rule counts are the same as with a scan (a property test checks it).

use std::sync::Arc;

use foldhash::HashMap;

use nexuslog_query::{levels_in, parse_level, standard_value, FieldOp, FieldRef, Query, StandardField};
use nexuslog_schemas::{Level, LogRecord};

use crate::spec::Rule;

/// A value a rule requires: what the index is keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Level(Level),
    Standard(StandardField, String),
}

/// Enabled rules, indexed by a value each one requires.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
    /// By level, then by standard field and value (looked up with the record's `&str`).
    by_level: HashMap<Level, Vec<usize>>,
    by_value: Vec<(StandardField, HashMap<String, Vec<usize>>)>,
    /// Rules requiring no indexable value: tried on every record.
    scan: Vec<usize>,
}

impl RuleSet {
    /// Indexes the enabled ones of `rules`.
    pub fn new(rules: impl IntoIterator<Item = Arc<Rule>>) -> Self {
        let mut set = RuleSet::default();
        for rule in rules.into_iter().filter(|r| r.enabled) {
            let i = set.rules.len();
            match required_terms(&rule.query) {
                Some(terms) => {
                    for term in terms {
                        set.file(term, i);
                    }
                }
                None => set.scan.push(i),
            }
            set.rules.push(rule);
        }
        set
    }

    fn file(&mut self, term: Term, rule: usize) {
        let list = match term {
            Term::Level(l) => self.by_level.entry(l).or_default(),
            Term::Standard(f, v) => {
                let at = match self.by_value.iter().position(|(g, _)| *g == f) {
                    Some(at) => at,
                    None => {
                        self.by_value.push((f, HashMap::default()));
                        self.by_value.len() - 1
                    }
                };
                self.by_value[at].1.entry(v).or_default()
            }
        };
        if list.last() != Some(&rule) {
            list.push(rule);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// The rules `record` may match, each once, in the order they were given: every rule the
    /// record matches is among them.
    pub fn candidates(&self, record: &LogRecord) -> impl Iterator<Item = &Arc<Rule>> {
        let mut hits: Vec<usize> = self.scan.clone();
        if let Some(list) = self.by_level.get(&record.level) {
            hits.extend(list);
        }
        for (f, values) in &self.by_value {
            if let Some(list) = standard_value(record, *f).and_then(|v| values.get(v)) {
                hits.extend(list);
            }
        }
        // A rule filed under several values (`service:a OR host:b`) may be hit twice.
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|i| &self.rules[i])
    }
}

/// Exact standard-field values one of which every record `query` matches has, if there is such
/// a short list: an equality, a level range, an OR of those, or the most selective such part of
/// an AND. Symbol fields (source, parse status) compare case-insensitively and are rarely
/// selective, so they are not indexed.
fn required_terms(query: &Query) -> Option<Vec<Term>> {
    match query {
        Query::Field { field: FieldRef::Standard(f), op: FieldOp::Eq(v) } if !f.is_symbol() => Some(vec![Term::Standard(*f, v.clone())]),
        Query::Field { field: FieldRef::Level, op: FieldOp::Eq(v) } => parse_level(v).map(|l| vec![Term::Level(l)]),
        Query::Field { field: FieldRef::Level, op: FieldOp::Range { lower, upper } } => Some(levels_in(lower, upper).into_iter().map(Term::Level).collect()),
        Query::Or(parts) => parts.iter().map(required_terms).try_fold(Vec::new(), |mut all, terms| {
            all.extend(terms?);
            Some(all)
        }),
        // Values of a field other than the level narrow more (a level is shared by a fifth of
        // the records or more); then fewer values.
        Query::And(parts) => parts.iter().filter_map(required_terms).min_by_key(|terms| (terms.iter().any(|t| matches!(t, Term::Level(_))), terms.len())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use nexuslog_schemas::{ParseStatus, SourceKind, TimestampSource};
    use proptest::prelude::*;

    use super::*;
    use crate::RuleSpec;

    fn rule(i: usize, query: &str) -> Arc<Rule> {
        let spec: RuleSpec = serde_json::from_value(serde_json::json!({
            "name": format!("r{i}"), "query": query, "window": "1m", "condition": {"op": ">", "threshold": 1}
        }))
        .expect("spec");
        Arc::new(spec.compile(&format!("r{i}"), "p").expect("compile"))
    }

    fn terms(q: &str) -> Option<Vec<Term>> {
        required_terms(&nexuslog_query::parse(q).expect("query"))
    }

    fn service(v: &str) -> Term {
        Term::Standard(StandardField::Service, v.into())
    }

    #[test]
    fn rules_are_filed_under_the_values_they_require() {
        assert_eq!(terms("level:error service:checkout"), Some(vec![service("checkout")]));
        assert_eq!(terms("level:WARNING timeout"), Some(vec![Term::Level(Level::Warn)]));
        assert_eq!(terms("level:>=error"), Some(vec![Term::Level(Level::Error), Term::Level(Level::Fatal)]));
        assert_eq!(terms("service:a OR service:b"), Some(vec![service("a"), service("b")]));
        assert_eq!(terms("timeout (service:a OR host:h)"), Some(vec![service("a"), Term::Standard(StandardField::Host, "h".into())]));
        assert_eq!(terms("service:a OR timeout"), None);
        assert_eq!(terms("-service:a"), None);
        assert_eq!(terms("source:http"), None);
        assert_eq!(terms("timeout"), None);
    }

    #[test]
    fn disabled_rules_are_left_out() {
        let mut off = (*rule(1, "x")).clone();
        off.enabled = false;
        let set = RuleSet::new([rule(0, "x"), Arc::new(off)]);
        assert_eq!(set.len(), 1);
    }

    const QUERIES: [&str; 12] = [
        "level:error service:a",
        "service:b",
        "level:>=warn",
        "level:warning timeout",
        "service:a OR host:h1",
        "timeout (service:b OR host:h2)",
        "timeout",
        "-service:a",
        "level:info OR level:debug",
        "service:a level:error OR service:b",
        "host:h1 level:>=error service:c",
        "source:http",
    ];

    proptest! {
        /// Whatever the record, the candidates hold every rule it matches, each once.
        #[test]
        fn candidates_hold_every_matching_rule_once(
            level in prop::sample::select(vec![Level::Debug, Level::Info, Level::Warn, Level::Error, Level::Fatal, Level::Unknown]),
            service in prop::option::of(prop::sample::select(vec!["a", "b", "c", "A"])),
            host in prop::option::of(prop::sample::select(vec!["h1", "h2"])),
            message in prop::sample::select(vec!["request timeout", "ok", ""]),
        ) {
            let rules: Vec<Arc<Rule>> = QUERIES.iter().enumerate().map(|(i, q)| rule(i, q)).collect();
            let set = RuleSet::new(rules.clone());
            let record = LogRecord {
                id: "x".into(), project_id: "p".into(), timestamp: 0, timestamp_source: TimestampSource::Event, received_at: 0,
                level, message: message.into(), host: host.map(str::to_owned), service: service.map(str::to_owned),
                source: SourceKind::Http, fields: Default::default(), parse_status: ParseStatus::Ok, parse_errors: Vec::new(),
                trace_id: None, span_id: None,
            };
            let candidates: Vec<&str> = set.candidates(&record).map(|r| r.id.as_str()).collect();
            let mut unique = candidates.clone();
            unique.dedup();
            prop_assert_eq!(&unique, &candidates);
            for r in &rules {
                if nexuslog_query::matches(&r.query, &record) {
                    prop_assert!(candidates.contains(&r.id.as_str()), "{} matches but is not a candidate", r.id);
                }
            }
        }
    }
}
