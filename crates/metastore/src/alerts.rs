//! Alerting metadata: channels, rules (with the revision processors poll), the transition
//! history with each channel's delivery and its attempts, and silences.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::sql::{params, Row, SqlDriver};
use crate::store::SqlMetaStore;
use crate::MetaStoreError;

/// A notification target of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertChannel {
    pub id: String,
    pub project_id: String,
    pub name: String,
    /// `webhook`, `email`, `slack`, `dingtalk`, `feishu` or `wecom`.
    pub kind: String,
    /// The type's settings as JSON (url, secret, headers, to, ...).
    pub config: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stored alert rule; `definition` is the rule spec as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRuleRow {
    pub id: String,
    pub project_id: String,
    pub definition: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One recorded state change of a rule's group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertTransitionRow {
    pub id: String,
    pub project_id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// The group's values as a JSON list.
    pub group_key: String,
    pub from_state: String,
    pub to_state: String,
    pub value: Option<f64>,
    pub threshold: f64,
    pub severity: String,
    pub window_start: i64,
    pub window_end: i64,
    pub event_time: i64,
    pub recorded_at: i64,
    /// Sample record ids as a JSON list.
    pub samples: String,
    /// Labels as a JSON object.
    pub labels: String,
    pub message: String,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
}

/// A transition's notification to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDelivery {
    pub id: String,
    pub transition_id: String,
    pub channel_id: String,
    /// `pending`, `delivered`, `failed` (gave up) or `silenced`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    pub attempt: i64,
    pub at: i64,
    pub ok: bool,
    /// The receiver's status or the error.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSilence {
    pub id: String,
    pub project_id: String,
    /// Matchers as JSON: `{"rule_id"?, "labels"?: {...}}`.
    pub matchers: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
    pub created_at: i64,
}

