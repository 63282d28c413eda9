//! Multiline events on arrival: continuation lines joined into the event they continue, by the
//! project's `multiline` rule steps (see `nexuslog_pipeline::multiline` for which lines
//! continue).
//!
//! Within a request, a source's continuation lines are folded into their head event before
//! anything is written, so the head's id (and, with an `Idempotency-Key`, a retry) stays what
//! it was. Across requests nothing is held: each request's events are written before it is
//! answered, and the newest event of each source stays *open* for the step's `wait_ms`. When
//! the source's next request starts with continuation lines, a new version of the open event
//! (same id, same receive time, so the same index and document) is written in its place, with
//! `ingest.revision` counting versions. The sinks index a revision over the earlier version, so
//! a crash at any point leaves every line searchable, joined or not. Only one version of an
//! event is in flight at a time (a busy event takes no continuation; its lines stay events of
//! their own), so the versions reach the bus, and the index, in order.
//!
//! A source is the project, transport, sender (API key or syslog listener and peer), host and
//! service: interleaved sources never join each other's lines.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nexuslog_metastore::MetaStore;
use nexuslog_pipeline::multiline::{place, Body, GroupState, Matcher, Placement};
use nexuslog_pipeline::{Pipeline, RuleSpec};
use nexuslog_schemas::{RawEvent, SourceKind};

use crate::ingest::Event;

/// How long a project's multiline rules are used before they are read again.
const RELOAD_AFTER: Duration = Duration::from_secs(2);
/// Open events kept at most, and the most bytes they may hold together; the oldest go first
/// (they are then complete: later lines become events of their own).
const MAX_OPEN: usize = 4096;
const MAX_OPEN_BYTES: usize = 64 << 20;
/// Versions one event may go through; a source that keeps continuing one event for longer
/// than this starts a new one.
const MAX_VERSIONS: u32 = 1000;

/// Metadata of a joined event: how many lines it holds.
pub const LINES_FIELD: &str = "ingest.multiline";
/// Metadata of a later version of an event (2, 3, …): the sinks index it over the earlier ones.
pub const REVISION_FIELD: &str = nexuslog_schemas::REVISION_FIELD;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SourceKey {
    project: String,
    source: SourceKind,
    sender: String,
    host: Option<String>,
    service: Option<String>,
}

/// A source's newest event, open to continuations from its next request.
#[derive(Debug, Clone)]
struct Open {
    ingest_id: String,
    received_at: i64,
    metadata: BTreeMap<String, String>,
    body: Body,
    state: GroupState,
    version: u32,
    wait: Duration,
    last: Instant,
    /// A version of it is being written.
    busy: bool,
    bytes: usize,
}

/// What a request changes in the open events once it is written.
#[derive(Debug, Default)]
pub struct Pending {
    /// Per source: its new open event (`None`: the source's open event is complete).
    next: Vec<(SourceKey, Option<Open>)>,
    /// Sources whose open event this request took (busy) and must give back.
    taken: Vec<SourceKey>,
}

/// A project's compiled multiline rules (`None`: it has none).
struct Rules {
    read_at: Instant,
    definitions: Vec<String>,
    pipeline: Option<Arc<Pipeline>>,
}

/// The multiline rules of the projects seen so far and every source's open event.
pub struct Multiline {
    meta: Arc<dyn MetaStore>,
    rules: Mutex<HashMap<String, Rules>>,
    open: Mutex<HashMap<SourceKey, Open>>,
    /// Largest payload a joined event may have (below the bus's record limit).
    max_payload: usize,
}

impl Multiline {
    /// `max_payload`: the largest event payload the bus takes; a join that would exceed it is
    /// not made (the lines stay events of their own).
    pub fn new(meta: Arc<dyn MetaStore>, max_payload: usize) -> Arc<Self> {
        Arc::new(Self { meta, rules: Mutex::default(), open: Mutex::default(), max_payload })
    }

