//! Alerting: channels, rules with their live state, the history of transitions with their
//! deliveries, acknowledgements and silences. Rules take effect at the processors within about
//! a second of a change (they poll the alert revision).

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_alerting::channel::{check_target_ip, target_url, ChannelConfig, Notification, NotificationRule, NotificationWindow};
use nexuslog_alerting::{status_key, RuleSpec, RuleStatus};
use nexuslog_metastore::{AlertChannel, AlertRuleRow, AlertSilence, AlertTransitionRow};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::{JsonBody, QueryParams};
use crate::{Api, ApiError};

const MAX_HISTORY_PAGE: u32 = 500;

fn rfc3339(micros: i64) -> String {
    nexuslog_logstore::rfc3339_micros(micros)
}

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such {what}"))
}

// ---- channels ----

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelBody {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    config: Value,
}

/// How a write-only value is shown: set, but not what it is.
const HIDDEN: &str = "********";

/// The kinds whose URL is itself the credential (the token is in its path or query).
const TOKEN_URL_KINDS: &[&str] = &["slack", "dingtalk", "feishu", "wecom"];

/// `url` as shown: scheme and host; the path too for a generic webhook; the rest hidden.
fn shown_url(kind: &str, url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return HIDDEN.to_owned() };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(host_end);
    let kept = if TOKEN_URL_KINDS.contains(&kind) { "" } else { tail.split(['?', '#']).next().unwrap_or("") };
    let hidden = if tail.len() > kept.len() { if kept.is_empty() { "/********" } else { "?********" } } else { "" };
    format!("{scheme}://{host}{kept}{hidden}")
}

/// A channel's configuration with its credentials hidden: the `secret`, header values, and
/// the parts of URLs that carry tokens. They are write-only: sent back as shown, they keep the
/// stored value (see [`restore_hidden`]).
fn shown_config(kind: &str, config: &Value) -> Value {
    let mut shown = config.clone();
    if let Some(secret) = shown.get_mut("secret") {
        *secret = json!(HIDDEN);
    }
    if let Some(headers) = shown.get_mut("headers").and_then(Value::as_object_mut) {
        headers.values_mut().for_each(|v| *v = json!(HIDDEN));
    }
    if let Some(url) = shown.get_mut("url") {
        if let Some(u) = url.as_str() {
            *url = json!(shown_url(kind, u));
        }
    }
    shown
}

/// Puts the stored values back where an update sent a hidden one back as it was shown.
fn restore_hidden(kind: &str, sent: &mut Value, stored: &Value) {
    let shown = shown_config(kind, stored);
    if let Some(fields) = sent.as_object_mut() {
        for (name, value) in fields.iter_mut() {
            match (name.as_str(), value) {
                ("headers", Value::Object(headers)) => {
                    for (h, v) in headers.iter_mut() {
                        if v.as_str() == Some(HIDDEN) {
                            if let Some(original) = stored["headers"].get(h) {
                                *v = original.clone();
                            }
                        }
                    }
                }
                (name, value) if *value == shown[name] && !stored[name].is_null() => *value = stored[name].clone(),
                _ => {}
            }
        }
    }
}

fn channel_json(c: &AlertChannel) -> Value {
    let config = serde_json::from_str::<Value>(&c.config).unwrap_or(Value::Null);
    json!({"id": c.id, "name": c.name, "type": c.kind, "config": shown_config(&c.kind, &config), "created_at": rfc3339(c.created_at), "updated_at": rfc3339(c.updated_at)})
}

/// Checks a channel, including where its URL points now (the notifier checks again at each send).
async fn check_channel(api: &Api, body: &ChannelBody) -> Result<String, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Invalid { field: "name".into(), message: "must be 1 to 200 characters".into() });
    }
    let config = ChannelConfig::parse(&body.kind, &body.config)?;
    if let Some(url) = config.url() {
        let invalid = |message: String| ApiError::Invalid { field: "config.url".into(), message };
        let (host, port) = target_url(url).map_err(invalid)?;
        let ips: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host.as_str(), port)).await.map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default(),
        };
        for ip in ips {
            check_target_ip(ip, api.sender.allow_private()).map_err(invalid)?;
        }
    }
    serde_json::to_string(&body.config).map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn list_channels(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let channels = api.meta.alert_channels(&project.id).await?;
    Ok(Json(json!({"channels": channels.iter().map(channel_json).collect::<Vec<_>>()})))
}