/// The alerting part of the metadata store (a supertrait of [`crate::MetaStore`]).
#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// Inserts or replaces a channel (by id, within its project).
    async fn save_alert_channel(&self, channel: &AlertChannel) -> Result<(), MetaStoreError>;
    async fn alert_channels(&self, project_id: &str) -> Result<Vec<AlertChannel>, MetaStoreError>;
    async fn alert_channel(&self, project_id: &str, id: &str) -> Result<Option<AlertChannel>, MetaStoreError>;
    async fn delete_alert_channel(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError>;

    /// Inserts or replaces a rule and bumps the alert revision in one transaction.
    async fn save_alert_rule(&self, rule: &AlertRuleRow) -> Result<(), MetaStoreError>;
    async fn alert_rules(&self, project_id: &str) -> Result<Vec<AlertRuleRow>, MetaStoreError>;
    async fn alert_rule(&self, project_id: &str, id: &str) -> Result<Option<AlertRuleRow>, MetaStoreError>;
    async fn delete_alert_rule(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError>;
    /// Every project's rules: what processors and evaluators load when the revision moves.
    async fn all_alert_rules(&self) -> Result<Vec<AlertRuleRow>, MetaStoreError>;
    async fn alert_revision(&self) -> Result<i64, MetaStoreError>;

    /// Records a transition with a pending delivery per channel, once: false when a transition
    /// with this id is already recorded. Delivery ids derive from (transition, channel), so a
    /// replay names the same deliveries and adds none.
    async fn record_transition(&self, transition: &AlertTransitionRow, deliveries: &[AlertDelivery]) -> Result<bool, MetaStoreError>;
    async fn alert_transition(&self, project_id: &str, id: &str) -> Result<Option<AlertTransitionRow>, MetaStoreError>;
    /// Newest first; only `rule_id`'s when given; recorded before `before` when given.
    async fn alert_transitions(&self, project_id: &str, rule_id: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<AlertTransitionRow>, MetaStoreError>;
    async fn ack_alert_transition(&self, project_id: &str, id: &str, by: &str, at: i64) -> Result<bool, MetaStoreError>;
    async fn alert_deliveries(&self, transition_id: &str) -> Result<Vec<AlertDelivery>, MetaStoreError>;
    /// Appends an attempt and sets the delivery's status, attempts and last error.
    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt, status: &str) -> Result<(), MetaStoreError>;
    async fn set_delivery_status(&self, delivery_id: &str, status: &str, at: i64) -> Result<(), MetaStoreError>;
    async fn delivery_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, MetaStoreError>;

    async fn save_alert_silence(&self, silence: &AlertSilence) -> Result<(), MetaStoreError>;
    /// Silences not ended at `now` (including future ones).
    async fn alert_silences(&self, project_id: &str, now: i64) -> Result<Vec<AlertSilence>, MetaStoreError>;
    async fn delete_alert_silence(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError>;
}

/// Where a channel's configuration is stored: what its sealing is bound to.
pub(crate) fn channel_context(id: &str) -> String {
    format!("alert_channels.config:{id}")
}

impl<D: SqlDriver> SqlMetaStore<D> {
    fn open_channel(&self, mut c: AlertChannel) -> Result<AlertChannel, MetaStoreError> {
        c.config = self.unseal(&c.config, &channel_context(&c.id))?;
        Ok(c)
    }
}

fn channel(mut r: Row) -> Result<AlertChannel, MetaStoreError> {
    Ok(AlertChannel {
        id: r.text()?,
        project_id: r.text()?,
        name: r.text()?,
        kind: r.text()?,
        config: r.text()?,
        created_at: r.int()?,
        updated_at: r.int()?,
    })
}

fn rule(mut r: Row) -> Result<AlertRuleRow, MetaStoreError> {
    Ok(AlertRuleRow { id: r.text()?, project_id: r.text()?, definition: r.text()?, created_at: r.int()?, updated_at: r.int()? })
}

fn number(text: Option<String>) -> Result<Option<f64>, MetaStoreError> {
    text.map(|t| t.parse::<f64>().map_err(|e| MetaStoreError::Unavailable(format!("stored value {t:?}: {e}")))).transpose()
}

fn transition(mut r: Row) -> Result<AlertTransitionRow, MetaStoreError> {
    Ok(AlertTransitionRow {
        id: r.text()?,
        project_id: r.text()?,
        rule_id: r.text()?,
        rule_name: r.text()?,
        group_key: r.text()?,
        from_state: r.text()?,
        to_state: r.text()?,
        value: number(r.opt_text()?)?,
        threshold: number(Some(r.text()?))?.unwrap_or_default(),
        severity: r.text()?,
        window_start: r.int()?,
        window_end: r.int()?,
        event_time: r.int()?,
        recorded_at: r.int()?,
        samples: r.text()?,
        labels: r.text()?,
        message: r.text()?,
        acked_by: r.opt_text()?,
        acked_at: r.opt_int()?,
    })
}

fn delivery(mut r: Row) -> Result<AlertDelivery, MetaStoreError> {
    Ok(AlertDelivery {
        id: r.text()?,
        transition_id: r.text()?,
        channel_id: r.text()?,
        status: r.text()?,
        attempts: r.int()?,
        last_error: r.opt_text()?,
        updated_at: r.int()?,
    })
}

fn attempt(mut r: Row) -> Result<DeliveryAttempt, MetaStoreError> {
    Ok(DeliveryAttempt { delivery_id: r.text()?, attempt: r.int()?, at: r.int()?, ok: r.bool()?, detail: r.text()? })
}

fn silence(mut r: Row) -> Result<AlertSilence, MetaStoreError> {
    Ok(AlertSilence {
        id: r.text()?,
        project_id: r.text()?,
        matchers: r.text()?,
        starts_at: r.int()?,
        ends_at: r.int()?,
        comment: r.text()?,
        created_by: r.text()?,
        created_at: r.int()?,
    })
}

fn int(mut r: Row) -> Result<i64, MetaStoreError> {
    r.int()
}

macro_rules! select_transition {
    ($rest:literal) => {
        concat!(
            "SELECT id, project_id, rule_id, rule_name, group_key, from_state, to_state, value, threshold, severity, window_start, window_end, \
             event_time, recorded_at, samples, labels, message, acked_by, acked_at FROM alert_transitions ",
            $rest
        )
    };
}

const BUMP: &str = "UPDATE alert_revision SET revision = revision + 1 WHERE id = 1";

#[async_trait]
impl<D: SqlDriver> AlertStore for SqlMetaStore<D> {
    async fn save_alert_channel(&self, c: &AlertChannel) -> Result<(), MetaStoreError> {
        let changed = self
            .exec(
                "INSERT INTO alert_channels (id, project_id, name, kind, config, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, config = excluded.config, updated_at = excluded.updated_at \
                 WHERE alert_channels.project_id = excluded.project_id",
                params![&c.id, &c.project_id, &c.name, &c.kind, self.seal(&c.config, &channel_context(&c.id))?, c.created_at, c.updated_at],
            )
            .await?;
        if changed == 0 {
            return Err(MetaStoreError::Conflict(format!("channel {} belongs to another project", c.id)));
        }
        Ok(())
    }

    async fn alert_channels(&self, project_id: &str) -> Result<Vec<AlertChannel>, MetaStoreError> {
        self.all(
            "SELECT id, project_id, name, kind, config, created_at, updated_at FROM alert_channels WHERE project_id = ?1 ORDER BY name, id",
            params![project_id],
            channel,
        )
        .await?
        .into_iter()
        .map(|c| self.open_channel(c))
        .collect()
    }

    async fn alert_channel(&self, project_id: &str, id: &str) -> Result<Option<AlertChannel>, MetaStoreError> {
        self.one(
            "SELECT id, project_id, name, kind, config, created_at, updated_at FROM alert_channels WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
            channel,
        )
        .await?
        .map(|c| self.open_channel(c))
        .transpose()
    }

    async fn delete_alert_channel(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError> {
        Ok(self.exec("DELETE FROM alert_channels WHERE project_id = ?1 AND id = ?2", params![project_id, id]).await? > 0)
    }

    async fn save_alert_rule(&self, r: &AlertRuleRow) -> Result<(), MetaStoreError> {
        let upsert = "INSERT INTO alert_rules (id, project_id, definition, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at \
             WHERE alert_rules.project_id = excluded.project_id";
        let changed = self
            .db
            .transaction(vec![(upsert, params![&r.id, &r.project_id, &r.definition, r.created_at, r.updated_at]), (BUMP, vec![])])
            .await?;
        if changed.first() == Some(&0) {
            return Err(MetaStoreError::Conflict(format!("rule {} belongs to another project", r.id)));
        }
        Ok(())
    }

    async fn alert_rules(&self, project_id: &str) -> Result<Vec<AlertRuleRow>, MetaStoreError> {
        self.all(
            "SELECT id, project_id, definition, created_at, updated_at FROM alert_rules WHERE project_id = ?1 ORDER BY created_at, id",
            params![project_id],
            rule,
        )
        .await
    }

    async fn alert_rule(&self, project_id: &str, id: &str) -> Result<Option<AlertRuleRow>, MetaStoreError> {
        self.one(
            "SELECT id, project_id, definition, created_at, updated_at FROM alert_rules WHERE project_id = ?1 AND id = ?2",
            params![project_id, id],
            rule,
        )
        .await
    }

    async fn delete_alert_rule(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError> {
        let changed = self
            .db
            .transaction(vec![("DELETE FROM alert_rules WHERE project_id = ?1 AND id = ?2", params![project_id, id]), (BUMP, vec![])])
            .await?;
        Ok(changed.first().is_some_and(|n| *n > 0))
    }

    async fn all_alert_rules(&self) -> Result<Vec<AlertRuleRow>, MetaStoreError> {
        self.all("SELECT id, project_id, definition, created_at, updated_at FROM alert_rules ORDER BY project_id, created_at, id", vec![], rule).await
    }

    async fn alert_revision(&self) -> Result<i64, MetaStoreError> {
        Ok(self.one("SELECT revision FROM alert_revision WHERE id = 1", vec![], int).await?.unwrap_or(0))
    }

    async fn record_transition(&self, t: &AlertTransitionRow, deliveries: &[AlertDelivery]) -> Result<bool, MetaStoreError> {
        let mut statements = vec![(
            "INSERT INTO alert_transitions (id, project_id, rule_id, rule_name, group_key, from_state, to_state, value, threshold, severity, \
             window_start, window_end, event_time, recorded_at, samples, labels, message) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT (id) DO NOTHING",
            params![
                &t.id,
                &t.project_id,
                &t.rule_id,
                &t.rule_name,
                &t.group_key,
                &t.from_state,
                &t.to_state,
                t.value.map(|v| v.to_string()),
                t.threshold.to_string(),
                &t.severity,
                t.window_start,
                t.window_end,
                t.event_time,
                t.recorded_at,
                &t.samples,
                &t.labels,
                &t.message,
            ],
        )];
        for d in deliveries {
            statements.push((
                "INSERT INTO alert_deliveries (id, transition_id, channel_id, status, attempts, last_error, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                params![&d.id, &d.transition_id, &d.channel_id, &d.status, d.attempts, d.last_error.clone(), d.updated_at],
            ));
        }
        let changed = self.db.transaction(statements).await?;
        Ok(changed.first().is_some_and(|n| *n > 0))
    }

    async fn alert_transition(&self, project_id: &str, id: &str) -> Result<Option<AlertTransitionRow>, MetaStoreError> {
        self.one(select_transition!("WHERE project_id = ?1 AND id = ?2"), params![project_id, id], transition).await
    }

    async fn alert_transitions(&self, project_id: &str, rule_id: Option<&str>, before: Option<i64>, limit: u32) -> Result<Vec<AlertTransitionRow>, MetaStoreError> {
        let before = before.unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        match rule_id {
            Some(r) => {
                self.all(
                    select_transition!("WHERE project_id = ?1 AND rule_id = ?2 AND recorded_at < ?3 ORDER BY recorded_at DESC, id DESC LIMIT ?4"),
                    params![project_id, r, before, limit],
                    transition,
                )
                .await
            }
            None => {
                self.all(
                    select_transition!("WHERE project_id = ?1 AND recorded_at < ?2 ORDER BY recorded_at DESC, id DESC LIMIT ?3"),
                    params![project_id, before, limit],
                    transition,
                )
                .await
            }
        }
    }

    async fn ack_alert_transition(&self, project_id: &str, id: &str, by: &str, at: i64) -> Result<bool, MetaStoreError> {
        let n = self
            .exec("UPDATE alert_transitions SET acked_by = ?3, acked_at = ?4 WHERE project_id = ?1 AND id = ?2", params![project_id, id, by, at])
            .await?;
        Ok(n > 0)
    }

    async fn alert_deliveries(&self, transition_id: &str) -> Result<Vec<AlertDelivery>, MetaStoreError> {
        self.all(
            "SELECT id, transition_id, channel_id, status, attempts, last_error, updated_at FROM alert_deliveries WHERE transition_id = ?1 ORDER BY channel_id",
            params![transition_id],
            delivery,
        )
        .await
    }

    async fn record_delivery_attempt(&self, a: &DeliveryAttempt, status: &str) -> Result<(), MetaStoreError> {
        let error = (!a.ok).then(|| a.detail.clone());
        self.db
            .transaction(vec![
                (
                    "INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, ok, detail) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (delivery_id, attempt) DO NOTHING",
                    params![&a.delivery_id, a.attempt, a.at, a.ok, &a.detail],
                ),
                (
                    "UPDATE alert_deliveries SET status = ?2, attempts = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?1",
                    params![&a.delivery_id, status, a.attempt, error, a.at],
                ),
            ])
            .await?;
        Ok(())
    }

    async fn set_delivery_status(&self, delivery_id: &str, status: &str, at: i64) -> Result<(), MetaStoreError> {
        self.exec("UPDATE alert_deliveries SET status = ?2, updated_at = ?3 WHERE id = ?1", params![delivery_id, status, at]).await?;
        Ok(())
    }

    async fn delivery_attempts(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, MetaStoreError> {
        self.all(
            "SELECT delivery_id, attempt, at, ok, detail FROM alert_delivery_attempts WHERE delivery_id = ?1 ORDER BY attempt",
            params![delivery_id],
            attempt,
        )
        .await
    }

    async fn save_alert_silence(&self, s: &AlertSilence) -> Result<(), MetaStoreError> {
        self.exec(
            "INSERT INTO alert_silences (id, project_id, matchers, starts_at, ends_at, comment, created_by, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
             comment = excluded.comment WHERE alert_silences.project_id = excluded.project_id",
            params![&s.id, &s.project_id, &s.matchers, s.starts_at, s.ends_at, &s.comment, &s.created_by, s.created_at],
        )
        .await?;
        Ok(())
    }

    async fn alert_silences(&self, project_id: &str, now: i64) -> Result<Vec<AlertSilence>, MetaStoreError> {
        self.all(
            "SELECT id, project_id, matchers, starts_at, ends_at, comment, created_by, created_at FROM alert_silences \
             WHERE project_id = ?1 AND ends_at > ?2 ORDER BY starts_at, id",
            params![project_id, now],
            silence,
        )
        .await
    }

    async fn delete_alert_silence(&self, project_id: &str, id: &str) -> Result<bool, MetaStoreError> {
        Ok(self.exec("DELETE FROM alert_silences WHERE project_id = ?1 AND id = ?2", params![project_id, id]).await? > 0)
    }
}