    /// The project's multiline rules, re-read every [`RELOAD_AFTER`]. When the store cannot be
    /// read the last rules stay; a project never read joins nothing (its lines stay events).
    async fn rules_of(&self, project: &str) -> Option<Arc<Pipeline>> {
        let cached = self.rules.lock().unwrap_or_else(PoisonError::into_inner).get(project).map(|r| (r.read_at, r.definitions.clone(), r.pipeline.clone()));
        if let Some((read_at, _, pipeline)) = &cached {
            if read_at.elapsed() < RELOAD_AFTER {
                return pipeline.clone();
            }
        }
        let definitions: Vec<String> = match self.meta.pipeline_rules(project).await {
            Ok(rows) => rows.into_iter().map(|r| r.definition).filter(|d| d.contains("\"multiline\"")).collect(),
            Err(e) => {
                tracing::warn!(project, error = %e, "cannot read multiline rules; using the last ones");
                return cached.and_then(|(_, _, p)| p);
            }
        };
        let pipeline = match cached {
            Some((_, before, pipeline)) if before == definitions => pipeline,
            _ => compile(project, &definitions),
        };
        let entry = Rules { read_at: Instant::now(), definitions, pipeline: pipeline.clone() };
        self.rules.lock().unwrap_or_else(PoisonError::into_inner).insert(project.to_owned(), entry);
        pipeline
    }

    /// Joins the continuation lines of `events` (one request, in order). Returns the events to
    /// write, each with its receive time (a revision keeps its first version's), and what to
    /// [`Multiline::settle`] once they are written or not.
    pub async fn join(&self, source: SourceKind, remote: Option<&str>, events: Vec<Event>, received_at: i64) -> (Vec<(Event, i64)>, Pending) {
        let mut pipelines: HashMap<String, Option<Arc<Pipeline>>> = HashMap::new();
        for e in &events {
            if !pipelines.contains_key(&e.project_id) {
                let p = self.rules_of(&e.project_id).await;
                pipelines.insert(e.project_id.clone(), p);
            }
        }
        if pipelines.values().all(Option::is_none) {
            return (events.into_iter().map(|e| (e, received_at)).collect(), Pending::default());
        }
        // Each event as it arrives, to match rule conditions and read its line.
        let mut lines: Vec<(Option<SourceKey>, String)> = Vec::with_capacity(events.len());
        let mut matchers = Vec::with_capacity(events.len());
        for e in &events {
            let pipeline = pipelines.get(&e.project_id).and_then(Option::as_ref);
            let found = pipeline.and_then(|p| line_of(p, source, remote, received_at, e));
            match found {
                Some((key, line, matcher)) => {
                    lines.push((Some(key), line));
                    matchers.push(Some(matcher));
                }
                None => {
                    lines.push((None, String::new()));
                    matchers.push(None);
                }
            }
        }
        // Open events of these sources that may be continued: taken (busy) until settled.
        let mut pending = Pending::default();
        let mut open_states: HashMap<Option<SourceKey>, GroupState> = HashMap::new();
        let mut earlier: HashMap<SourceKey, Open> = HashMap::new();
        {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            for key in lines.iter().filter_map(|(k, _)| k.as_ref()) {
                if earlier.contains_key(key) {
                    continue;
                }
                if let Some(o) = open.get_mut(key).filter(|o| !o.busy && o.last.elapsed() <= o.wait && o.version < MAX_VERSIONS) {
                    o.busy = true;
                    open_states.insert(Some(key.clone()), o.state.clone());
                    earlier.insert(key.clone(), o.clone());
                    pending.taken.push(key.clone());
                }
            }
        }
        let input: Vec<_> = lines.iter().zip(&matchers).map(|((k, l), m)| (k.clone(), *m, l.as_str())).collect();
        let (placements, last_heads) = place(&input, &mut open_states);
        let ids: Vec<String> = events.iter().map(|e| e.ingest_id.clone()).collect();

        // Heads gather their joined lines; revisions gather their sources' earlier lines.
        let mut bodies: HashMap<usize, (Body, usize)> = HashMap::new();
        let mut revised: HashMap<SourceKey, (usize, usize)> = HashMap::new();
        for (i, p) in placements.iter().enumerate() {
            let line = lines[i].1.as_str();
            match *p {
                Placement::Joined(head) => {
                    // A head with continuations has a body: `line_of` found one.
                    if let Some(body) = Body::of(&events[head].payload) {
                        let (body, n) = bodies.entry(head).or_insert((body, 1));
                        body.append(line);
                        *n += 1;
                    }
                }
                Placement::Earlier => {
                    if let Some(key) = &lines[i].0 {
                        if let Some(o) = earlier.get_mut(key) {
                            o.body.append(line);
                            o.state = open_states.get(&Some(key.clone())).cloned().unwrap_or_default();
                            revised.entry(key.clone()).or_insert((i, 0)).1 += 1;
                        }
                    }
                }
                Placement::Own | Placement::Head => {}
            }
        }
        // Each joined payload is made once. A join that no longer fits the bus is not made:
        // its lines are written as they came.
        let joined: HashMap<usize, (Vec<u8>, usize)> =
            bodies.into_iter().map(|(h, (b, n))| (h, (b.payload(), n))).filter(|(_, (p, _))| p.len() <= self.max_payload).collect();
        let mut revised_payloads: HashMap<SourceKey, Vec<u8>> = HashMap::new();
        revised.retain(|key, _| {
            let Some(payload) = earlier.get(key).map(|o| o.body.payload()).filter(|p| p.len() <= self.max_payload) else { return false };
            revised_payloads.insert(key.clone(), payload);
            true
        });

        let mut out = Vec::with_capacity(events.len());
        for (i, mut e) in events.into_iter().enumerate() {
            match placements[i] {
                Placement::Joined(head) if joined.contains_key(&head) => continue,
                Placement::Earlier => {
                    let key = lines[i].0.clone();
                    match key.as_ref().and_then(|k| revised.get(k).map(|r| (k, *r))) {
                        Some((key, (first, n))) if first == i => {
                            if let Some(o) = earlier.get_mut(key) {
                                o.version += 1;
                                let mut metadata = o.metadata.clone();
                                metadata.insert(REVISION_FIELD.to_owned(), o.version.to_string());
                                metadata.insert(LINES_FIELD.to_owned(), o.state.lines().to_string());
                                o.metadata.clone_from(&metadata);
                                let payload = revised_payloads.remove(key).unwrap_or_default();
                                o.bytes = payload.len();
                                metrics::counter!("nexuslog_gateway_multiline_joined_lines_total").increment(n as u64);
                                metrics::counter!("nexuslog_gateway_multiline_revisions_total").increment(1);
                                out.push((Event { ingest_id: o.ingest_id.clone(), project_id: e.project_id, payload, metadata }, o.received_at));
                            }
                            continue;
                        }
                        Some(_) => continue,
                        None => {}
                    }
                }
                _ => {}
            }
            if let Some((payload, n)) = joined.get(&i) {
                e.payload.clone_from(payload);
                e.metadata.insert(LINES_FIELD.to_owned(), n.to_string());
                metrics::counter!("nexuslog_gateway_multiline_joined_lines_total").increment((*n - 1) as u64);
            }
            out.push((e, received_at));
        }

        // What stays open: per source, its last head of this request, else its revised event.
        for (key, (head, state)) in last_heads {
            let Some(key) = key else { continue };
            earlier.remove(&key);
            let joined_apart = placements.contains(&Placement::Joined(head)) && !joined.contains_key(&head);
            let event = out.iter().map(|(e, _)| e).find(|e| e.ingest_id == ids[head]);
            let (Some(event), Some(matcher), false) = (event, matchers[head], joined_apart) else {
                pending.next.push((key, None));
                continue;
            };
            let Some(body) = Body::of(&event.payload) else { continue };
            let open = Open {
                ingest_id: event.ingest_id.clone(),
                received_at,
                metadata: event.metadata.clone(),
                body,
                state,
                version: 1,
                wait: matcher.wait(),
                last: Instant::now(),
                busy: false,
                bytes: event.payload.len(),
            };
            pending.next.push((key, Some(open)));
        }
        for (key, o) in earlier {
            let keep = revised.contains_key(&key);
            pending.next.push((key, keep.then_some(o)));
        }
        (out, pending)
    }