pub async fn create_channel(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<ChannelBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let config = check_channel(&api, &body).await?;
    let now = nexuslog_metastore::now();
    let c = AlertChannel {
        id: nexuslog_metastore::new_id(),
        project_id: project.id.clone(),
        name: body.name.trim().to_owned(),
        kind: body.kind.clone(),
        config,
        created_at: now,
        updated_at: now,
    };
    api.meta.save_alert_channel(&c).await?;
    api.audit(&caller, "alert_channel.create", Some(&project.id), &c.id, json!({"name": c.name, "type": c.kind})).await;
    Ok((StatusCode::CREATED, Json(channel_json(&c))))
}

pub async fn get_channel(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let c = api.meta.alert_channel(&project.id, &id).await?.ok_or_else(|| not_found("channel"))?;
    Ok(Json(channel_json(&c)))
}

pub async fn update_channel(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    JsonBody(mut body): JsonBody<ChannelBody>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let existing = api.meta.alert_channel(&project.id, &id).await?.ok_or_else(|| not_found("channel"))?;
    if body.kind == existing.kind {
        let stored = serde_json::from_str::<Value>(&existing.config).unwrap_or(Value::Null);
        restore_hidden(&existing.kind, &mut body.config, &stored);
    }
    let config = check_channel(&api, &body).await?;
    let c = AlertChannel { name: body.name.trim().to_owned(), kind: body.kind.clone(), config, updated_at: nexuslog_metastore::now(), ..existing };
    api.meta.save_alert_channel(&c).await?;
    api.audit(&caller, "alert_channel.update", Some(&project.id), &c.id, json!({"name": c.name, "type": c.kind})).await;
    Ok(Json(channel_json(&c)))
}

pub async fn delete_channel(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    if !api.meta.delete_alert_channel(&project.id, &id).await? {
        return Err(not_found("channel"));
    }
    api.audit(&caller, "alert_channel.delete", Some(&project.id), &id, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test notification through the channel now; the answer says what the receiver said.
pub async fn test_channel(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let c = api.meta.alert_channel(&project.id, &id).await?.ok_or_else(|| not_found("channel"))?;
    let value = serde_json::from_str::<Value>(&c.config).map_err(|e| ApiError::Internal(e.to_string()))?;
    let config = ChannelConfig::parse(&c.kind, &value)?;
    let now = nexuslog_metastore::now();
    let window = NotificationWindow { start: rfc3339(now - 60_000_000), end: rfc3339(now) };
    let n = Notification {
        delivery_id: format!("test-{}", nexuslog_metastore::new_id()),
        rule: NotificationRule { id: "test".into(), name: format!("Test of channel {}", c.name) },
        state: "firing".into(),
        group: Default::default(),
        value: Some(1.0),
        threshold: 0.0,
        window,
        severity: "info".into(),
        labels: Default::default(),
        message: "This is a test notification from NexusLog.".into(),
        samples: Vec::new(),
        link: String::new(),
    };
    let outcome = api.sender.send(&config, &n, now / 1000).await;
    api.audit(&caller, "alert_channel.test", Some(&project.id), &c.id, json!({"ok": outcome.is_ok()})).await;
    Ok(Json(match outcome {
        Ok(detail) => json!({"ok": true, "detail": detail, "delivery_id": n.delivery_id}),
        Err(e) => json!({"ok": false, "detail": e.detail(), "delivery_id": n.delivery_id}),
    }))
}

// ---- rules ----

fn rule_json(row: &AlertRuleRow, status: Option<RuleStatus>) -> Value {
    let mut v = serde_json::from_str::<Value>(&row.definition).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(row.id));
        m.insert("created_at".into(), json!(rfc3339(row.created_at)));
        m.insert("updated_at".into(), json!(rfc3339(row.updated_at)));
        if let Some(s) = status {
            let groups: Vec<Value> = s
                .groups
                .iter()
                .map(|g| {
                    json!({"group": g.group, "state": g.state.as_str(), "value": g.value,
                        "since": rfc3339(g.since), "last_window_end": g.last_window_end.map(rfc3339)})
                })
                .collect();
            m.insert(
                "state".into(),
                json!({"groups": groups, "open_windows": s.open_windows, "groups_dropped": s.groups_dropped, "late_events": s.late_events}),
            );
        }
    }
    v
}

