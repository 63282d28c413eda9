//! The notifier: alert events in, notifications out, each transition delivered to each of its
//! rule's channels once.
//!
//! For every event it first records the transition and one delivery per channel, with ids
//! derived from the transition, in the metadata store; only then does it send. A crash anywhere
//! replays the event: the transition is found recorded, finished deliveries are skipped, and an
//! unfinished one is retried under the same delivery id. Offsets are committed after every
//! delivery of the batch ended (delivered, failed for good, or silenced).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use nexuslog_alerting::channel::{delivery_id, percent_encode, ChannelConfig, Notification, NotificationRule, NotificationWindow};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nexuslog_notify::{Failure, Sender};
use nexuslog_bus::{positions, Bus, Consumer};
use nexuslog_common::backoff::Backoff;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_metastore::{AlertDelivery, AlertSilence, AlertTransitionRow, DeliveryAttempt, MetaStore, MetaStoreError};
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::{AlertEvent, AlertState};

use super::rules::AlertRuleRegistry;
use nexuslog_bus::Topics;

pub const NOTIFIER_GROUP: &str = "nexuslog-notifier";

#[derive(Debug, Clone)]
pub struct NotifierSettings {
    pub max_attempts: u32,
    pub retry_initial: Duration,
    pub public_url: String,
    /// Most notifications per minute per (rule, channel); `None`: no limit.
    pub throttle_per_minute: Option<std::num::NonZeroU32>,
}

pub struct Notifier {
    bus: Arc<dyn Bus>,
    codec: Codec,
    topics: Topics,
    meta: Arc<dyn MetaStore>,
    rules: Arc<AlertRuleRegistry>,
    sender: Sender,
    settings: NotifierSettings,
    throttle: Option<DefaultKeyedRateLimiter<(String, String)>>,
}

/// Whether a silence covers an event: same project, in its time range, and every matcher
/// (`rule_id`, each label) equal.
pub fn silenced_by(s: &AlertSilence, e: &AlertEvent, now: i64) -> bool {
    if s.project_id != e.project_id || now < s.starts_at || now >= s.ends_at {
        return false;
    }
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&s.matchers) else { return false };
    if m.get("rule_id").and_then(|v| v.as_str()).is_some_and(|r| r != e.rule_id) {
        return false;
    }
    m.get("labels").and_then(|l| l.as_object()).is_none_or(|labels| labels.iter().all(|(k, v)| v.as_str().is_some_and(|v| e.labels.get(k).map(String::as_str) == Some(v))))
}

fn jitter(d: Duration) -> Duration {
    // ±20%, from the clock's nanoseconds: spreads retries without another dependency.
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.subsec_nanos());
    let factor = 0.8 + f64::from(n % 1000) / 1000.0 * 0.4;
    d.mul_f64(factor)
}

impl Notifier {
    pub fn new(
        bus: Arc<dyn Bus>,
        codec: Codec,
        topics: Topics,
        meta: Arc<dyn MetaStore>,
        rules: Arc<AlertRuleRegistry>,
        sender: Sender,
        settings: NotifierSettings,
    ) -> Self {
        let throttle = settings.throttle_per_minute.map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Self { bus, codec, topics, meta, rules, sender, settings, throttle }
    }

