//! Checking and compiling rules: every mistake a user can make (an unknown grok pattern, a bad
//! regex, a level that does not exist, a non-scalar value) is found here, at save time, and
//! named by rule and step; what runs per record has nothing left to fail on but the data.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use nexuslog_parsers::dissect::DissectSet;
use nexuslog_parsers::grok::{GrokLibrary, GrokSet};
use nexuslog_parsers::kv::KvOptions;
use nexuslog_parsers::regex_parser::{self, NamedRegex};
use nexuslog_schemas::{FieldValue, Level};
use regex::Regex;

use super::spec::{Condition, OnError, ParseSpec, ParserKind, RuleSpec, Step, TargetType};
use crate::auto::AutoChooser;
use crate::multiline::Matcher;
use crate::parse_level;

/// Why a rule cannot be used; `step` is 0-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule:?}{}: {message}", step.map(|s| format!(", step {}", s + 1)).unwrap_or_default())]
pub struct RuleError {
    pub rule: String,
    pub step: Option<usize>,
    pub message: String,
}

pub(crate) struct CompiledCondition {
    pub source: Option<String>,
    pub host: Option<Regex>,
    pub service: Option<Regex>,
    pub field: Option<CompiledFieldMatch>,
}

pub(crate) struct CompiledFieldMatch {
    pub name: String,
    pub equals: Option<String>,
    pub matches: Option<Regex>,
    pub exists: Option<bool>,
}

pub(crate) enum Parser {
    Grok(GrokSet),
    Dissect(DissectSet),
    Logfmt,
    Kv(KvOptions),
    Regex(NamedRegex),
    Json,
}

pub(crate) enum CompiledStep {
    Parse { field: String, parser: Parser, prefix: String, infer: bool, ignore_failure: bool },
    Rename { from: String, to: String },
    Remove(Vec<String>),
    Set { field: String, value: FieldValue, if_absent: bool },
    Convert { field: String, to: TargetType, format: Option<String> },
    MapLevel { field: String, map: HashMap<String, Level> },
    Drop,
    /// A preset's steps, run in order; the first error is the step's.
    Preset(Vec<CompiledStep>),
    /// Done by the gateway on arrival (see `crate::multiline`); nothing to do here.
    Multiline,
    /// Done before the rules by `crate::process` (see `crate::auto`).
    Auto,
}

impl CompiledStep {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CompiledStep::Parse { parser: Parser::Grok(_), .. } => "parse grok",
            CompiledStep::Parse { parser: Parser::Dissect(_), .. } => "parse dissect",
            CompiledStep::Parse { parser: Parser::Logfmt, .. } => "parse logfmt",
            CompiledStep::Parse { parser: Parser::Kv(_), .. } => "parse kv",
            CompiledStep::Parse { parser: Parser::Regex(_), .. } => "parse regex",
            CompiledStep::Parse { parser: Parser::Json, .. } => "parse json",
            CompiledStep::Rename { .. } => "rename",
            CompiledStep::Remove(_) => "remove",
            CompiledStep::Set { .. } => "set",
            CompiledStep::Convert { .. } => "convert",
            CompiledStep::MapLevel { .. } => "map_level",
            CompiledStep::Drop => "drop",
            CompiledStep::Preset(_) => "preset",
            CompiledStep::Multiline => "multiline",
            CompiledStep::Auto => "auto",
        }
    }
}

pub(crate) struct CompiledRule {
    pub id: String,
    pub name: String,
    pub when: CompiledCondition,
    pub steps: Vec<CompiledStep>,
    pub on_error: OnError,
    /// Where times without a zone are read.
    pub zone: crate::timestamp::Zone,
    /// The rule's multiline step, which the gateway runs.
    pub multiline: Option<Matcher>,
    /// An auto rule's per-source preset choices.
    pub auto: Option<Arc<AutoChooser>>,
}

/// A project's compiled rules, applied in order. Cheap to share between threads.
#[derive(Default)]
pub struct Pipeline {
    pub(crate) rules: Vec<CompiledRule>,
    revision: i64,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("rules", &self.rules.len()).field("revision", &self.revision).finish()
    }
}

/// The standard grok library, built once per process.
fn standard_grok() -> &'static GrokLibrary {
    static LIB: OnceLock<GrokLibrary> = OnceLock::new();
    LIB.get_or_init(GrokLibrary::standard)
}

/// `web-*` → `^web\-.*$`.
fn glob(pattern: &str) -> Result<Regex, String> {
    let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
    Regex::new(&format!("^{}$", body.join(".*"))).map_err(|e| e.to_string())
}

fn scalar(v: &serde_json::Value) -> Result<FieldValue, String> {
    Ok(match v {
        serde_json::Value::Null => FieldValue::Null,
        serde_json::Value::Bool(b) => FieldValue::Bool(*b),
        serde_json::Value::Number(n) => n.as_i64().map_or_else(|| FieldValue::Double(n.as_f64().unwrap_or(0.0)), FieldValue::Long),
        serde_json::Value::String(s) => FieldValue::String(s.clone()),
        _ => return Err("`value` must be a string, number, boolean or null".into()),
    })
}