/// Checks the rule, and that its channels are this project's.
async fn check_rule(api: &Api, project_id: &str, id: &str, spec: &RuleSpec) -> Result<String, ApiError> {
    spec.compile(id, project_id)?;
    for (i, c) in spec.channels.iter().enumerate() {
        if api.meta.alert_channel(project_id, c).await?.is_none() {
            return Err(ApiError::Invalid { field: format!("channels[{i}]"), message: format!("no channel {c:?} in this project") });
        }
    }
    serde_json::to_string(spec).map_err(|e| ApiError::Internal(e.to_string()))
}

async fn status(api: &Api, rule_id: &str) -> Result<Option<RuleStatus>, ApiError> {
    Ok(api.state.get(&status_key(rule_id)).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

pub async fn list_rules(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let mut rules = Vec::new();
    for row in api.meta.alert_rules(&project.id).await? {
        let s = status(&api, &row.id).await?;
        rules.push(rule_json(&row, s));
    }
    Ok(Json(json!({"rules": rules})))
}

pub async fn create_rule(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(spec): JsonBody<RuleSpec>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let id = nexuslog_metastore::new_id();
    let definition = check_rule(&api, &project.id, &id, &spec).await?;
    let now = nexuslog_metastore::now();
    let row = AlertRuleRow { id, project_id: project.id.clone(), definition, created_at: now, updated_at: now };
    api.meta.save_alert_rule(&row).await?;
    api.audit(&caller, "alert_rule.create", Some(&project.id), &row.id, json!({"name": spec.name})).await;
    Ok((StatusCode::CREATED, Json(rule_json(&row, None))))
}

pub async fn get_rule(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let row = api.meta.alert_rule(&project.id, &id).await?.ok_or_else(|| not_found("rule"))?;
    let s = status(&api, &row.id).await?;
    Ok(Json(rule_json(&row, Some(s.unwrap_or_default()))))
}

pub async fn update_rule(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    JsonBody(spec): JsonBody<RuleSpec>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let existing = api.meta.alert_rule(&project.id, &id).await?.ok_or_else(|| not_found("rule"))?;
    let definition = check_rule(&api, &project.id, &id, &spec).await?;
    let row = AlertRuleRow { definition, updated_at: nexuslog_metastore::now(), ..existing };
    api.meta.save_alert_rule(&row).await?;
    api.audit(&caller, "alert_rule.update", Some(&project.id), &row.id, json!({"name": spec.name, "enabled": spec.enabled})).await;
    Ok(Json(rule_json(&row, None)))
}

pub async fn delete_rule(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    if !api.meta.delete_alert_rule(&project.id, &id).await? {
        return Err(not_found("rule"));
    }
    api.audit(&caller, "alert_rule.delete", Some(&project.id), &id, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}

// ---- history ----

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    rule_id: Option<String>,
    /// Only transitions recorded before this time (RFC 3339 or epoch ms): the next page.
    before: Option<String>,
    limit: Option<u32>,
}

async fn transition_json(api: &Api, t: &AlertTransitionRow) -> Result<Value, ApiError> {
    let mut deliveries = Vec::new();
    for d in api.meta.alert_deliveries(&t.id).await? {
        let attempts: Vec<Value> = api
            .meta
            .delivery_attempts(&d.id)
            .await?
            .iter()
            .map(|a| json!({"attempt": a.attempt, "at": rfc3339(a.at), "ok": a.ok, "detail": a.detail}))
            .collect();
        deliveries.push(json!({"id": d.id, "channel_id": d.channel_id, "status": d.status, "attempts": attempts, "last_error": d.last_error}));
    }
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    Ok(json!({
        "id": t.id, "rule_id": t.rule_id, "rule_name": t.rule_name, "group": parse(&t.group_key),
        "from": t.from_state, "to": t.to_state, "value": t.value, "threshold": t.threshold, "severity": t.severity,
        "window": {"start": rfc3339(t.window_start), "end": rfc3339(t.window_end)},
        "event_time": rfc3339(t.event_time), "recorded_at": rfc3339(t.recorded_at),
        "samples": parse(&t.samples), "labels": parse(&t.labels), "message": t.message,
        "acked_by": t.acked_by, "acked_at": t.acked_at.map(rfc3339), "notifications": deliveries,
    }))
}

pub async fn list_alerts(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(p): QueryParams<HistoryParams>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let before = match &p.before {
        Some(b) => Some(nexuslog_query::time::parse_time(b, nexuslog_metastore::now()).map_err(|e| ApiError::Invalid { field: "before".into(), message: e })?),
        None => None,
    };
    let limit = p.limit.unwrap_or(100).clamp(1, MAX_HISTORY_PAGE);
    let rows = api.meta.alert_transitions(&project.id, p.rule_id.as_deref(), before, limit).await?;
    let mut alerts = Vec::with_capacity(rows.len());
    for t in &rows {
        alerts.push(transition_json(&api, t).await?);
    }
    let next = (rows.len() == limit as usize).then(|| rows.last().map(|t| rfc3339(t.recorded_at))).flatten();
    Ok(Json(json!({"alerts": alerts, "next_before": next})))
}

pub async fn ack_alert(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let (actor, _) = caller.principal.as_ref().map(crate::authz::Principal::actor).unwrap_or_default();
    if !api.meta.ack_alert_transition(&project.id, &id, &actor, nexuslog_metastore::now()).await? {
        return Err(not_found("alert"));
    }
    api.audit(&caller, "alert.ack", Some(&project.id), &id, json!({})).await;
    let t = api.meta.alert_transition(&project.id, &id).await?.ok_or_else(|| not_found("alert"))?;
    Ok(Json(transition_json(&api, &t).await?))
}

// ---- silences ----

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceBody {
    #[serde(default)]
    matchers: SilenceMatchers,
    starts_at: Option<String>,
    ends_at: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize, serde::Serialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SilenceMatchers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    labels: std::collections::BTreeMap<String, String>,
}

fn silence_json(s: &AlertSilence) -> Value {
    json!({"id": s.id, "matchers": serde_json::from_str::<Value>(&s.matchers).unwrap_or(Value::Null), "starts_at": rfc3339(s.starts_at),
        "ends_at": rfc3339(s.ends_at), "comment": s.comment, "created_by": s.created_by, "created_at": rfc3339(s.created_at)})
}

pub async fn create_silence(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<SilenceBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let now = nexuslog_metastore::now();
    let time = |field: &str, v: &str| nexuslog_query::time::parse_time(v, now).map_err(|e| ApiError::Invalid { field: field.into(), message: e });
    let starts_at = body.starts_at.as_deref().map(|s| time("starts_at", s)).transpose()?.unwrap_or(now);
    let ends_at = time("ends_at", &body.ends_at)?;
    if ends_at <= starts_at {
        return Err(ApiError::Invalid { field: "ends_at".into(), message: "must be after starts_at".into() });
    }
    if body.matchers.rule_id.is_none() && body.matchers.labels.is_empty() {
        return Err(ApiError::Invalid { field: "matchers".into(), message: "give rule_id or labels: a silence of everything is a disabled project".into() });
    }
    let (actor, _) = caller.principal.as_ref().map(crate::authz::Principal::actor).unwrap_or_default();
    let s = AlertSilence {
        id: nexuslog_metastore::new_id(),
        project_id: project.id.clone(),
        matchers: serde_json::to_string(&body.matchers).map_err(|e| ApiError::Internal(e.to_string()))?,
        starts_at,
        ends_at,
        comment: body.comment,
        created_by: actor,
        created_at: now,
    };
    api.meta.save_alert_silence(&s).await?;
    api.audit(&caller, "alert_silence.create", Some(&project.id), &s.id, json!({"ends_at": rfc3339(ends_at)})).await;
    Ok((StatusCode::CREATED, Json(silence_json(&s))))
}

pub async fn list_silences(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let silences = api.meta.alert_silences(&project.id, nexuslog_metastore::now()).await?;
    Ok(Json(json!({"silences": silences.iter().map(silence_json).collect::<Vec<_>>()})))
}

pub async fn delete_silence(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    if !api.meta.delete_alert_silence(&project.id, &id).await? {
        return Err(not_found("silence"));
    }
    api.audit(&caller, "alert_silence.delete", Some(&project.id), &id, json!({})).await;
    Ok(StatusCode::NO_CONTENT)
}
