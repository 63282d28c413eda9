//! The evaluator driven through the collector, as the processors and the evaluator task drive
//! them: rules as JSON, records in batches, transitions out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use nexuslog_alerting::{AlertState, Collector, Evaluator, PartialBatch, Rule, RuleSet, RuleSpec, Transition};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use proptest::prelude::*;

const S: i64 = 1_000_000;
/// A minute boundary, so windows line up with whole seconds below.
const T0: i64 = 1_700_000_040 * S;

fn rule(id: &str, json: serde_json::Value) -> Arc<Rule> {
    let spec: RuleSpec = serde_json::from_value(json).expect("spec parses");
    Arc::new(spec.compile(id, "p").expect("spec is valid"))
}

fn rules(list: &[Arc<Rule>]) -> HashMap<String, Arc<Rule>> {
    list.iter().map(|r| (r.id.clone(), r.clone())).collect()
}

fn rec(id: &str, at_s: i64, level: Level, fields: &[(&str, FieldValue)]) -> LogRecord {
    let timestamp = T0 + at_s * S;
    LogRecord {
        id: id.into(),
        project_id: "p".into(),
        timestamp,
        timestamp_source: TimestampSource::Event,
        received_at: timestamp,
        level,
        message: "request failed".into(),
        host: Some("web-1".into()),
        service: None,
        source: SourceKind::Http,
        fields: fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        parse_status: ParseStatus::Ok,
        parse_errors: Vec::new(),
        trace_id: None,
        span_id: None,
    }
}

fn err(id: &str, at_s: i64) -> LogRecord {
    rec(id, at_s, Level::Error, &[])
}

fn batch(records: &[LogRecord], rules: &HashMap<String, Arc<Rule>>) -> PartialBatch {
    let list = RuleSet::new(rules.values().cloned());
    let mut c = Collector::default();
    for r in records {
        c.observe(r, &list);
    }
    c.finish()
}

fn heartbeat(at_s: i64) -> PartialBatch {
    PartialBatch::heartbeat(T0 + at_s * S)
}

fn states(ts: &[Transition]) -> Vec<(AlertState, AlertState, Option<f64>)> {
    ts.iter().map(|t| (t.from, t.to, t.value)).collect()
}

fn count_rule() -> Arc<Rule> {
    rule("errors", serde_json::json!({"name": "errors", "query": "level:error", "window": "1m", "allowed_lateness": "5s",
        "condition": {"op": ">", "threshold": 3}}))
}

#[test]
fn a_count_rule_fires_on_the_crossing_event_and_resolves_after() {
    let rs = rules(&[count_rule()]);
    let mut ev = Evaluator::default();
    assert!(ev.apply(&batch(&[err("a", 1), err("b", 2), err("c", 3)], &rs), &rs).is_empty());
    // The fourth error crosses `> 3`: firing now, not when the window closes.
    let fired = ev.apply(&batch(&[err("d", 4), rec("i", 5, Level::Info, &[])], &rs), &rs);
    assert_eq!(states(&fired), vec![(AlertState::Ok, AlertState::Firing, Some(4.0))]);
    assert_eq!(fired[0].samples, vec!["a", "b", "c", "d"], "the samples are the window's first matching events");
    assert_eq!((fired[0].window_start, fired[0].window_end), (T0, T0 + 60 * S));
    // More errors in the same window change nothing; the window closes at 60 s + 5 s lateness.
    assert!(ev.apply(&batch(&[err("e", 30)], &rs), &rs).is_empty());
    assert!(ev.apply(&heartbeat(64), &rs).is_empty());
    assert!(ev.apply(&heartbeat(65), &rs).is_empty(), "the closed window still holds (5 errors)");
    // A quiet second minute resolves it when that window closes.
    let resolved = ev.apply(&heartbeat(125), &rs);
    assert_eq!(states(&resolved), vec![(AlertState::Firing, AlertState::Ok, Some(0.0))]);
    assert!(resolved[0].notifies() && fired[0].notifies());
    assert_ne!(resolved[0].id, fired[0].id);
}

