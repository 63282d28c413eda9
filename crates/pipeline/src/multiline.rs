//! Multiline events: continuation lines (a Java stack trace's `at …` frames, a Python
//! traceback, a Go panic, or whatever a custom start pattern says) joined into the event they
//! continue.
//!
//! A rule step `{"multiline": {...}}` turns it on for the events its rule's condition matches.
//! Joining needs the events of one source in arrival order, which only the gateway has (the
//! raw topic spreads a source's events over partitions), so the gateway runs this and the
//! processor treats the step as done. This module is the pure part: which line continues which
//! group ([`Matcher`]) and how the lines of one request are placed ([`place`]); the API's dry
//! runs use the same code.
//!
//! Nothing is ever held back: an event is written when its request is acknowledged, and a
//! continuation arriving in a later request is joined by writing a new version of the group
//! under the same id (see the gateway's `multiline` module), which the sinks index over the
//! earlier one. So an incomplete trace is never waited for and never lost at shutdown.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::OnceLock;

use nexuslog_schemas::{LogRecord, RawEvent, SourceKind};
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Lines one event may gather by default, and at most.
pub const DEFAULT_MAX_LINES: usize = 500;
pub const MAX_LINES_LIMIT: usize = 10_000;
/// Bytes of message one event may gather by default, and at most.
pub const DEFAULT_MAX_BYTES: usize = 256 << 10;
pub const MAX_BYTES_LIMIT: usize = 1 << 20;
/// How long after a source's last event a continuation in its next request still joins it.
pub const DEFAULT_WAIT_MS: u64 = 3_000;
pub const MAX_WAIT_MS: u64 = 60_000;

/// Which lines continue an event. Give a `kind`, a `start` pattern (lines not matching it
/// continue the event before) or a `continue` pattern (lines matching it do); none means
/// `kind: traces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultilineSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TraceKind>,
    /// A regular expression every new event's first line matches (e.g. a leading timestamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// A regular expression every continuation line matches (e.g. `^\s`).
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continues: Option<String>,
    /// Most lines in one event (default 500); a longer trace goes on in a new event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<usize>,
    /// Most bytes of message in one event (default 256 KiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<usize>,
    /// How long (ms, default 3000) a source's event stays open to continuations sent in its
    /// next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

/// The stack traces recognized without a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// Java, Scala, Kotlin: `at …` frames, `Caused by:`, `... N more`, the exception line.
    Java,
    /// Python tracebacks, chained ones included.
    Python,
    /// Go panics with their goroutine dumps.
    Go,
    /// All of the above.
    Traces,
}

/// A compiled multiline step.
#[derive(Debug, Clone)]
pub struct Matcher {
    rule: Rule,
    max_lines: usize,
    max_bytes: usize,
    wait_ms: u64,
}

#[derive(Debug, Clone)]
enum Rule {
    Traces { java: bool, python: bool, go: bool },
    Start(Regex),
    Continue(Regex),
}

/// Where the trace a group holds stands; what may come next depends on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Trace {
    #[default]
    None,
    /// Inside a Python traceback; `after_file`: the last line was a `File "…", line N` frame,
    /// so the next one is its source line.
    Python { after_file: bool },
    /// A Python traceback ended with its exception line; only chaining text may follow.
    PythonEnded,
    GoPanic,
}

/// One open event: how much it holds and what it is in the middle of.
#[derive(Debug, Clone, Default)]
pub struct GroupState {
    lines: usize,
    bytes: usize,
    trace: Trace,
}

impl GroupState {
    pub fn lines(&self) -> usize {
        self.lines
    }
}

struct Patterns {
    java_frame: Regex,
    java_exception: Regex,
    python_file: Regex,
    python_exception: Regex,
    go_frame: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // Fixed expressions, checked by the tests below.
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("built-in multiline pattern {s}: {e}"));
        Patterns {
            java_frame: re(r"^\s*(?:at\s+\S+\(.*\)|\.\.\.\s*\d+\s+(?:more|common frames omitted)|(?:Caused by|Suppressed|Wrapped by):\s|\t)"),
            java_exception: re(r"^(?:[a-zA-Z_$][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable|Failure)(?::.*)?$"),
            python_file: re(r#"^\s*File "[^"]*", line \d+"#),
            python_exception: re(r"^[A-Za-z_][\w.]*(?:: .*|:)?$"),
            go_frame: re(r"^(?:goroutine \d+ \[|created by |\t|\S+\.go:\d+|exit status \d+|\[signal |[\w./*()\[\]-]+\(.*\)$)"),
        }
    })
}