    /// Applies what a request changed once its events are written (`written`), or gives the
    /// open events it took back unchanged (not written).
    pub fn settle(&self, pending: Pending, written: bool) {
        if pending.next.is_empty() && pending.taken.is_empty() {
            return;
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &pending.taken {
            if let Some(o) = open.get_mut(key) {
                o.busy = false;
            }
        }
        if written {
            for (key, next) in pending.next {
                match next {
                    Some(o) => {
                        open.insert(key, Open { last: Instant::now(), busy: false, ..o });
                    }
                    None => {
                        open.remove(&key);
                    }
                }
            }
        }
        evict(&mut open);
    }
}

/// Drops complete open events (past their wait), then the oldest beyond the count and byte
/// bounds.
fn evict(open: &mut HashMap<SourceKey, Open>) {
    open.retain(|_, o| o.busy || o.last.elapsed() <= o.wait);
    let mut bytes: usize = open.values().map(|o| o.bytes).sum();
    while open.len() > MAX_OPEN || bytes > MAX_OPEN_BYTES {
        let Some(oldest) = open.iter().filter(|(_, o)| !o.busy).min_by_key(|(_, o)| o.last).map(|(k, _)| k.clone()) else { break };
        if let Some(o) = open.remove(&oldest) {
            bytes -= o.bytes;
        }
    }
}

/// An event's source, line and multiline step, when a multiline rule of its project applies.
fn line_of<'p>(
    pipeline: &'p Pipeline,
    source: SourceKind,
    remote: Option<&str>,
    received_at: i64,
    e: &Event,
) -> Option<(SourceKey, String, &'p Matcher)> {
    let raw = RawEvent {
        ingest_id: e.ingest_id.clone(),
        project_id: e.project_id.clone(),
        source,
        received_at,
        remote_addr: remote.map(str::to_owned),
        payload: e.payload.clone(),
        metadata: e.metadata.clone(),
    };
    let record = nexuslog_pipeline::normalize(&raw).ok()?;
    let matcher = pipeline.multiline_for(&record)?;
    let (line, _) = nexuslog_pipeline::multiline::line_of(&raw, &record)?;
    let sender = match source {
        SourceKind::Syslog => format!("{}|{}", e.metadata.get("syslog.listener").map_or("", String::as_str), remote.unwrap_or_default()),
        _ => e.metadata.get("ingest.api_key").cloned().unwrap_or_default(),
    };
    let key = SourceKey { project: e.project_id.clone(), source, sender, host: record.host, service: record.service };
    Some((key, line, matcher))
}

