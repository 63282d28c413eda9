//! A project's redaction rules: the built-in rules (each on unless turned off) and the project's
//! own, applied by every gateway before an event is written (changes apply within
//! `nexuslog_ingest_gateway::redaction::RELOAD_AFTER`); and a dry run showing what a rule set
//! does to sample lines.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use nexuslog_redact::{BuiltinSetting, RedactionSpec, Redactor, BUILTINS};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::JsonBody;
use crate::{Api, ApiError};

/// Most sample lines in one dry run, and the longest.
const MAX_DRY_RUN_LINES: usize = 100;
const MAX_DRY_RUN_LINE_BYTES: usize = 64 * 1024;

async fn stored(api: &Api, project_id: &str) -> Result<(RedactionSpec, Option<i64>), ApiError> {
    Ok(match api.meta.redaction(project_id).await? {
        Some((json, at)) => (serde_json::from_str(&json).map_err(|e| ApiError::Internal(format!("stored redaction settings: {e}")))?, Some(at)),
        None => (RedactionSpec::default(), None),
    })
}

fn describe(spec: &RedactionSpec, updated_at: Option<i64>) -> Value {
    let builtins: Vec<Value> = BUILTINS
        .iter()
        .map(|b| {
            let (enabled, action) = match spec.builtins.get(b.name) {
                None | Some(BuiltinSetting::Enabled(true)) => (true, b.action),
                Some(BuiltinSetting::Enabled(false)) => (false, b.action),
                Some(BuiltinSetting::Action(a)) => (true, *a),
            };
            json!({ "name": b.name, "description": b.description, "enabled": enabled, "action": action, "default_action": b.action })
        })
        .collect();
    json!({
        "spec": spec,
        "builtins": builtins,
        "updated_at": updated_at.map(nexuslog_logstore::rfc3339_micros),
    })
}

fn validate(spec: &RedactionSpec) -> Result<(), ApiError> {
    spec.validate().map_err(|e| ApiError::BadRequest(format!("redaction rule {e}")))
}

pub async fn get(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let (spec, at) = stored(&api, &project.id).await?;
    Ok(Json(describe(&spec, at)))
}

pub async fn put(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, JsonBody(spec): JsonBody<RedactionSpec>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    validate(&spec)?;
    let definition = serde_json::to_string(&spec).map_err(|e| ApiError::Internal(e.to_string()))?;
    let now = nexuslog_metastore::now();
    api.meta.save_redaction(&project.id, &definition, now).await?;
    // Rule names and switches only: a custom pattern may itself describe sensitive data.
    let off: Vec<&String> = spec.builtins.iter().filter(|(_, s)| **s == BuiltinSetting::Enabled(false)).map(|(n, _)| n).collect();
    let rules: Vec<&String> = spec.rules.iter().map(|r| &r.name).collect();
    api.audit(&caller, "redaction.update", Some(&project.id), &project.id, json!({ "builtins_off": off, "rules": rules })).await;
    Ok(Json(describe(&spec, Some(now))))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionDryRun {
    /// Sample events, one per line (JSON or text), as a receiver would get them.
    lines: Vec<String>,
    /// Settings to try instead of the project's saved ones.
    #[serde(default)]
    spec: Option<RedactionSpec>,
}

pub async fn dry_run(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, JsonBody(req): JsonBody<RedactionDryRun>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    if req.lines.len() > MAX_DRY_RUN_LINES || req.lines.iter().any(|l| l.len() > MAX_DRY_RUN_LINE_BYTES) {
        return Err(ApiError::BadRequest(format!("at most {MAX_DRY_RUN_LINES} lines of at most {MAX_DRY_RUN_LINE_BYTES} bytes")));
    }
    let spec = match req.spec {
        Some(s) => s,
        None => stored(&api, &project.id).await?.0,
    };
    validate(&spec)?;
    // The project's own key, so hashed values look as they will in search.
    let key = api.meta.setting_or_insert(&nexuslog_redact::key_setting(&project.id), &nexuslog_redact::new_key()).await?;
    let redactor = Redactor::new(&spec, key.as_bytes()).map_err(|e| ApiError::BadRequest(format!("redaction rule {e}")))?;
    let results: Vec<Value> = req
        .lines
        .iter()
        .map(|line| {
            let out = redactor.apply(line.as_bytes());
            json!({ "output": String::from_utf8_lossy(&out.bytes), "redacted": out.fired })
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}