fn condition(c: &Condition) -> Result<CompiledCondition, String> {
    let field = match &c.field {
        None => None,
        Some(f) => Some(CompiledFieldMatch {
            name: f.name.clone(),
            equals: f.equals.clone(),
            matches: f.matches.as_deref().map(regex_parser::bounded).transpose().map_err(|e| format!("`when.field.matches`: {e}"))?,
            exists: f.exists,
        }),
    };
    Ok(CompiledCondition {
        source: c.source.as_ref().map(|s| s.to_ascii_lowercase()),
        host: c.host.as_deref().map(glob).transpose().map_err(|e| format!("`when.host`: {e}"))?,
        service: c.service.as_deref().map(glob).transpose().map_err(|e| format!("`when.service`: {e}"))?,
        field,
    })
}

fn parser(p: &ParseSpec) -> Result<Parser, String> {
    Ok(match p.with {
        ParserKind::Grok => {
            if p.patterns.is_empty() {
                return Err("grok needs at least one pattern in `patterns`".into());
            }
            let lib = if p.definitions.is_empty() {
                standard_grok().clone()
            } else {
                standard_grok().clone().with_patterns(p.definitions.clone()).map_err(|e| e.to_string())?
            };
            Parser::Grok(GrokSet::compile(&lib, &p.patterns).map_err(|e| e.to_string())?)
        }
        ParserKind::Dissect => {
            if p.patterns.is_empty() {
                return Err("dissect needs at least one pattern in `patterns`".into());
            }
            Parser::Dissect(DissectSet::compile(&p.patterns).map_err(|e| e.to_string())?)
        }
        ParserKind::Logfmt => Parser::Logfmt,
        ParserKind::Kv => {
            let mut o = KvOptions::default();
            if let Some(s) = &p.field_split {
                o.field_split.clone_from(s);
            }
            if let Some(s) = &p.value_split {
                o.value_split.clone_from(s);
            }
            if o.field_split.is_empty() || o.value_split.is_empty() {
                return Err("`field_split` and `value_split` must not be empty".into());
            }
            Parser::Kv(o)
        }
        ParserKind::Regex => {
            let pattern = p.pattern.as_deref().ok_or("regex needs `pattern`")?;
            let re = NamedRegex::new(pattern).map_err(|e| e.to_string())?;
            if re.field_names().is_empty() {
                return Err("the regex has no named group `(?P<name>...)`: it would extract nothing".into());
            }
            Parser::Regex(re)
        }
        ParserKind::Json => Parser::Json,
    })
}

fn step(s: &Step) -> Result<CompiledStep, String> {
    let named = |f: &str, what: &str| if f.trim().is_empty() { Err(format!("`{what}` must name a field")) } else { Ok(()) };
    // Said at save time; at run time the receiver's values are stamped after the rules anyway.
    let writable = |f: &str| {
        if crate::normalize::is_reserved(f) {
            Err(format!("`{f}` is set by the receiver (ingest.*, syslog.listener) and cannot be written by a rule"))
        } else {
            Ok(())
        }
    };
    Ok(match s {
        Step::Parse(p) => {
            named(&p.field, "field")?;
            if !p.prefix.is_empty() && crate::normalize::is_reserved(&p.prefix) {
                return Err(format!("prefix `{}` would write fields set by the receiver (ingest.*, syslog.listener)", p.prefix));
            }
            CompiledStep::Parse { field: p.field.clone(), parser: parser(p)?, prefix: p.prefix.clone(), infer: p.infer_types, ignore_failure: p.ignore_failure }
        }
        Step::Rename { from, to } => {
            named(from, "from")?;
            named(to, "to")?;
            writable(to)?;
            writable(from)?;
            CompiledStep::Rename { from: from.clone(), to: to.clone() }
        }
        Step::Remove { fields } => {
            fields.iter().try_for_each(|f| writable(f))?;
            CompiledStep::Remove(fields.clone())
        }
        Step::Set { field, value, if_absent } => {
            named(field, "field")?;
            writable(field)?;
            CompiledStep::Set { field: field.clone(), value: scalar(value)?, if_absent: *if_absent }
        }
        Step::Convert { field, to, format } => {
            named(field, "field")?;
            writable(field)?;
            if format.is_some() && *to != TargetType::Timestamp {
                return Err("`format` only applies to `to: timestamp`".into());
            }
            CompiledStep::Convert { field: field.clone(), to: *to, format: format.clone() }
        }
        Step::MapLevel { field, map } => {
            named(field, "field")?;
            let mut levels = HashMap::new();
            for (from, to) in map {
                let level = parse_level(to).ok_or_else(|| format!("{to:?} is not a level (trace, debug, info, warn, error, fatal)"))?;
                levels.insert(from.to_lowercase(), level);
            }
            CompiledStep::MapLevel { field: field.clone(), map: levels }
        }
        Step::Drop {} => CompiledStep::Drop,
        Step::Preset(name) => {
            let preset = crate::presets::preset(name).ok_or_else(|| format!("no preset {name:?} (GET /v1/presets lists them)"))?;
            // Presets are NexusLog's own steps: they are compiled like a user's, but may not
            // nest (none does).
            CompiledStep::Preset(preset.steps.iter().map(step).collect::<Result<_, _>>().map_err(|e| format!("preset {name:?}: {e}"))?)
        }
        Step::Multiline(spec) => {
            Matcher::compile(spec)?;
            CompiledStep::Multiline
        }
        Step::Auto {} => CompiledStep::Auto,
    })
}