/// Compiles the rules of a project that have a multiline step (only that step: the rest runs
/// in the processor). Stored rules were validated by the API; one that no longer compiles is
/// skipped, loudly.
fn compile(project: &str, definitions: &[String]) -> Option<Arc<Pipeline>> {
    let mut specs = Vec::new();
    for d in definitions {
        match serde_json::from_str::<RuleSpec>(d) {
            Ok(mut spec) if matches!(spec.steps.first(), Some(nexuslog_pipeline::rules::Step::Multiline(_))) => {
                spec.steps.truncate(1);
                specs.push(spec);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(project, error = %e, "skipping a stored rule that does not parse"),
        }
    }
    let pipeline = Pipeline::compile(specs.iter().map(|s| ("", s)), 0)
        .inspect_err(|e| tracing::error!(project, error = %e, "multiline rules do not compile; lines are not joined"))
        .ok()?;
    pipeline.has_multiline().then(|| Arc::new(pipeline))
}

#[cfg(test)]
mod tests {
    use nexuslog_metastore::{PipelineRule, SqliteMetaStore};
    use serde_json::{json, Value};

    use super::*;

    async fn with_rule(dir: &std::path::Path, max_payload: usize) -> (Arc<Multiline>, String) {
        let meta = SqliteMetaStore::open(&dir.join("meta.sqlite")).expect("sqlite");
        meta.migrate().await.expect("migrate");
        let project = meta.create_project("p", "P").await.expect("project").id;
        let definition = json!({ "name": "traces", "when": { "service": "api" }, "steps": [ { "multiline": { "kind": "java" } } ] }).to_string();
        let rule = PipelineRule { id: "r1".into(), project_id: project.clone(), position: 0, definition, created_at: 0, updated_at: 0 };
        meta.save_pipeline_rule(&rule).await.expect("rule");
        (Multiline::new(Arc::new(meta), max_payload), project)
    }

    fn event(project: &str, id: &str, service: &str, message: &str) -> Event {
        let payload = json!({ "service": service, "message": message }).to_string().into_bytes();
        Event { ingest_id: id.into(), project_id: project.into(), payload, metadata: BTreeMap::from([("ingest.api_key".into(), "k1".into())]) }
    }

    fn message(e: &Event) -> String {
        serde_json::from_slice::<Value>(&e.payload).expect("json")["message"].as_str().expect("message").to_owned()
    }

    #[tokio::test]
    async fn joins_within_a_request_then_revises_across_requests() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (m, p) = with_rule(dir.path(), 1 << 20).await;
        let first = vec![event(&p, "e1", "api", "ERROR x"), event(&p, "e2", "web", "at w.W.w(W.java:1)"), event(&p, "e3", "api", "at a.B.c(B.java:1)")];
        let (out, pending) = m.join(SourceKind::Http, None, first, 100).await;
        let ids: Vec<&str> = out.iter().map(|(e, _)| e.ingest_id.as_str()).collect();
        assert_eq!(ids, ["e1", "e2"], "web has no multiline rule: its line stays an event");
        assert_eq!(message(&out[0].0), "ERROR x\nat a.B.c(B.java:1)");
        assert_eq!(out[0].0.metadata[LINES_FIELD], "2");
        m.settle(pending, true);

        let second = vec![event(&p, "e4", "api", "... 3 more"), event(&p, "e5", "api", "INFO y")];
        let (out, pending) = m.join(SourceKind::Http, None, second, 200).await;
        assert_eq!(out.len(), 2);
        let (revision, received_at) = &out[0];
        assert_eq!((revision.ingest_id.as_str(), *received_at), ("e1", 100), "same id and receive time as the first version");
        assert_eq!(message(revision), "ERROR x\nat a.B.c(B.java:1)\n... 3 more");
        assert_eq!((revision.metadata[REVISION_FIELD].as_str(), revision.metadata[LINES_FIELD].as_str()), ("2", "3"));
        assert_eq!((out[1].0.ingest_id.as_str(), out[1].1), ("e5", 200));
        m.settle(pending, true);

        // e5 is now the source's open event; a write that fails leaves it as it was.
        let (out, pending) = m.join(SourceKind::Http, None, vec![event(&p, "e6", "api", "at a.C.d(C.java:2)")], 300).await;
        assert_eq!((out[0].0.ingest_id.as_str(), out[0].0.metadata[REVISION_FIELD].as_str()), ("e5", "2"));
        m.settle(pending, false);
        let (out, pending) = m.join(SourceKind::Http, None, vec![event(&p, "e7", "api", "at a.C.e(C.java:3)")], 400).await;
        assert_eq!(message(&out[0].0), "INFO y\nat a.C.e(C.java:3)", "built on the last written version");
        assert_eq!(out[0].0.metadata[REVISION_FIELD], "2");
        m.settle(pending, true);
    }

    #[tokio::test]
    async fn an_event_being_rewritten_takes_no_other_continuation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (m, p) = with_rule(dir.path(), 1 << 20).await;
        let (_, pending) = m.join(SourceKind::Http, None, vec![event(&p, "e1", "api", "ERROR x")], 100).await;
        m.settle(pending, true);
        let (a, pending_a) = m.join(SourceKind::Http, None, vec![event(&p, "e2", "api", "at a.B.c(B.java:1)")], 200).await;
        assert_eq!(a[0].0.ingest_id, "e1");
        // A concurrent request of the same source while e1's second version is in flight.
        let (b, pending_b) = m.join(SourceKind::Http, None, vec![event(&p, "e3", "api", "at a.B.d(B.java:2)")], 200).await;
        assert_eq!((b[0].0.ingest_id.as_str(), b[0].0.metadata.get(REVISION_FIELD)), ("e3", None), "kept as an event of its own");
        m.settle(pending_a, true);
        m.settle(pending_b, true);
    }

    #[tokio::test]
    async fn a_join_too_large_for_the_bus_is_not_made() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (m, p) = with_rule(dir.path(), 45).await;
        let lines = vec![event(&p, "e1", "api", "ERROR x"), event(&p, "e2", "api", "at a.B.c(B.java:1)")];
        let (out, pending) = m.join(SourceKind::Http, None, lines, 100).await;
        assert_eq!(out.iter().map(|(e, _)| e.ingest_id.as_str()).collect::<Vec<_>>(), ["e1", "e2"], "every line kept, unjoined");
        assert_eq!(message(&out[1].0), "at a.B.c(B.java:1)");
        m.settle(pending, true);
    }

    #[tokio::test]
    async fn syslog_frames_join_by_their_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (m, p) = with_rule(dir.path(), 1 << 20).await;
        let frame = |id: &str, host: &str, msg: &str| Event {
            ingest_id: id.into(),
            project_id: p.clone(),
            payload: format!("<11>Dec  7 10:00:00 {host} api[42]: {msg}").into_bytes(),
            metadata: BTreeMap::from([("syslog.listener".into(), "tcp".into())]),
        };
        let frames = vec![frame("e1", "web-1", "ERROR x"), frame("e2", "web-2", "ERROR y"), frame("e3", "web-1", "at a.B.c(B.java:1)")];
        let (out, pending) = m.join(SourceKind::Syslog, Some("10.0.0.9:514"), frames, 100).await;
        m.settle(pending, true);
        assert_eq!(out.len(), 2, "two hosts behind one relay are two sources");
        let (e, received_at) = &out[0];
        let raw = RawEvent { ingest_id: e.ingest_id.clone(), project_id: p.clone(), source: SourceKind::Syslog, received_at: *received_at, remote_addr: None, payload: e.payload.clone(), metadata: e.metadata.clone() };
        let record = nexuslog_pipeline::normalize(&raw).expect("normalizes");
        assert_eq!((record.message.as_str(), record.host.as_deref()), ("ERROR x\nat a.B.c(B.java:1)", Some("web-1")));
    }
}