#[test]
fn closing_an_earlier_quiet_window_keeps_the_firing_windows_value() {
    let rs = rules(&[count_rule()]);
    let mut ev = Evaluator::default();
    ev.apply(&heartbeat(-10), &rs);
    let fired = ev.apply(&batch(&[err("a", 20), err("b", 21), err("c", 22), err("d", 23), err("e", 24)], &rs), &rs);
    assert_eq!(states(&fired), vec![(AlertState::Ok, AlertState::Firing, Some(5.0))]);
    ev.apply(&batch(&[err("f", 25)], &rs), &rs);
    // The clock passes the end of the quiet minute before (closing [-60 s, 0)).
    assert!(ev.apply(&heartbeat(30), &rs).is_empty());
    let group = &ev.status("errors").expect("status").groups[0];
    assert_eq!((group.state, group.value), (AlertState::Firing, Some(6.0)));
}

#[test]
fn late_events_within_the_lateness_count_and_later_ones_do_not() {
    let r = rule("avg", serde_json::json!({"name": "slow", "window": "1m", "allowed_lateness": "10s",
        "aggregation": {"avg": {"field": "latency"}}, "condition": {"op": ">", "threshold": 100}}));
    let rs = rules(&[r]);
    let lat = |id: &str, at: i64, v: i64| rec(id, at, Level::Info, &[("latency", FieldValue::Long(v))]);
    let mut ev = Evaluator::default();
    ev.apply(&batch(&[lat("a", 10, 50), lat("b", 20, 100)], &rs), &rs);
    // The clock reaches 65 s: window [0, 60) is still open (watermark 55 s).
    assert!(ev.apply(&batch(&[lat("c", 65, 1)], &rs), &rs).is_empty());
    // A late event at 59 s within the lateness raises the average to (50+100+300)/3 = 150.
    ev.apply(&batch(&[lat("d", 59, 300)], &rs), &rs);
    let fired = ev.apply(&heartbeat(70), &rs);
    assert_eq!(states(&fired), vec![(AlertState::Ok, AlertState::Firing, Some(150.0))]);
    // Now closed: another event for it is counted as late and changes nothing.
    assert!(ev.apply(&batch(&[lat("e", 30, 100_000)], &rs), &rs).is_empty());
    assert_eq!(ev.status("avg").expect("status").late_events, 1);
}

#[test]
fn an_absence_rule_fires_on_silence_and_resolves_on_the_next_event() {
    let r = rule("silent", serde_json::json!({"name": "no heartbeats", "query": "heartbeat", "window": "1m", "kind": "absence", "allowed_lateness": "0s"}));
    let rs = rules(&[r]);
    let beat = |id: &str, at: i64| {
        let mut r = rec(id, at, Level::Info, &[]);
        r.message = "heartbeat ok".into();
        r
    };
    let mut ev = Evaluator::default();
    ev.apply(&batch(&[beat("a", 0)], &rs), &rs);
    assert!(ev.apply(&heartbeat(61), &rs).is_empty(), "the first minute had a heartbeat");
    let fired = ev.apply(&heartbeat(121), &rs);
    assert_eq!(states(&fired), vec![(AlertState::Ok, AlertState::Firing, Some(0.0))]);
    assert_eq!(fired[0].window_start, T0 + 60 * S);
    ev.apply(&batch(&[beat("b", 130)], &rs), &rs);
    let resolved = ev.apply(&heartbeat(181), &rs);
    assert_eq!(states(&resolved), vec![(AlertState::Firing, AlertState::Ok, Some(1.0))]);
}

#[test]
fn a_group_by_rule_fires_for_one_group_only() {
    let r = rule("by-host", serde_json::json!({"name": "errors by host", "query": "level:error", "window": "1m", "group_by": ["host"],
        "condition": {"op": ">=", "threshold": 2}}));
    let rs = rules(&[r]);
    let on = |id: &str, host: &str| {
        let mut r = err(id, 5);
        r.host = Some(host.into());
        r
    };
    let mut ev = Evaluator::default();
    let out = ev.apply(&batch(&[on("a", "web-1"), on("b", "web-2"), on("c", "web-1")], &rs), &rs);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].group, vec!["web-1".to_owned()]);
    let status = ev.status("by-host").expect("status");
    let firing: Vec<_> = status.groups.iter().filter(|g| g.state == AlertState::Firing).map(|g| g.group.clone()).collect();
    assert_eq!(firing, vec![vec!["web-1".to_owned()]]);
}