const PYTHON_HEAD: &str = "Traceback (most recent call last):";
const PYTHON_CHAIN: [&str; 2] = ["During handling of the above exception", "The above exception was the direct cause"];

impl Matcher {
    /// Compiles a step.
    ///
    /// # Errors
    /// A bad pattern, several ways of telling continuations given at once, a limit out of
    /// range.
    pub fn compile(spec: &MultilineSpec) -> Result<Self, String> {
        let given = usize::from(spec.kind.is_some()) + usize::from(spec.start.is_some()) + usize::from(spec.continues.is_some());
        if given > 1 {
            return Err("give one of `kind`, `start` and `continue`".into());
        }
        let regex = |what: &str, s: &str| nexuslog_parsers::regex_parser::bounded(s).map_err(|e| format!("`multiline.{what}`: {e}"));
        let rule = match (&spec.kind, &spec.start, &spec.continues) {
            (_, Some(s), _) => Rule::Start(regex("start", s)?),
            (_, _, Some(c)) => Rule::Continue(regex("continue", c)?),
            (kind, ..) => {
                let kind = kind.unwrap_or(TraceKind::Traces);
                let all = kind == TraceKind::Traces;
                Rule::Traces { java: all || kind == TraceKind::Java, python: all || kind == TraceKind::Python, go: all || kind == TraceKind::Go }
            }
        };
        let bounded = |what: &str, v: Option<usize>, default: usize, max: usize| match v {
            None => Ok(default),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(n) => Err(format!("`multiline.{what}` is {n}; it must be between 1 and {max}")),
        };
        let max_lines = bounded("max_lines", spec.max_lines, DEFAULT_MAX_LINES, MAX_LINES_LIMIT)?;
        let max_bytes = bounded("max_bytes", spec.max_bytes, DEFAULT_MAX_BYTES, MAX_BYTES_LIMIT)?;
        let wait_ms = match spec.wait_ms {
            None => DEFAULT_WAIT_MS,
            Some(n) if n <= MAX_WAIT_MS => n,
            Some(n) => return Err(format!("`multiline.wait_ms` is {n}; the limit is {MAX_WAIT_MS}")),
        };
        Ok(Self { rule, max_lines, max_bytes, wait_ms })
    }

    /// How long a group stays open to the source's next request.
    pub fn wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.wait_ms)
    }

    /// The state of a group `line` opens.
    pub fn open(&self, line: &str) -> GroupState {
        let trace = match self.rule {
            Rule::Traces { python: true, .. } if line.trim_start().starts_with(PYTHON_HEAD) => Trace::Python { after_file: false },
            Rule::Traces { go: true, .. } if line.starts_with("panic: ") || line.starts_with("fatal error: ") => Trace::GoPanic,
            _ => Trace::None,
        };
        GroupState { lines: 1, bytes: line.len(), trace }
    }

    /// Whether `line` continues the group in `state` (within its limits); if so the state now
    /// includes it.
    pub fn continues(&self, state: &mut GroupState, line: &str) -> bool {
        if state.lines >= self.max_lines || state.bytes + 1 + line.len() > self.max_bytes {
            return false;
        }
        let next = match &self.rule {
            Rule::Start(re) => (!re.is_match(line)).then_some(state.trace),
            Rule::Continue(re) => re.is_match(line).then_some(state.trace),
            Rule::Traces { java, python, go } => trace_continues(state.trace, line, *java, *python, *go),
        };
        let Some(trace) = next else { return false };
        state.lines += 1;
        state.bytes += 1 + line.len();
        state.trace = trace;
        true
    }
}