    pub async fn run(self, shutdown: Shutdown) {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        let mut consumer: Option<Box<dyn Consumer>> = None;
        while !shutdown.is_triggered() {
            let c = match consumer.as_mut() {
                Some(c) => c,
                None => match self.bus.consumer(NOTIFIER_GROUP, std::slice::from_ref(&self.topics.alerts)).await {
                    Ok(c) => consumer.insert(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "notifier cannot consume alerts; retrying");
                        backoff.pause(&shutdown).await;
                        continue;
                    }
                },
            };
            let batch = tokio::select! {
                r = c.poll(100, Duration::from_millis(100)) => r,
                () = shutdown.wait() => return,
            };
            let batch = match batch {
                Ok(b) if b.is_empty() => continue,
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "notifier poll failed");
                    backoff.pause(&shutdown).await;
                    continue;
                }
            };
            let mut events = Vec::with_capacity(batch.len());
            for rec in &batch {
                match self.codec.decode::<AlertEvent>(&rec.payload).await {
                    Ok(e) => events.push(e),
                    Err(e) => tracing::error!(offset = rec.offset, error = %e, "undecodable alert event skipped"),
                }
            }
            // Events of a batch are delivered concurrently: one slow receiver does not hold
            // back the others' notifications.
            let results = futures::future::join_all(events.iter().map(|e| self.handle(e))).await;
            if let Some(e) = results.into_iter().find_map(Result::err) {
                tracing::warn!(error = %e, "cannot record alert deliveries; the batch will be retried");
                consumer = None;
                backoff.pause(&shutdown).await;
                continue;
            }
            if let Err(e) = c.commit(&positions(&batch)).await {
                tracing::warn!(error = %e, "notifier commit failed; the batch may be replayed (same delivery ids)");
                consumer = None;
            }
            backoff.reset();
        }
    }

    async fn handle(&self, e: &AlertEvent) -> Result<(), MetaStoreError> {
        let rules = self.rules.snapshot();
        let rule = rules.by_id.get(&e.rule_id);
        let now = nexuslog_common::now_micros();
        let silenced = self.meta.alert_silences(&e.project_id, now).await?.iter().any(|s| silenced_by(s, e, now));
        let firing = e.state == AlertState::Firing;
        let group: BTreeMap<String, String> = e.labels.iter().filter_map(|(k, v)| k.strip_prefix("group.").map(|f| (f.to_owned(), v.clone()))).collect();
        let row = AlertTransitionRow {
            id: e.transition_id.clone(),
            project_id: e.project_id.clone(),
            rule_id: e.rule_id.clone(),
            rule_name: e.rule_name.clone(),
            group_key: serde_json::to_string(&group).unwrap_or_default(),
            from_state: if firing { if rule.is_some_and(|r| r.for_us > r.window_us) { "pending" } else { "ok" } } else { "firing" }.into(),
            to_state: if firing { "firing" } else { "ok" }.into(),
            value: e.value.is_finite().then_some(e.value),
            threshold: e.threshold,
            severity: e.severity.symbol().to_ascii_lowercase(),
            window_start: e.window_start,
            window_end: e.window_end,
            event_time: e.at,
            recorded_at: now,
            samples: serde_json::to_string(&e.sample_ids).unwrap_or_default(),
            labels: serde_json::to_string(&e.labels).unwrap_or_default(),
            message: e.summary.clone(),
            acked_by: None,
            acked_at: None,
        };
        let deliveries: Vec<AlertDelivery> = rule
            .map(|r| r.channels.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| AlertDelivery {
                id: delivery_id(&e.transition_id, c),
                transition_id: e.transition_id.clone(),
                channel_id: c.clone(),
                status: if silenced { "silenced" } else { "pending" }.into(),
                attempts: 0,
                last_error: None,
                updated_at: now,
            })
            .collect();
        if self.meta.record_transition(&row, &deliveries).await? {
            metrics::counter!("nexuslog_alert_transitions_recorded_total").increment(1);
        }
        let query = rule.map(|r| r.query.to_string()).unwrap_or_default();
        let slug = self.meta.project_by_id(&e.project_id).await?.map_or_else(|| e.project_id.clone(), |p| p.slug);
        for d in self.meta.alert_deliveries(&e.transition_id).await? {
            if d.status == "pending" {
                self.deliver(e, &d, &group, &Search { project: &slug, query: &query }).await?;
            }
        }
        Ok(())
    }

    fn notification(&self, e: &AlertEvent, delivery: &AlertDelivery, group: &BTreeMap<String, String>, search: &Search<'_>) -> Notification {
        let fmt = nexuslog_query::time::format_rfc3339;
        let link = format!(
            "{}/v1/projects/{}/search?q={}&from={}&to={}",
            self.settings.public_url.trim_end_matches('/'),
            percent_encode(search.project),
            percent_encode(search.query),
            percent_encode(&fmt(e.window_start)),
            percent_encode(&fmt(e.window_end))
        );
        Notification {
            delivery_id: delivery.id.clone(),
            rule: NotificationRule { id: e.rule_id.clone(), name: e.rule_name.clone() },
            state: if e.state == AlertState::Firing { "firing" } else { "resolved" }.into(),
            group: group.clone(),
            value: e.value.is_finite().then_some(e.value),
            threshold: e.threshold,
            window: NotificationWindow { start: fmt(e.window_start), end: fmt(e.window_end) },
            severity: e.severity.symbol().to_ascii_lowercase(),
            labels: e.labels.clone(),
            message: e.summary.clone(),
            samples: e.sample_ids.clone(),
            link,
        }
    }

    /// Sends one delivery, retrying with backoff, recording every attempt.
    async fn deliver(&self, e: &AlertEvent, d: &AlertDelivery, group: &BTreeMap<String, String>, search: &Search<'_>) -> Result<(), MetaStoreError> {
        let channel = match self.meta.alert_channel(&e.project_id, &d.channel_id).await? {
            Some(c) => c,
            None => return self.give_up(d, d.attempts + 1, "the channel was deleted".into()).await,
        };
        let config = match serde_json::from_str(&channel.config).map_err(|e| e.to_string()).and_then(|v| ChannelConfig::parse(&channel.kind, &v).map_err(|e| e.to_string())) {
            Ok(c) => c,
            Err(err) => return self.give_up(d, d.attempts + 1, format!("invalid channel configuration: {err}")).await,
        };
        // A first attempt over the rule's budget for this channel is not sent (a retry of a
        // delivery already under way is).
        if d.attempts == 0 && self.throttle.as_ref().is_some_and(|t| t.check_key(&(e.rule_id.clone(), d.channel_id.clone())).is_err()) {
            metrics::counter!("nexuslog_alert_notifications_throttled_total").increment(1);
            let at = nexuslog_common::now_micros();
            let detail = "throttled: over alerting.throttle_per_minute for this rule and channel".to_owned();
            return self.meta.record_delivery_attempt(&DeliveryAttempt { delivery_id: d.id.clone(), attempt: 1, at, ok: false, detail }, "throttled").await;
        }
        let notification = self.notification(e, d, group, search);
        let mut attempt = d.attempts;
        while attempt < i64::from(self.settings.max_attempts) {
            attempt += 1;
            let outcome = self.sender.send(&config, &notification, nexuslog_common::now_micros() / 1000).await;
            let at = nexuslog_common::now_micros();
            match outcome {
                Ok(detail) => {
                    self.meta.record_delivery_attempt(&DeliveryAttempt { delivery_id: d.id.clone(), attempt, at, ok: true, detail }, "delivered").await?;
                    metrics::counter!("nexuslog_alert_notifications_sent_total", "type" => channel.kind.clone()).increment(1);
                    return Ok(());
                }
                Err(Failure::Refused(detail)) => return self.give_up(d, attempt, detail).await,
                Err(Failure::Retry(detail)) => {
                    let last = attempt >= i64::from(self.settings.max_attempts);
                    let status = if last { "failed" } else { "pending" };
                    self.meta.record_delivery_attempt(&DeliveryAttempt { delivery_id: d.id.clone(), attempt, at, ok: false, detail: detail.clone() }, status).await?;
                    if last {
                        metrics::counter!("nexuslog_alert_notifications_failed_total", "type" => channel.kind.clone()).increment(1);
                        tracing::warn!(delivery = d.id, detail, "notification failed for good");
                        return Ok(());
                    }
                    metrics::counter!("nexuslog_alert_notifications_retried_total", "type" => channel.kind.clone()).increment(1);
                    let exp = u32::try_from(attempt - 1).unwrap_or(16).min(16);
                    tokio::time::sleep(jitter(self.settings.retry_initial * 2u32.pow(exp))).await;
                }
            }
        }
        Ok(())
    }

    async fn give_up(&self, d: &AlertDelivery, attempt: i64, detail: String) -> Result<(), MetaStoreError> {
        tracing::warn!(delivery = d.id, detail, "notification not sent");
        metrics::counter!("nexuslog_alert_notifications_failed_total", "type" => "refused").increment(1);
        let at = nexuslog_common::now_micros();
        self.meta.record_delivery_attempt(&DeliveryAttempt { delivery_id: d.id.clone(), attempt, at, ok: false, detail }, "failed").await
    }
}

/// What the notification's link searches: the rule's query in its project (by slug).
struct Search<'a> {
    project: &'a str,
    query: &'a str,
}