#[test]
fn for_keeps_a_rule_pending_until_the_condition_held_long_enough() {
    let r = rule("sustained", serde_json::json!({"name": "sustained", "query": "level:error", "window": "1m", "for": "3m", "allowed_lateness": "0s",
        "condition": {"op": ">", "threshold": 0}}));
    let rs = rules(&[r]);
    let mut ev = Evaluator::default();
    let mut seen = Vec::new();
    for minute in 0..4 {
        ev.apply(&batch(&[err(&format!("e{minute}"), minute * 60 + 1)], &rs), &rs);
        seen.extend(states(&ev.apply(&heartbeat(minute * 60 + 60), &rs)));
    }
    assert_eq!(
        seen,
        vec![(AlertState::Ok, AlertState::Pending, Some(1.0)), (AlertState::Pending, AlertState::Firing, Some(1.0))],
        "pending after the first minute, firing once three minutes held"
    );
}

#[test]
fn a_disabled_or_deleted_rule_stops_and_forgets() {
    let r = count_rule();
    let rs = rules(std::slice::from_ref(&r));
    let mut ev = Evaluator::default();
    ev.apply(&batch(&[err("a", 1)], &rs), &rs);
    let mut disabled = (*r).clone();
    disabled.enabled = false;
    let off = rules(&[Arc::new(disabled)]);
    let out = ev.apply(&batch(&[err("b", 2), err("c", 3), err("d", 4), err("e", 5)], &off), &off);
    assert!(out.is_empty());
    assert!(ev.status("errors").is_none());
}

#[test]
fn a_checkpointed_evaluator_continues_as_if_never_stopped() {
    let rs = rules(&[count_rule()]);
    let batches: Vec<PartialBatch> =
        vec![batch(&[err("a", 1), err("b", 2)], &rs), batch(&[err("c", 3), err("d", 4)], &rs), heartbeat(65), heartbeat(130)];
    let mut straight = Evaluator::default();
    let all: Vec<Transition> = batches.iter().flat_map(|b| straight.apply(b, &rs)).collect();
    let mut first = Evaluator::default();
    let mut resumed_out: Vec<Transition> = first.apply(&batches[0], &rs);
    let saved = serde_json::to_string(&first).expect("serializes");
    let mut resumed: Evaluator = serde_json::from_str(&saved).expect("deserializes");
    for b in &batches[1..] {
        resumed_out.extend(resumed.apply(b, &rs));
    }
    assert_eq!(resumed_out, all);
    assert_eq!(all.len(), 2);
}

fn run(ev: &mut Evaluator, batches: &[PartialBatch], rs: &HashMap<String, Arc<Rule>>) -> BTreeMap<String, Transition> {
    batches.iter().flat_map(|b| ev.apply(b, rs)).map(|t| (t.id.clone(), t)).collect()
}

proptest! {
    /// However events are spread over batches (partitions, replicas) and in whatever order
    /// they arrive within the lateness, the same windows fire with the same exact values.
    #[test]
    fn the_result_does_not_depend_on_how_events_are_split(
        events in proptest::collection::vec((0i64..300, 0i64..3, 0i64..500), 1..150),
        cuts in proptest::collection::vec(0usize..150, 0..10),
        seed in any::<u64>(),
    ) {
        // `for` equal to the window: judged when windows close (an early firing is attributed
        // to whichever window crossed first, which depends on arrival order by nature).
        let count = rule("count", serde_json::json!({"name": "c", "window": "1m", "every": "20s", "allowed_lateness": "10m", "for": "1m",
            "group_by": ["host"], "condition": {"op": ">", "threshold": 5}}));
        let avg = rule("avg", serde_json::json!({"name": "a", "window": "1m", "allowed_lateness": "10m",
            "aggregation": {"avg": {"field": "v"}}, "condition": {"op": ">", "threshold": 250}}));
        let rs = rules(&[count, avg]);
        let records: Vec<LogRecord> = events.iter().enumerate().map(|(i, (at, host, v))| {
            let mut r = rec(&format!("r{i}"), *at, Level::Info, &[("v", FieldValue::Long(*v))]);
            r.host = Some(format!("h{host}"));
            r
        }).collect();
        let mut whole = Evaluator::default();
        let expected = run(&mut whole, &[batch(&records, &rs), heartbeat(2000)], &rs);

        // Shuffle deterministically and cut into batches.
        let mut shuffled = records.clone();
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(shuffled.len())).collect();
        bounds.extend([0, shuffled.len()]);
        bounds.sort_unstable();
        let mut batches: Vec<PartialBatch> = bounds.windows(2).map(|w| batch(&shuffled[w[0]..w[1]], &rs)).collect();
        batches.push(heartbeat(2000));
        let mut split = Evaluator::default();
        let got = run(&mut split, &batches, &rs);

        prop_assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
        for (id, t) in &expected {
            prop_assert_eq!(got[id].value, t.value);
        }
    }
}