/// The built-in trace rules: `Some(next state)` when `line` continues a group in `trace`.
fn trace_continues(trace: Trace, line: &str, java: bool, python: bool, go: bool) -> Option<Trace> {
    let p = patterns();
    let body = line.trim_start();
    if python {
        match trace {
            Trace::Python { after_file } => {
                if p.python_file.is_match(line) {
                    return Some(Trace::Python { after_file: true });
                }
                if p.python_exception.is_match(body) {
                    return Some(Trace::PythonEnded);
                }
                if after_file || body.chars().all(|c| matches!(c, '^' | '~' | ' ')) {
                    // The frame's source line (`raise ValueError(x)`), or the carets under it.
                    return Some(Trace::Python { after_file: false });
                }
            }
            Trace::PythonEnded if PYTHON_CHAIN.iter().any(|c| body.starts_with(c)) => return Some(Trace::PythonEnded),
            _ => {}
        }
        if body.starts_with(PYTHON_HEAD) {
            return Some(Trace::Python { after_file: false });
        }
    }
    if go && trace == Trace::GoPanic && (body.is_empty() || p.go_frame.is_match(line)) {
        return Some(Trace::GoPanic);
    }
    if java && (p.java_frame.is_match(line) || p.java_exception.is_match(body)) {
        return Some(trace);
    }
    None
}

/// How an event's payload carries its message, to write the joined text back.
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON object with its message under `key`.
    Json { map: serde_json::Map<String, serde_json::Value>, key: String },
    /// Text (a plain line, or a syslog frame whose message ends it): lines are appended.
    Text(Vec<u8>),
}

impl Body {
    /// The body of an event's payload; `None` for a JSON object without a message of its
    /// own (it shows its whole text: nothing to join).
    pub fn of(payload: &[u8]) -> Option<Self> {
        let trimmed = payload.trim_ascii();
        if trimmed.first() != Some(&b'{') {
            return Some(Body::Text(trimmed.to_vec()));
        }
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(trimmed).ok()?;
        let key = crate::normalize::MESSAGE_KEYS.iter().find(|k| map.get(**k).is_some_and(serde_json::Value::is_string))?;
        Some(Body::Json { key: (*key).to_owned(), map })
    }

    /// Appends a continuation line to the message.
    pub fn append(&mut self, line: &str) {
        match self {
            Body::Text(bytes) => {
                bytes.push(b'\n');
                bytes.extend_from_slice(line.as_bytes());
            }
            Body::Json { map, key } => {
                if let Some(serde_json::Value::String(text)) = map.get_mut(key.as_str()) {
                    text.push('\n');
                    text.push_str(line);
                }
            }
        }
    }

    /// The payload with the joined message.
    pub fn payload(&self) -> Vec<u8> {
        match self {
            Body::Text(bytes) => bytes.clone(),
            // A map of JSON values always serializes.
            Body::Json { map, .. } => serde_json::to_vec(map).unwrap_or_default(),
        }
    }
}

/// The line a multiline step reads from an event (its text, or its message for JSON and
/// syslog) and the body continuations are appended to; `None` when it cannot be joined.
pub fn line_of(raw: &RawEvent, record: &LogRecord) -> Option<(String, Body)> {
    let body = Body::of(&raw.payload)?;
    let line = match &body {
        Body::Text(bytes) if raw.source != SourceKind::Syslog => String::from_utf8_lossy(bytes).into_owned(),
        _ => record.message.clone(),
    };
    Some((line, body))
}

/// Where [`place`] put a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Not under any multiline step: an event of its own.
    Own,
    /// Opens an event (which may get continuations).
    Head,
    /// Continues the event opened by the line at this index.
    Joined(usize),
    /// Continues its source's event from an earlier request (in `open`).
    Earlier,
}

