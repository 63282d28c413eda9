//! The alert evaluator task: partials topic in, alert events out, state kept as a changelog.
//!
//! One partition holds every processor's partials in one order, so one member of the
//! evaluator group judges all rules. Each commit is one bus transaction holding the alert
//! events it caused, a snapshot of the whole evaluation state (with the partials offset it
//! reflects) on the state topic, and the partials offset itself. After a crash or when another
//! replica takes over, the newest snapshot and the committed offset agree, and evaluation
//! resumes exactly there: no window forgotten, none counted twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexuslog_alerting::{render, status_key, Evaluator, PartialBatch, Rule, Transition};
use nexuslog_bus::{positions, Bus, BusError, Consumer, InRecord, OutRecord, Topics};
use nexuslog_common::backoff::Backoff;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::{AlertEvent, AlertSeverity, AlertState};
use nexuslog_metastore::{AlertTransitionRow, MetaStore};
use nexuslog_state::StateStore;
use serde::{Deserialize, Serialize};

use super::rules::AlertRuleRegistry;

/// Consumer group of the evaluators (one active member: the partials topic has one partition).
pub const EVALUATOR_GROUP: &str = "nexuslog-alert-evaluator";
/// How often rule states are published for the API.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Snapshots kept on the state topic before older ones are deleted.
const SNAPSHOTS_KEPT: u32 = 100;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    /// The partials offset this state includes everything before.
    next_offset: i64,
    evaluator: Evaluator,
}

pub struct AlertEvaluator {
    bus: Arc<dyn Bus>,
    codec: Codec,
    topics: Topics,
    rules: Arc<AlertRuleRegistry>,
    state: Arc<dyn StateStore>,
    meta: Arc<dyn MetaStore>,
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("alert event: {0}")]
    Encode(String),
    #[error("the state topic and the committed offset disagree for too long (snapshot {snapshot}, committed {committed})")]
    Stale { snapshot: i64, committed: i64 },
}

/// Alert event of a notifying transition; groups travel as `group.<field>` labels.
pub fn alert_event(rule: &Rule, t: &Transition) -> AlertEvent {
    let mut labels = rule.labels.clone();
    for (field, value) in rule.group_by.iter().zip(&t.group) {
        labels.insert(format!("group.{field}"), value.clone());
    }
    let value = t.value.unwrap_or(f64::NAN);
    let firing = t.to == nexuslog_alerting::AlertState::Firing;
    let vars = BTreeMap::from([
        ("rule", rule.name.clone()),
        ("state", if firing { "firing" } else { "resolved" }.to_owned()),
        ("value", t.value.map_or_else(|| "none".to_owned(), |v| v.to_string())),
        ("threshold", rule.condition.threshold.to_string()),
        ("op", rule.condition.op.symbol().to_owned()),
        ("aggregation", rule.aggregation.kind.as_str().to_owned()),
        ("group", t.group.join(",")),
        ("severity", rule.severity.as_str().to_owned()),
        ("window_start", nexuslog_query::time::format_rfc3339(t.window_start)),
        ("window_end", nexuslog_query::time::format_rfc3339(t.window_end)),
    ]);
    let template = rule.message.as_deref().unwrap_or("[{{state}}] {{rule}}: {{aggregation}} {{value}} {{op}} {{threshold}}");
    AlertEvent {
        transition_id: t.id.clone(),
        project_id: rule.project_id.clone(),
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        state: if firing { AlertState::Firing } else { AlertState::Resolved },
        severity: match rule.severity {
            nexuslog_alerting::Severity::Info => AlertSeverity::Info,
            nexuslog_alerting::Severity::Warning => AlertSeverity::Warning,
            nexuslog_alerting::Severity::Critical => AlertSeverity::Critical,
        },
        at: t.event_time,
        window_start: t.window_start,
        window_end: t.window_end,
        value,
        threshold: rule.condition.threshold,
        summary: render(template, &vars),
        sample_ids: t.samples.clone(),
        labels,
    }
}

impl AlertEvaluator {
    pub fn new(bus: Arc<dyn Bus>, codec: Codec, topics: Topics, rules: Arc<AlertRuleRegistry>, state: Arc<dyn StateStore>, meta: Arc<dyn MetaStore>) -> Self {
        Self { bus, codec, topics, rules, state, meta }
    }

