//! The evaluator's half of alerting: merge partials per window, close windows as the watermark
//! passes them, run each group's state machine, and say what changed.
//!
//! Event time only: the clock is the largest (capped) event time any batch reported, or the
//! wall-clock time of an idle processor's heartbeat; a rule's watermark is that clock minus
//! its allowed lateness. Taking the largest time over all partitions means an idle partition
//! never holds windows open; an event that arrives after its window closed is counted on the
//! rule as late and not evaluated. Given the same sequence of batches, the evaluator produces
//! the same transitions with the same ids: replays after a crash are harmless.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::acc::Accumulator;
use crate::collect::PartialBatch;
use crate::spec::{Rule, RuleKind, MAX_GROUPS};
use crate::window::Windows;
use crate::{AlertState, GroupKey};

/// Sample record ids kept per window and group.
pub const MAX_SAMPLES: usize = 10;

/// One state change of one group of one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// Derived from (rule, group, window, new state): the same in every replay.
    pub id: String,
    pub rule_id: String,
    pub group: GroupKey,
    pub from: AlertState,
    pub to: AlertState,
    pub value: Option<f64>,
    pub window_start: i64,
    pub window_end: i64,
    /// The evaluator's event-time clock when it happened.
    pub event_time: i64,
    pub samples: Vec<String>,
}

impl Transition {
    /// Whether channels hear of it: firing, and resolved (firing → ok).
    pub fn notifies(&self) -> bool {
        self.to == AlertState::Firing || (self.from == AlertState::Firing && self.to == AlertState::Ok)
    }
}