/// Places the lines of one request, in order. Each line is `(source, matcher, text)`: lines
/// whose matcher is `None` are not joined; a continuation joins the newest open event of its
/// own source only, so interleaved sources stay apart. `open` holds the states of events of
/// earlier requests that may still be continued, by source; continuations at the start of a
/// source's lines extend them (and the state is updated). Also returns, per source, the index
/// and state of its last head: the event that may go on in the next request.
pub fn place<K: Hash + Eq + Clone>(lines: &[(K, Option<&Matcher>, &str)], open: &mut HashMap<K, GroupState>) -> (Vec<Placement>, HashMap<K, (usize, GroupState)>) {
    // Per source: the head index of its newest event in this request and its state.
    let mut current: HashMap<K, (usize, GroupState)> = HashMap::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, (key, matcher, text)) in lines.iter().enumerate() {
        let Some(m) = matcher else {
            out.push(Placement::Own);
            continue;
        };
        if let Some((head, state)) = current.get_mut(key) {
            if m.continues(state, text) {
                out.push(Placement::Joined(*head));
                continue;
            }
        } else if let Some(state) = open.get_mut(key) {
            if m.continues(state, text) {
                out.push(Placement::Earlier);
                continue;
            }
            // The earlier event is complete: the head below becomes the source's newest, so
            // its later lines no longer reach it.
        }
        current.insert(key.clone(), (i, m.open(text)));
        out.push(Placement::Head);
    }
    (out, current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(spec: serde_json::Value) -> Matcher {
        Matcher::compile(&serde_json::from_value(spec).expect("spec")).expect("compiles")
    }

    /// Groups `lines` (one source) and returns each event's lines.
    fn events(m: &Matcher, lines: &[&str]) -> Vec<Vec<String>> {
        let input: Vec<_> = lines.iter().map(|l| ("s", Some(m), *l)).collect();
        let mut out: Vec<Vec<String>> = Vec::new();
        for (p, line) in place(&input, &mut HashMap::new()).0.into_iter().zip(lines) {
            match p {
                Placement::Own | Placement::Head => out.push(vec![(*line).to_owned()]),
                Placement::Joined(_) => out.last_mut().expect("a head before").push((*line).to_owned()),
                Placement::Earlier => panic!("nothing was open"),
            }
        }
        out
    }

    const JAVA: &[&str] = &[
        "2026-12-07 10:00:00,123 ERROR [main] c.e.Billing - charge failed",
        "java.lang.IllegalStateException: card declined",
        "\tat com.example.Billing.charge(Billing.java:42)",
        "at com.example.Api.handle(Api.java:7)",
        "Caused by: java.net.SocketTimeoutException: Read timed out",
        "at java.base/java.net.SocketInputStream.read(SocketInputStream.java:168)",
        "... 12 more",
        "2026-12-07 10:00:01,000 INFO [main] c.e.Billing - next",
    ];

    #[test]
    fn java_traces_join_their_log_line() {
        let m = matcher(serde_json::json!({"kind": "java"}));
        let ev = events(&m, JAVA);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].len(), 7);
        assert_eq!(ev[1], vec![JAVA[7]]);
    }

    #[test]
    fn python_tracebacks_with_chaining_and_source_lines() {
        let lines = [
            "ERROR:root:request failed",
            "Traceback (most recent call last):",
            "File \"/app/main.py\", line 10, in handle",
            "return parse(body)",
            "File \"/app/parse.py\", line 3, in parse",
            "raise ValueError(\"bad\")",
            "ValueError: bad",
            "During handling of the above exception, another exception occurred:",
            "Traceback (most recent call last):",
            "File \"/app/main.py\", line 12, in handle",
            "raise RuntimeError(\"wrapped\")",
            "RuntimeError: wrapped",
            "INFO:root:next request",
            "raise nothing here",
        ];
        let m = matcher(serde_json::json!({"kind": "python"}));
        let ev = events(&m, &lines);
        assert_eq!(ev.iter().map(Vec::len).collect::<Vec<_>>(), vec![12, 1, 1], "{ev:#?}");
    }

    #[test]
    fn go_panics_with_goroutine_dumps() {
        let lines = [
            "panic: runtime error: index out of range [3] with length 3",
            "",
            "goroutine 1 [running]:",
            "main.lookup(...)",
            "\t/app/main.go:12 +0x1d",
            "main.main()",
            "/app/main.go:20 +0x25",
            "exit status 2",
            "level=info msg=\"restarted\"",
        ];
        let m = matcher(serde_json::json!({}));
        let ev = events(&m, &lines);
        assert_eq!(ev.iter().map(Vec::len).collect::<Vec<_>>(), vec![8, 1], "{ev:#?}");
    }

    #[test]
    fn ordinary_lines_stay_apart() {
        let m = matcher(serde_json::json!({"kind": "traces"}));
        let lines = ["GET /a 200", "user logged in", "ERROR disk full", "at least we tried", "Error: x"];
        assert_eq!(events(&m, &lines).len(), lines.len());
    }

    #[test]
    fn custom_start_and_continue_patterns() {
        let m = matcher(serde_json::json!({"start": r"^\d{4}-\d\d-\d\d "}));
        let ev = events(&m, &["2026-12-07 a", "b", "c", "2026-12-07 d"]);
        assert_eq!(ev.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 1]);
        let m = matcher(serde_json::json!({"continue": r"^\+"}));
        let ev = events(&m, &["a", "+b", "c", "+d", "+e"]);
        assert_eq!(ev.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn limits_split_a_long_trace_without_losing_lines() {
        let m = matcher(serde_json::json!({"kind": "java", "max_lines": 3}));
        let lines: Vec<String> = std::iter::once("ERROR x".to_owned()).chain((0..7).map(|i| format!("at a.B.c{i}(B.java:{i})"))).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let ev = events(&m, &refs);
        assert_eq!(ev.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 2]);
        let m = matcher(serde_json::json!({"kind": "java", "max_bytes": 20}));
        assert_eq!(events(&m, &["ERROR x", "at a.B.c(B.java:1)"]).len(), 2);
    }

    #[test]
    fn interleaved_sources_stay_apart_and_earlier_events_continue() {
        let m = matcher(serde_json::json!({"kind": "java"}));
        let lines = [("a", Some(&m), "at a.A.x(A.java:1)"), ("b", Some(&m), "ERROR b"), ("a", Some(&m), "at a.A.y(A.java:2)"), ("b", Some(&m), "at b.B.x(B.java:1)"), ("c", None, "at c")];
        let mut open = HashMap::from([("a", m.open("ERROR a"))]);
        let (placed, last) = place(&lines, &mut open);
        assert_eq!(placed, vec![Placement::Earlier, Placement::Head, Placement::Earlier, Placement::Joined(1), Placement::Own]);
        assert_eq!(open["a"].lines(), 3);
        assert_eq!(last.get("b").map(|(head, s)| (*head, s.lines())), Some((1, 2)));
        assert!(!last.contains_key("a"), "a's lines all continued the earlier event");
    }

    #[test]
    fn a_joined_event_keeps_its_trace_through_a_preset_and_its_body() {
        let rule: crate::RuleSpec = serde_json::from_value(serde_json::json!({ "name": "t", "steps": [ { "multiline": {} }, { "preset": "log4j" } ] })).expect("rule");
        let pipeline = crate::Pipeline::compile([("r", &rule)], 1).expect("compiles");
        let raw = |payload: &str| RawEvent { ingest_id: "i".into(), project_id: "p".into(), source: SourceKind::Http, received_at: 0, remote_addr: None, payload: payload.into(), metadata: Default::default() };
        let head = raw(r#"{"message": "2026-12-07 10:00:00,123 ERROR [main] com.example.Billing - charge failed", "service": "billing"}"#);
        let record = crate::normalize(&head).expect("normalizes");
        let matcher = pipeline.multiline_for(&record).expect("the rule applies");
        let (line, mut body) = line_of(&head, &record).expect("has a message");
        let mut state = matcher.open(&line);
        for frame in JAVA[1..7].iter() {
            assert!(matcher.continues(&mut state, frame), "{frame}");
            body.append(frame);
        }
        let joined = raw(std::str::from_utf8(&body.payload()).expect("utf-8"));
        let crate::Outcome::Record(r) = crate::process(&joined, &pipeline, None).expect("processes") else { panic!("a record") };
        assert_eq!(r.message, format!("charge failed\n{}", JAVA[1..7].join("\n")));
        assert_eq!(r.service.as_deref(), Some("billing"), "the JSON event's other keys stay");
        assert_eq!(r.fields["log.logger"], nexuslog_schemas::FieldValue::String("com.example.Billing".into()));
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            serde_json::json!({"kind": "java", "start": "^x"}),
            serde_json::json!({"start": "("}),
            serde_json::json!({"max_lines": 0}),
            serde_json::json!({"max_bytes": 2_000_000}),
            serde_json::json!({"wait_ms": 3_600_000}),
        ] {
            let spec: MultilineSpec = serde_json::from_value(spec.clone()).expect("reads");
            assert!(Matcher::compile(&spec).is_err(), "{spec:?}");
        }
        assert!(serde_json::from_value::<MultilineSpec>(serde_json::json!({"kind": "cobol"})).is_err());
    }
}
