//! Sensitive-data redaction, applied by the gateway to every event before it is written anywhere
//! (bus, index, dead letters): built-in rules for common secrets, on unless a project turns them
//! off, and a project's own rules. No I/O: the gateway loads a project's [`RedactionSpec`] and
//! its hashing key and compiles them into a [`Redactor`].
//!
//! Rules run on the event's bytes as text, so they reach secrets wherever they sit: in a JSON
//! field, inside a message, in a syslog line, in a line that is about to be dead-lettered. The
//! patterns use the linear-time `regex` engine (no backtracking on hostile input). Before any
//! pattern runs, one screen decides which rules can match at all (the built-ins' [`Needs`],
//! a [`RegexSet`] of the project's own rules), so an event with nothing to redact costs a scan.

use std::borrow::Cow;
use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};
use hmac::{Hmac, Mac};
use regex::bytes::{Regex, RegexBuilder, RegexSet};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

mod builtin;

pub use builtin::{Builtin, Needs, BUILTINS};

/// Largest compiled size of a project's own pattern: bounds memory, not time (time is linear).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// A project's own rules at most.
pub const MAX_RULES: usize = 64;
// One bit per text rule in a `u128` (see `Redactor::candidates`).
const _: () = assert!(BUILTINS.len() + MAX_RULES <= 128);

/// What happens to a matched value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Every character but the last four becomes `*`.
    Mask,
    /// `hmac_` and 16 hex digits of HMAC-SHA256 under the project's key: equal values give equal
    /// tokens, so they still correlate in search, and nobody without the key can test guesses.
    Hash,
    /// The value is replaced by `[REDACTED]`; a field rule removes the field.
    Remove,
}

/// A built-in rule's setting: `true`/`false` (on with its default action, or off) or an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum BuiltinSetting {
    Enabled(bool),
    Action(Action),
}

/// A project's own rule: a pattern found anywhere in the event's text, or a field of a JSON
/// event, and what to do with what it finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    /// Named in each redacted event's `redacted` field (letters, digits, `_`, `-`).
    pub name: String,
    /// A regular expression (Rust `regex` syntax, linear time). With a capture group, only the
    /// first group is redacted (e.g. the value after a key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A top-level key of JSON events whose value is redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub action: Action,
}

/// A project's redaction settings, as stored and as the API takes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionSpec {
    /// Built-in rules by name; a rule not named here is on with its default action.
    #[serde(default)]
    pub builtins: BTreeMap<String, BuiltinSetting>,
    /// The project's own rules, applied after the built-in ones.
    #[serde(default)]
    pub rules: Vec<CustomRule>,
}

/// A spec that cannot be compiled; the message names the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{rule}: {reason}")]
pub struct SpecError {
    pub rule: String,
    pub reason: String,
}

/// The outcome of redacting one event.
#[derive(Debug, PartialEq)]
pub struct Redacted<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// Names of the rules that changed something: field rules, then text rules in order.
    pub fired: Vec<&'a str>,
}

/// One compiled text rule.
struct TextRule {
    name: String,
    regex: Regex,
    action: Action,
    /// Only matches passing this check are redacted (the Luhn check of card numbers).
    check: Option<fn(&[u8]) -> bool>,
    /// A built-in's needs (see [`Needs`]); a project's own rules are screened by a regex set.
    needs: Option<Needs>,
}

/// A project's compiled rules with its hashing key.
pub struct Redactor {
    /// Built-in rules first, then the project's own (`MAX_RULES` at most: 72 in all, so a
    /// `u128` holds one bit per rule).
    text: Vec<TextRule>,
    /// The words of the built-ins' [`Needs::AnyOf`].
    words: Words,
    /// The project's own rules (those after the built-ins in `text`) in one pass.
    screen: RegexSet,
    /// Index in `text` of the first of the project's own rules.
    own_from: usize,
    fields: Vec<(String, String, Action)>,
    key: Vec<u8>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.text.iter().map(|r| r.name.as_str()).chain(self.fields.iter().map(|f| f.0.as_str())).collect();
        f.debug_struct("Redactor").field("rules", &names).finish_non_exhaustive()
    }
}