fn transition_id(rule_id: &str, group: &GroupKey, window_start: i64, to: AlertState) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    for g in group {
        h.update([0x1f]);
        h.update(g.as_bytes());
    }
    h.update([0x1e]);
    h.update(window_start.to_be_bytes());
    h.update(to.as_str().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Maps written as lists of pairs: JSON object keys must be strings, and groups are lists.
mod pairs {
    use std::collections::BTreeMap;

    use serde::de::{Deserialize, Deserializer};
    use serde::ser::{Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// One window's accumulators by group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct WindowGroups(#[serde(with = "pairs")] BTreeMap<GroupKey, WindowAcc>);

impl std::ops::Deref for WindowGroups {
    type Target = BTreeMap<GroupKey, WindowAcc>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for WindowGroups {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct WindowAcc {
    acc: Accumulator,
    samples: Vec<String>,
    /// Fired before closing (the value could only grow past the threshold).
    fired: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct GroupState {
    state: AlertState,
    /// Start of the window in which the current state began.
    since: i64,
    value: Option<f64>,
    last_window_end: Option<i64>,
}

impl GroupState {
    fn new() -> Self {
        Self { state: AlertState::Ok, since: 0, value: None, last_window_end: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct RuleState {
    /// (window, every) the windows below were cut with; a change starts them afresh.
    geometry: (i64, i64),
    /// The clock when the evaluator first saw the rule: absence is not judged on windows
    /// that started before it existed.
    created: Option<i64>,
    windows: BTreeMap<i64, WindowGroups>,
    #[serde(with = "pairs")]
    groups: BTreeMap<GroupKey, GroupState>,
    /// Start of the newest window already evaluated.
    evaluated_through: Option<i64>,
    groups_dropped: u64,
    late_events: u64,
}

/// A group's state as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStatus {
    pub group: GroupKey,
    pub state: AlertState,
    pub value: Option<f64>,
    pub since: i64,
    pub last_window_end: Option<i64>,
}

/// A rule's evaluation state as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleStatus {
    pub groups: Vec<GroupStatus>,
    pub open_windows: usize,
    /// Events of groups beyond [`MAX_GROUPS`], not evaluated.
    pub groups_dropped: u64,
    /// Events that arrived after their window closed, not evaluated.
    pub late_events: u64,
}

/// The whole evaluation state; serializable so its owner can checkpoint it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluator {
    clock: Option<i64>,
    rules: BTreeMap<String, RuleState>,
    /// Late events over all rules since the state began (for a counter metric).
    #[serde(default)]
    late_total: u64,
}

impl Evaluator {
    /// The event-time clock (largest event time or idle heartbeat seen).
    pub fn clock(&self) -> Option<i64> {
        self.clock
    }

    /// Events that arrived after their window closed, over all rules, ever.
    pub fn late_total(&self) -> u64 {
        self.late_total
    }

    /// Windows held open over all rules.
    pub fn open_windows(&self) -> usize {
        self.rules.values().map(|r| r.windows.len()).sum()
    }

    pub fn status(&self, rule_id: &str) -> Option<RuleStatus> {
        let r = self.rules.get(rule_id)?;
        Some(RuleStatus {
            groups: r
                .groups
                .iter()
                .map(|(g, s)| GroupStatus { group: g.clone(), state: s.state, value: s.value, since: s.since, last_window_end: s.last_window_end })
                .collect(),
            open_windows: r.windows.len(),
            groups_dropped: r.groups_dropped,
            late_events: r.late_events,
        })
    }

    /// Takes one batch of partials (in topic order) and returns the transitions it caused.
    /// `rules` are the enabled rules in force; state of rules no longer there is dropped.
    pub fn apply(&mut self, batch: &PartialBatch, rules: &HashMap<String, Arc<Rule>>) -> Vec<Transition> {
        self.rules.retain(|id, _| rules.get(id).is_some_and(|r| r.enabled));
        for (id, rule) in rules.iter().filter(|(_, r)| r.enabled) {
            let geometry = (rule.window_us, rule.every_us);
            let state = self.rules.entry(id.clone()).or_default();
            if state.geometry != geometry {
                *state = RuleState { geometry, created: self.clock, groups: state.groups.clone(), ..RuleState::default() };
            }
            if state.created.is_none() {
                state.created = self.clock;
            }
            if rule.group_by.is_empty() {
                state.groups.entry(GroupKey::new()).or_insert_with(GroupState::new);
            }
        }
        let mut out = Vec::new();
        let clock = self.clock;
        for p in &batch.partials {
            let (Some(rule), Some(state)) = (rules.get(&p.rule_id), self.rules.get_mut(&p.rule_id)) else { continue };
            let windows = Windows { window_us: rule.window_us, every_us: rule.every_us };
            let closed = clock.is_some_and(|c| windows.is_closed(p.window_start, c - rule.allowed_lateness_us))
                || state.evaluated_through.is_some_and(|e| p.window_start <= e);
            if closed {
                state.late_events += p.acc.count;
                self.late_total += p.acc.count;
                continue;
            }
            if !state.groups.contains_key(&p.group) && state.groups.len() >= MAX_GROUPS {
                state.groups_dropped += p.acc.count;
                continue;
            }
            let group = state.groups.entry(p.group.clone()).or_insert_with(GroupState::new);
            let w = state.windows.entry(p.window_start).or_default().entry(p.group.clone()).or_default();
            w.acc.merge(&p.acc);
            w.samples.extend(p.samples.iter().take(MAX_SAMPLES.saturating_sub(w.samples.len())).cloned());
            if w.fired && group.since == p.window_start {
                // The firing window keeps counting: its value is the one to show.
                group.value = w.acc.value(rule.aggregation.kind);
            }
            if rule.fires_early() && !w.fired && group.state != AlertState::Firing {
                let value = w.acc.value(rule.aggregation.kind);
                if value.is_some_and(|v| rule.condition.holds(v)) {
                    w.fired = true;
                    let now = batch.max_event_time.max(clock).unwrap_or(p.window_start);
                    out.push(move_to(rule, &p.group, group, AlertState::Firing, value, p.window_start, now, &w.samples));
                }
            }
        }
        let advanced = [self.clock, batch.max_event_time, batch.idle_at].into_iter().flatten().max();
        self.clock = advanced;
        if let Some(clock) = advanced {
            for (id, state) in &mut self.rules {
                if let Some(rule) = rules.get(id) {
                    state.created.get_or_insert(clock);
                    close_windows(rule, state, clock - rule.allowed_lateness_us, clock, &mut out);
                }
            }
        }
        out
    }
}

impl crate::spec::Condition {
    pub fn holds(&self, value: f64) -> bool {
        self.op.holds(value, self.threshold)
    }
}

#[allow(clippy::too_many_arguments)]
fn move_to(rule: &Rule, key: &GroupKey, g: &mut GroupState, to: AlertState, value: Option<f64>, start: i64, now: i64, samples: &[String]) -> Transition {
    let t = Transition {
        id: transition_id(&rule.id, key, start, to),
        rule_id: rule.id.clone(),
        group: key.clone(),
        from: g.state,
        to,
        value,
        window_start: start,
        window_end: start + rule.window_us,
        event_time: now,
        samples: samples.to_vec(),
    };
    g.state = to;
    g.since = start;
    g.value = value;
    t
}

/// Evaluates, in order, every window of `rule` that `watermark` closed and that was not yet
/// evaluated. Runs of windows without events are evaluated at their first and last window
/// only: every window in between gives the same answer.
fn close_windows(rule: &Rule, state: &mut RuleState, watermark: i64, clock: i64, out: &mut Vec<Transition>) {
    let geometry = Windows { window_us: rule.window_us, every_us: rule.every_us };
    let last = geometry.last_closed_start(watermark);
    let Some(done) = state.evaluated_through else {
        // First sight of a clock: windows already closed happened before the rule was watched.
        state.evaluated_through = Some(last);
        return;
    };
    if last <= done {
        return;
    }
    let mut starts: BTreeSet<i64> = state.windows.range(done + 1..=last).map(|(s, _)| *s).collect();
    for s in starts.clone().into_iter().chain([done]) {
        if s + rule.every_us <= last {
            starts.insert(s + rule.every_us);
        }
    }
    starts.insert(last);
    let empty = WindowGroups::default();
    for start in starts {
        let data = state.windows.remove(&start).unwrap_or_default();
        let data = if data.is_empty() { &empty } else { &data };
        let judged: Vec<GroupKey> = state
            .groups
            .iter()
            .filter(|(g, s)| data.contains_key(*g) || s.state != AlertState::Ok || rule.kind == RuleKind::Absence)
            .map(|(g, _)| g.clone())
            .collect();
        for key in judged {
            let w = data.get(&key);
            if rule.kind == RuleKind::Absence && w.is_none() && state.created.is_some_and(|c| start < c) {
                continue;
            }
            let acc = w.map(|w| &w.acc);
            let value = acc.map_or(Accumulator::default().value(rule.aggregation.kind), |a| a.value(rule.aggregation.kind));
            let met = value.is_some_and(|v| rule.condition.holds(v));
            let samples = w.map(|w| w.samples.as_slice()).unwrap_or_default();
            let later_fired = state.windows.range(start + 1..).any(|(_, gs)| gs.get(&key).is_some_and(|w| w.fired));
            let Some(g) = state.groups.get_mut(&key) else { continue };
            let end = start + rule.window_us;
            g.last_window_end = Some(end);
            let to = match (g.state, met) {
                (AlertState::Ok, true) if rule.for_us == 0 || rule.window_us >= rule.for_us => Some(AlertState::Firing),
                (AlertState::Ok, true) => Some(AlertState::Pending),
                (AlertState::Pending, true) if end - g.since >= rule.for_us => Some(AlertState::Firing),
                (AlertState::Pending, false) => Some(AlertState::Ok),
                (AlertState::Firing, false) if !later_fired => Some(AlertState::Ok),
                _ => None,
            };
            match to {
                Some(to) => out.push(move_to(rule, &key, g, to, value, start, clock, samples)),
                // A later window that already fired holds the value to show.
                None if !later_fired => g.value = value,
                None => {}
            }
        }
    }
    state.evaluated_through = Some(last);
    // At the cap, forget groups that are OK with no open window (absence rules keep theirs:
    // forgetting a group would stop judging its silence).
    if state.groups.len() >= MAX_GROUPS && rule.kind != RuleKind::Absence {
        let open: BTreeSet<GroupKey> = state.windows.values().flat_map(|w| w.keys()).cloned().collect();
        state.groups.retain(|g, s| s.state != AlertState::Ok || open.contains(g));
    }
}