fn rule(id: &str, r: &RuleSpec) -> Result<CompiledRule, RuleError> {
    let err = |step, message| RuleError { rule: r.name.clone(), step, message };
    if r.name.trim().is_empty() {
        return Err(err(None, "a rule needs a name".into()));
    }
    if r.steps.is_empty() {
        return Err(err(None, "a rule needs at least one step".into()));
    }
    super::limits::check(r).map_err(|(step, m)| err(step, m))?;
    let when = condition(&r.when).map_err(|m| err(None, m))?;
    let steps = r.steps.iter().enumerate().map(|(i, s)| step(s).map_err(|m| err(Some(i), m))).collect::<Result<_, _>>()?;
    let zone = r.timezone.as_deref().map(crate::timestamp::Zone::parse).transpose().map_err(|m| err(None, format!("timezone: {m}")))?.unwrap_or_default();
    // Joining happens on arrival, before every step of every rule: only a first step says so
    // truthfully.
    if let Some(i) = r.steps.iter().skip(1).position(|s| matches!(s, Step::Multiline(_))) {
        return Err(err(Some(i + 1), "`multiline` must be the rule's first step (it runs on arrival, before any rule)".into()));
    }
    let multiline = match r.steps.first() {
        Some(Step::Multiline(spec)) => Some(Matcher::compile(spec).map_err(|m| err(Some(0), m))?),
        _ => None,
    };
    let auto = r.steps.iter().any(|s| matches!(s, Step::Auto {}));
    if auto && r.steps.len() > 1 {
        return Err(err(None, "`auto` must be the rule's only step (it picks a preset per source)".into()));
    }
    Ok(CompiledRule { id: id.to_owned(), name: r.name.clone(), when, steps, on_error: r.on_error, zone, multiline, auto: auto.then(Arc::default) })
}

impl Pipeline {
    /// Compiles enabled rules in the given order; `revision` identifies this version of the
    /// project's pipeline (records processed with it can be told apart).
    ///
    /// # Errors
    /// The first rule that does not compile.
    pub fn compile<'a>(rules: impl IntoIterator<Item = (&'a str, &'a RuleSpec)>, revision: i64) -> Result<Self, RuleError> {
        let rules: Vec<_> = rules.into_iter().collect();
        if rules.len() > super::limits::MAX_RULES {
            let message = format!("{} rules; a pipeline has at most {}", rules.len(), super::limits::MAX_RULES);
            return Err(RuleError { rule: rules[super::limits::MAX_RULES].1.name.clone(), step: None, message });
        }
        let rules = rules.into_iter().filter(|(_, r)| r.enabled).map(|(id, r)| rule(id, r)).collect::<Result<_, _>>()?;
        Ok(Self { rules, revision })
    }

    /// Checks one rule (disabled ones too: they may be enabled later).
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn validate(spec: &RuleSpec) -> Result<(), RuleError> {
        rule("", spec).map(drop)
    }

    pub fn revision(&self) -> i64 {
        self.revision
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule has a multiline step (which the gateway runs).
    pub fn has_multiline(&self) -> bool {
        self.rules.iter().any(|r| r.multiline.is_some())
    }

    /// The auto rule that takes `record` (normalized, before any rule): the first whose
    /// condition holds, when no rule that parses or shapes events would select it.
    pub fn auto_for(&self, record: &nexuslog_schemas::LogRecord) -> Option<(&str, &AutoChooser)> {
        let auto = self.rules.iter().find_map(|r| r.auto.as_deref().filter(|_| r.when.matches(record)).map(|a| (r.name.as_str(), a)))?;
        let shaping = |r: &CompiledRule| r.auto.is_none() && r.steps.iter().any(|s| !matches!(s, CompiledStep::Multiline));
        (!self.rules.iter().any(|r| shaping(r) && r.when.matches(record))).then_some(auto)
    }

    /// Every auto rule's id and choices (the processor stores and shares them).
    pub fn auto_choosers(&self) -> impl Iterator<Item = (&str, &AutoChooser)> {
        self.rules.iter().filter_map(|r| r.auto.as_deref().map(|a| (r.id.as_str(), a)))
    }

    /// The multiline step of the first rule with one whose condition holds for `record` (the
    /// event as normalized on arrival).
    pub fn multiline_for(&self, record: &nexuslog_schemas::LogRecord) -> Option<&Matcher> {
        self.rules.iter().find_map(|r| r.multiline.as_ref().filter(|_| r.when.matches(record)))
    }
}