impl RedactionSpec {
    /// Checks the spec as [`Redactor::new`] would, without a key.
    ///
    /// # Errors
    /// The first rule that cannot be used.
    pub fn validate(&self) -> Result<(), SpecError> {
        Redactor::new(self, b"").map(drop)
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The built-ins' words, found in one pass over a lower-cased copy of the text: case-sensitive
/// literals let the search use its SIMD prefilter, about five times faster here than a
/// case-insensitive automaton over the original.
struct Words {
    /// Lower-cased, longest first.
    search: Option<AhoCorasick>,
    /// Per word: the rules needing it or a word it starts with (found at the same place).
    rules: Vec<u128>,
}

impl Words {
    fn new(text: &[TextRule]) -> Result<Self, String> {
        let mut needs: BTreeMap<String, u128> = BTreeMap::new();
        for (i, rule) in text.iter().enumerate() {
            if let Some(Needs::AnyOf(words)) = rule.needs {
                for w in words {
                    *needs.entry(w.to_ascii_lowercase()).or_default() |= 1 << i;
                }
            }
        }
        let mut words: Vec<&String> = needs.keys().collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let rules = words.iter().map(|w| needs.iter().filter(|(other, _)| w.starts_with(other.as_str())).fold(0, |m, (_, r)| m | r)).collect();
        let search = if words.is_empty() {
            None
        } else {
            Some(AhoCorasick::builder().match_kind(MatchKind::LeftmostFirst).build(&words).map_err(|e| e.to_string())?)
        };
        Ok(Self { search, rules })
    }

    /// One bit per rule whose words `input` holds.
    fn rules_in(&self, input: &[u8]) -> u128 {
        let Some(search) = &self.search else { return 0 };
        // `(?i)` folds two non-ASCII characters onto ASCII letters: the Kelvin sign onto `k`
        // and the long s onto `s` (`to\u{212A}en` is a `token` to the patterns). A text holding
        // either holds every word, as far as the screen knows.
        if ["\u{212A}", "\u{17F}"].iter().any(|c| memchr::memmem::find(input, c.as_bytes()).is_some()) {
            return self.rules.iter().fold(0, |m, r| m | r);
        }
        let lower = input.to_ascii_lowercase();
        let mut may = 0;
        let mut at = 0;
        // Leftmost matches, each search restarting one byte after the last match's start:
        // every place a word starts is visited, overlapping ones too.
        while let Some(m) = search.find(aho_corasick::Input::new(&lower).span(at..lower.len())) {
            may |= self.rules[m.pattern().as_usize()];
            at = m.start() + 1;
        }
        may
    }
}

impl Redactor {
    /// Compiles `spec`; `key` is the project's key for the `hash` action.
    ///
    /// # Errors
    /// A [`SpecError`] naming the rule: unknown built-in, bad name, bad or missing pattern.
    pub fn new(spec: &RedactionSpec, key: &[u8]) -> Result<Self, SpecError> {
        let err = |rule: &str, reason: String| SpecError { rule: rule.to_owned(), reason };
        for name in spec.builtins.keys() {
            if !BUILTINS.iter().any(|b| b.name == name) {
                let known: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
                return Err(err(name, format!("no such built-in rule (known: {})", known.join(", "))));
            }
        }
        if spec.rules.len() > MAX_RULES {
            return Err(err("rules", format!("{} rules, at most {MAX_RULES}", spec.rules.len())));
        }
        let mut text = Vec::new();
        for b in BUILTINS {
            let action = match spec.builtins.get(b.name) {
                None | Some(BuiltinSetting::Enabled(true)) => b.action,
                Some(BuiltinSetting::Enabled(false)) => continue,
                Some(BuiltinSetting::Action(a)) => *a,
            };
            let regex = Regex::new(b.pattern).map_err(|e| err(b.name, e.to_string()))?;
            text.push(TextRule { name: b.name.to_owned(), regex, action, check: b.check, needs: Some(b.needs) });
        }
        let own_from = text.len();
        let mut fields = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for r in &spec.rules {
            if !valid_name(&r.name) || BUILTINS.iter().any(|b| b.name == r.name) || !seen.insert(r.name.as_str()) {
                return Err(err(&r.name, "a rule needs a unique name of letters, digits, `_` or `-`, not a built-in's".into()));
            }
            match (&r.pattern, &r.field) {
                (Some(p), None) => {
                    let regex = RegexBuilder::new(p).size_limit(PATTERN_SIZE_LIMIT).build().map_err(|e| err(&r.name, format!("pattern: {e}")))?;
                    if regex.is_match(b"") {
                        return Err(err(&r.name, "the pattern matches empty text".into()));
                    }
                    text.push(TextRule { name: r.name.clone(), regex, action: r.action, check: None, needs: None });
                }
                (None, Some(f)) if !f.is_empty() => fields.push((r.name.clone(), f.clone(), r.action)),
                _ => return Err(err(&r.name, "give either `pattern` or `field`".into())),
            }
        }
        let screen = RegexSet::new(text[own_from..].iter().map(|r| r.regex.as_str())).map_err(|e| err("rules", e.to_string()))?;
        let words = Words::new(&text).map_err(|e| err("builtins", e))?;
        Ok(Self { text, words, screen, own_from, fields, key: key.to_vec() })
    }

    /// Whether any rule is on.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.fields.is_empty()
    }

    /// Redacts one event's bytes.
    pub fn apply<'a>(&'a self, input: &'a [u8]) -> Redacted<'a> {
        let mut bytes = Cow::Borrowed(input);
        let mut fired = Vec::new();
        if !self.fields.is_empty() {
            if let Some(out) = self.apply_fields(&bytes, &mut fired) {
                bytes = Cow::Owned(out);
            }
        }
        let candidates = self.candidates(&bytes);
        if candidates != 0 {
            for (i, rule) in self.text.iter().enumerate() {
                if candidates & (1 << i) == 0 {
                    continue;
                }
                if let Some(out) = self.apply_text(rule, &bytes) {
                    bytes = Cow::Owned(out);
                    fired.push(rule.name.as_str());
                }
            }
        }
        Redacted { bytes, fired }
    }

    /// One bit per rule of `text` that can match `input`, from one scan for the built-ins'
    /// words, one for digit runs, and the regex set of the project's own rules.
    fn candidates(&self, input: &[u8]) -> u128 {
        let mut may = self.words.rules_in(input);
        for (i, rule) in self.text[..self.own_from].iter().enumerate() {
            if let Some(Needs::Digits(n)) = rule.needs {
                if builtin::digit_run(input, n) {
                    may |= 1 << i;
                }
            }
        }
        if self.text.len() > self.own_from {
            for i in self.screen.matches(input).iter() {
                may |= 1 << (self.own_from + i);
            }
        }
        may
    }

    /// Redacts a text (a dead letter's reason, a message).
    pub fn apply_str<'a>(&'a self, input: &'a str) -> Cow<'a, str> {
        match self.apply(input.as_bytes()).bytes {
            Cow::Borrowed(_) => Cow::Borrowed(input),
            Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    fn apply_text(&self, rule: &TextRule, input: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len());
        let (mut last, mut changed) = (0, false);
        for caps in rule.regex.captures_iter(input) {
            // The first capture group that took part (alternatives may each have one), else the
            // whole match.
            let Some(m) = caps.iter().skip(1).flatten().next().or_else(|| caps.get(0)) else { continue };
            if m.is_empty() || rule.check.is_some_and(|check| !check(m.as_bytes())) {
                continue;
            }
            out.extend_from_slice(&input[last..m.start()]);
            out.extend_from_slice(&self.replacement(rule.action, m.as_bytes()));
            last = m.end();
            changed = true;
        }
        if !changed {
            return None;
        }
        out.extend_from_slice(&input[last..]);
        Some(out)
    }

    fn apply_fields<'a>(&'a self, input: &[u8], fired: &mut Vec<&'a str>) -> Option<Vec<u8>> {
        // Cheap screen before parsing: the key must appear quoted.
        if !self.fields.iter().any(|(_, f, _)| memchr_quoted(input, f)) {
            return None;
        }
        let mut value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(input).ok()?;
        let mut changed = false;
        for (name, field, action) in &self.fields {
            if *action == Action::Remove {
                if value.remove(field).is_none() {
                    continue;
                }
            } else {
                let Some(v) = value.get_mut(field) else { continue };
                let text = match &*v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                *v = serde_json::Value::String(String::from_utf8_lossy(&self.replacement(*action, text.as_bytes())).into_owned());
            }
            fired.push(name.as_str());
            changed = true;
        }
        changed.then(|| serde_json::to_vec(&value).unwrap_or_else(|_| input.to_vec()))
    }

    fn replacement(&self, action: Action, value: &[u8]) -> Vec<u8> {
        match action {
            Action::Remove => b"[REDACTED]".to_vec(),
            Action::Mask => {
                let text = String::from_utf8_lossy(value);
                let n = text.chars().count();
                text.chars().enumerate().map(|(i, c)| if i + 4 < n { '*' } else { c }).collect::<String>().into_bytes()
            }
            Action::Hash => {
                // Infallible: HMAC takes keys of any length.
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
                mac.update(value);
                let digest = mac.finalize().into_bytes();
                format!("hmac_{}", hex::encode(&digest[..8])).into_bytes()
            }
        }
    }
}

/// The instance setting holding a project's key for the `hash` action (the empty project id:
/// input of no project).
pub fn key_setting(project_id: &str) -> String {
    format!("redaction_key:{project_id}")
}

/// A new key for the `hash` action: 32 random bytes, hex.
pub fn new_key() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

fn memchr_quoted(haystack: &[u8], key: &str) -> bool {
    let needle = format!("\"{key}\"");
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[cfg(test)]
mod tests;