    /// Runs until `shutdown`; transient trouble is retried with backoff.
    pub async fn run(self, shutdown: Shutdown) {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        while !shutdown.is_triggered() {
            match self.session(&shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "alert evaluator restarting from its last snapshot");
                    backoff.pause(&shutdown).await;
                }
            }
        }
    }

    /// The newest snapshot, once it agrees with the group's committed offset (the commit that
    /// wrote it may still be landing when another member just took over).
    async fn restore(&self, consumer: &mut dyn Consumer) -> Result<Snapshot, StepError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let committed = consumer.committed(&self.topics.alert_partials).await?.into_iter().find(|p| p.partition == 0).map_or(0, |p| p.next_offset);
            let snapshot = match self.bus.last_record(&self.topics.alert_state, 0).await? {
                Some(r) => serde_json::from_slice::<Snapshot>(&r.payload).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "unreadable alert state snapshot; starting empty");
                    Snapshot::default()
                }),
                None => Snapshot::default(),
            };
            if snapshot.next_offset == committed {
                tracing::info!(next_offset = committed, open_windows = snapshot.evaluator.open_windows(), "alert evaluator state restored");
                return Ok(snapshot);
            }
            if Instant::now() > deadline {
                return Err(StepError::Stale { snapshot: snapshot.next_offset, committed });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn session(&self, shutdown: &Shutdown) -> Result<(), StepError> {
        let mut consumer = self.bus.consumer(EVALUATOR_GROUP, std::slice::from_ref(&self.topics.alert_partials)).await?;
        // An empty transaction first: it fences and aborts whatever a killed predecessor with
        // our transactional id left open, so the state topic's tail is settled.
        consumer.commit_with_outputs(Vec::new(), &[]).await?;
        let mut snap = self.restore(consumer.as_mut()).await?;
        let mut commits = 0u32;
        let mut published = Instant::now() - STATUS_EVERY;
        let (mut trim, mut publishing) = (None, None);
        loop {
            let batch = tokio::select! {
                r = consumer.poll(1000, Duration::from_millis(100)) => r?,
                () = shutdown.wait() => return Ok(()),
            };
            if batch.is_empty() {
                continue;
            }
            // Another member committed since our last commit (we lost the partition and got
            // it back): its snapshot is the truth.
            let committed = consumer.committed(&self.topics.alert_partials).await?.into_iter().find(|p| p.partition == 0).map_or(0, |p| p.next_offset);
            if committed != snap.next_offset {
                snap = self.restore(consumer.as_mut()).await?;
            }
            let fresh: Vec<&InRecord> = batch.iter().filter(|r| r.offset >= snap.next_offset).collect();
            let Some(last) = fresh.last() else { continue };
            let next_offset = last.offset + 1;
            let rules = self.rules.snapshot();
            let mut outputs = Vec::new();
            // Transitions nobody is notified of (into and out of pending): history only.
            let mut quiet = Vec::new();
            let started = Instant::now();
            for rec in &fresh {
                let partials: PartialBatch = match serde_json::from_slice(&rec.payload) {
                    Ok(p) => p,
                    Err(e) => {
                        // Written by a processor of another version: skipped, not fatal.
                        tracing::error!(offset = rec.offset, error = %e, "unreadable alert partials skipped");
                        metrics::counter!("nexuslog_alert_partials_unreadable_total").increment(1);
                        continue;
                    }
                };
                let late_before = snap.evaluator.late_total();
                let transitions = snap.evaluator.apply(&partials, &rules.by_id);
                metrics::counter!("nexuslog_alert_late_events_total").increment(snap.evaluator.late_total() - late_before);
                for t in transitions {
                    metrics::counter!("nexuslog_alert_transitions_total", "to" => t.to.as_str()).increment(1);
                    tracing::info!(rule = t.rule_id, group = ?t.group, from = t.from.as_str(), to = t.to.as_str(), value = ?t.value, "alert transition");
                    let Some(rule) = rules.by_id.get(&t.rule_id) else { continue };
                    if !t.notifies() {
                        quiet.push((rule.clone(), t));
                        continue;
                    }
                    {
                        let event = alert_event(rule, &t);
                        let payload = self.codec.encode(&self.topics.alerts, &event).await.map_err(|e| StepError::Encode(e.to_string()))?;
                        outputs.push(OutRecord { topic: self.topics.alerts.clone(), key: Some(rule.id.clone().into_bytes()), payload, ..Default::default() });
                    }
                }
            }
            snap.next_offset = next_offset;
            let state = serde_json::to_vec(&snap).map_err(|e| StepError::Encode(e.to_string()))?;
            outputs.push(OutRecord { topic: self.topics.alert_state.clone(), key: Some(b"evaluator".to_vec()), payload: state, ..Default::default() });
            let owned: Vec<InRecord> = fresh.into_iter().cloned().collect();
            // On failure nothing is visible: the session restarts from the last snapshot.
            consumer.commit_with_outputs(outputs, &positions(&owned)).await?;
            self.record_quiet(&quiet).await;
            metrics::histogram!("nexuslog_alert_evaluation_duration_seconds").record(started.elapsed().as_secs_f64());
            metrics::gauge!("nexuslog_alert_open_windows").set(snap.evaluator.open_windows() as f64);
            if let Some(clock) = snap.evaluator.clock() {
                metrics::gauge!("nexuslog_alert_watermark_lag_seconds").set((nexuslog_common::now_micros() - clock) as f64 / 1e6);
            }
            commits += 1;
            // Off the loop: finding the newest snapshot is a read of the topic's tail, and the
            // evaluation must not wait for it. One trim at a time.
            if commits.is_multiple_of(SNAPSHOTS_KEPT) && trim.as_ref().is_none_or(tokio::task::JoinHandle::is_finished) {
                trim = Some(tokio::spawn(truncate_state(self.bus.clone(), self.topics.alert_state.clone())));
            }
            if published.elapsed() >= STATUS_EVERY && publishing.as_ref().is_none_or(tokio::task::JoinHandle::is_finished) {
                published = Instant::now();
                publishing = Some(tokio::spawn(publish(self.state.clone(), statuses(&snap.evaluator, &rules.by_id))));
            }
        }
    }

    /// Records pending transitions in the history after their commit. Best effort: they
    /// notify nobody, so a crash in between costs a history line, never a notification; the
    /// ids make a repeated write harmless.
    async fn record_quiet(&self, quiet: &[(Arc<Rule>, Transition)]) {
        for (rule, t) in quiet {
            let group: BTreeMap<&String, &String> = rule.group_by.iter().zip(&t.group).collect();
            let row = AlertTransitionRow {
                id: t.id.clone(),
                project_id: rule.project_id.clone(),
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                group_key: serde_json::to_string(&group).unwrap_or_default(),
                from_state: t.from.as_str().to_owned(),
                to_state: t.to.as_str().to_owned(),
                value: t.value,
                threshold: rule.condition.threshold,
                severity: rule.severity.as_str().to_owned(),
                window_start: t.window_start,
                window_end: t.window_end,
                event_time: t.event_time,
                recorded_at: nexuslog_common::now_micros(),
                samples: serde_json::to_string(&t.samples).unwrap_or_default(),
                labels: serde_json::to_string(&rule.labels).unwrap_or_default(),
                message: String::new(),
                acked_by: None,
                acked_at: None,
            };
            if let Err(e) = self.meta.record_transition(&row, &[]).await {
                tracing::warn!(error = %e, rule = rule.id, "cannot record a pending transition in the history");
            }
        }
    }
}

/// Deletes snapshots older than the newest committed one (best effort: a failure only costs
/// disk; the newest is never deleted, so a restart always finds its snapshot).
async fn truncate_state(bus: Arc<dyn Bus>, topic: String) {
    match bus.last_record(&topic, 0).await {
        Ok(Some(last)) => {
            if let Err(e) = bus.delete_before(&topic, 0, last.offset).await {
                tracing::warn!(error = %e, "cannot delete old alert state snapshots");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the alert state tail"),
    }
}

/// Each rule's status, as the API reads it.
fn statuses(evaluator: &Evaluator, rules: &std::collections::HashMap<String, Arc<Rule>>) -> Vec<(String, Vec<u8>)> {
    rules.keys().filter_map(|id| Some((status_key(id), serde_json::to_vec(&evaluator.status(id)?).ok()?))).collect()
}

/// Writes the statuses where the API reads them: best effort, refreshed every second, off the
/// evaluation loop (a slow state store must not delay notifications).
async fn publish(state: Arc<dyn StateStore>, statuses: Vec<(String, Vec<u8>)>) {
    for (key, json) in statuses {
        if let Err(e) = state.set(&key, &json, Some(Duration::from_secs(3600))).await {
            tracing::warn!(error = %e, "cannot publish alert rule status");
            return;
        }
    }
}
