//! A project's processing pipeline: its rules in order, changed at run time (processors pick
//! changes up within about a second), and a dry run showing what sample lines become.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_logstore::{AggregateQuery, Aggregation, AggregationResult};
use nexuslog_metastore::PipelineRule;
use nexuslog_pipeline::rules::limits;
use nexuslog_pipeline::{Outcome, Pipeline, RuleSpec};
use nexuslog_query::FieldRef;
use nexuslog_schemas::{RawEvent, SourceKind};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::{JsonBody, QueryParams};
use crate::search::record_json;
use crate::{Api, ApiError};

/// Most sample lines in one dry run.
const MAX_DRY_RUN_LINES: usize = 100;
/// Dry runs one caller (user or key) may start per minute, across API replicas.
const DRY_RUNS_PER_MINUTE: i64 = 30;
/// How long checking or dry-running rules may take, waiting for a compile slot included.
/// The limits in [`nexuslog_pipeline::rules::limits`] keep real rules far below it.
const COMPILE_BUDGET: Duration = Duration::from_secs(5);

fn rule_json(row: &PipelineRule) -> Value {
    let mut v = serde_json::from_str::<Value>(&row.definition).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(row.id));
        m.insert("position".into(), json!(row.position));
        m.insert("updated_at".into(), json!(nexuslog_logstore::rfc3339_micros(row.updated_at)));
    }
    v
}

/// Runs rule compilation (and what uses the compiled rules) on the blocking pool, one task per
/// core at most, within [`COMPILE_BUDGET`]. A task past the budget still finishes in the
/// background, holding its slot, so a flood of slow rules queues instead of taking every thread.
async fn compile_bounded<T: Send + 'static>(api: &Api, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    let deadline = tokio::time::Instant::now() + COMPILE_BUDGET;
    let Ok(Ok(permit)) = tokio::time::timeout_at(deadline, api.rule_compiles.clone().acquire_owned()).await else {
        return Err(ApiError::Overloaded { retry_after_secs: 1 });
    };
    let task = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        work()
    });
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ApiError::Internal(format!("rule compilation failed: {e}"))),
        Err(_) => Err(ApiError::BadRequest(format!(
            "the rules took more than {} s to compile; use fewer or simpler patterns",
            COMPILE_BUDGET.as_secs()
        ))),
    }
}

async fn check(api: &Api, spec: RuleSpec) -> Result<(RuleSpec, String), ApiError> {
    let spec = compile_bounded(api, move || Pipeline::validate(&spec).map(|()| spec)).await?.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let definition = serde_json::to_string(&spec).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((spec, definition))
}

pub async fn get(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let rules = api.meta.pipeline_rules(&project.id).await?;
    let revision = api.meta.pipeline_revisions().await?.into_iter().find(|(p, _)| *p == project.id).map_or(0, |(_, r)| r);
    Ok(Json(json!({ "revision": revision, "rules": rules.iter().map(rule_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Where the rule goes; rules run in ascending position. Default: after the last one.
    position: Option<i64>,
}

pub async fn create(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(place): QueryParams<Placement>,
    JsonBody(spec): JsonBody<RuleSpec>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let project = caller.project()?;
    let (spec, definition) = check(&api, spec).await?;
    let existing = api.meta.pipeline_rules(&project.id).await?;
    if existing.len() >= limits::MAX_RULES {
        return Err(ApiError::BadRequest(format!("the pipeline already has {} rules, the most a project may have", limits::MAX_RULES)));
    }
    let last = existing.iter().map(|r| r.position).max().unwrap_or(0);
    let now = nexuslog_metastore::now();
    let row = PipelineRule {
        id: nexuslog_metastore::new_id(),
        project_id: project.id.clone(),
        position: place.position.unwrap_or(last + 1),
        definition,
        created_at: now,
        updated_at: now,
    };
    let revision = api.meta.save_pipeline_rule(&row).await?;
    api.audit(&caller, "pipeline.rule_create", Some(&project.id), &row.id, json!({ "name": spec.name, "revision": revision })).await;
    Ok((StatusCode::CREATED, Json(json!({ "revision": revision, "rule": rule_json(&row) }))))
}

pub async fn update(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    QueryParams(place): QueryParams<Placement>,
    JsonBody(spec): JsonBody<RuleSpec>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?;
    let (spec, definition) = check(&api, spec).await?;
    let existing = api
        .meta
        .pipeline_rules(&project.id)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| ApiError::NotFound("no such rule".into()))?;
    let row = PipelineRule {
        position: place.position.unwrap_or(existing.position),
        definition,
        updated_at: nexuslog_metastore::now(),
        ..existing
    };
    let revision = api.meta.save_pipeline_rule(&row).await?;
    api.audit(&caller, "pipeline.rule_update", Some(&project.id), &row.id, json!({ "name": spec.name, "revision": revision })).await;
    Ok(Json(json!({ "revision": revision, "rule": rule_json(&row) })))
}

pub async fn delete(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let project = caller.project()?;
    let revision = api.meta.delete_pipeline_rule(&project.id, &id).await?.ok_or_else(|| ApiError::NotFound("no such rule".into()))?;
    api.audit(&caller, "pipeline.rule_delete", Some(&project.id), &id, json!({ "revision": revision })).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// Sample events as they would be sent (a text line or a JSON object per entry).
    lines: Vec<String>,
    /// The transport to pretend they came by: `http` (default) or `syslog`.
    source: Option<String>,
    /// Rules to try instead of the saved pipeline (nothing is saved).
    rules: Option<Vec<RuleSpec>>,
}

/// Dry runs and detections share one budget per caller (user or key), across API replicas,
/// and take 1 to [`MAX_DRY_RUN_LINES`] sample lines.
async fn admit_samples(api: &Api, caller: &Caller, lines: usize) -> Result<(), ApiError> {
    let (actor, _) = caller.principal.as_ref().map(crate::authz::Principal::actor).unwrap_or_default();
    if api.state.incr(&format!("dry-run:{actor}"), 1, Some(Duration::from_secs(60))).await? > DRY_RUNS_PER_MINUTE {
        return Err(ApiError::Throttled { what: format!("at most {DRY_RUNS_PER_MINUTE} dry runs or detections a minute"), retry_after_secs: 60 });
    }
    if lines == 0 || lines > MAX_DRY_RUN_LINES {
        return Err(ApiError::BadRequest(format!("give 1 to {MAX_DRY_RUN_LINES} lines")));
    }
    Ok(())
}

pub async fn dry_run(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<DryRun>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?.clone();
    admit_samples(&api, &caller, body.lines.len()).await?;
    let source = match body.source.as_deref().unwrap_or("http") {
        "http" => SourceKind::Http,
        "syslog" => SourceKind::Syslog,
        other => return Err(ApiError::BadRequest(format!("unknown source {other:?} (expected http or syslog)"))),
    };
    let specs: Vec<(String, RuleSpec)> = match body.rules {
        Some(rules) => rules.into_iter().enumerate().map(|(i, r)| (format!("draft-{}", i + 1), r)).collect(),
        None => {
            let mut saved = Vec::new();
            for row in api.meta.pipeline_rules(&project.id).await? {
                let spec = serde_json::from_str(&row.definition).map_err(|e| ApiError::Internal(format!("stored rule {}: {e}", row.id)))?;
                saved.push((row.id, spec));
            }
            saved
        }
    };
    let lines = body.lines;
    let results = compile_bounded(&api, move || {
        let pipeline = Pipeline::compile(specs.iter().map(|(id, s)| (id.as_str(), s)), 0)?;
        Ok(run_samples(&project.id, source, &lines, &pipeline))
    })
    .await?
    .map_err(|e: nexuslog_pipeline::RuleError| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(json!({ "results": results })))
}

/// The presets NexusLog ships: name, version, format, an example line, the fields each adds, and
/// its steps (what `{"preset": name}` in a rule runs).
pub async fn presets() -> Json<Value> {
    Json(json!({ "presets": nexuslog_pipeline::presets::presets() }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// Sample lines of one source, as they would be sent.
    lines: Vec<String>,
}

/// Which presets parse the sample lines, best first (by the share parsed completely), each with
/// what its first parsed lines become.
pub async fn detect(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Detect>,
) -> Result<Json<Value>, ApiError> {
    let project = caller.project()?.clone();
    admit_samples(&api, &caller, body.lines.len()).await?;
    let lines = body.lines;
    let found = compile_bounded(&api, move || {
        let now = nexuslog_metastore::now();
        nexuslog_pipeline::presets::detect(&lines, now)
            .into_iter()
            .map(|d| {
                let preview = nexuslog_pipeline::presets::pipeline(d.preset)
                    .map(|p| {
                        let sample: Vec<String> = d.examples.iter().filter_map(|&i| lines.get(i).cloned()).collect();
                        run_samples(&project.id, SourceKind::Http, &sample, p)
                    })
                    .unwrap_or_default();
                json!({ "preset": d.preset, "version": d.version, "title": d.title, "parsed": d.parsed, "lines": d.lines, "share": d.share, "preview": preview })
            })
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(Json(json!({ "presets": found })))
}

/// What each sample line becomes, with the trace of every rule and step. The lines are one
/// request from one sender: a project's `multiline` steps join continuation lines into the
/// line they continue, as the gateway would (those lines answer `joined`, with the 1-based
/// line they joined).
fn run_samples(project_id: &str, source: SourceKind, lines: &[String], pipeline: &Pipeline) -> Vec<Value> {
    let now = nexuslog_metastore::now();
    let mut raws: Vec<RawEvent> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| RawEvent {
            ingest_id: format!("dry-run-{}", i + 1),
            project_id: project_id.to_owned(),
            source,
            received_at: now,
            remote_addr: None,
            payload: line.as_bytes().to_vec(),
            metadata: Default::default(),
        })
        .collect();
    let joined_into = if pipeline.has_multiline() { join_samples(pipeline, &mut raws) } else { vec![None; raws.len()] };
    raws.iter()
        .zip(joined_into)
        .map(|(raw, into)| {
            if let Some(head) = into {
                return json!({ "outcome": "joined", "into": head + 1 });
            }
            let mut trace = Vec::new();
            match nexuslog_pipeline::process(raw, pipeline, Some(&mut trace)) {
                Ok(Outcome::Record(r)) => json!({ "outcome": "record", "record": record_json(&r), "trace": trace }),
                Ok(Outcome::Dropped { rule }) => json!({ "outcome": "dropped", "rule": rule, "trace": trace }),
                Ok(Outcome::DeadLetter { record, rule, reason }) => {
                    json!({ "outcome": "dead_letter", "rule": rule, "reason": reason, "record": record_json(&record), "trace": trace })
                }
                Err(e) => json!({ "outcome": "dead_letter", "reason": e.to_string() }),
            }
        })
        .collect()
}

/// Joins continuation lines into their heads' payloads (in `raws`); per line, the index of the
/// head it joined.
fn join_samples(pipeline: &Pipeline, raws: &mut [RawEvent]) -> Vec<Option<usize>> {
    use nexuslog_pipeline::multiline::{line_of, place, Placement};
    let mut lines = Vec::with_capacity(raws.len());
    let mut bodies = Vec::with_capacity(raws.len());
    for raw in raws.iter() {
        let found = nexuslog_pipeline::normalize(raw).ok().and_then(|r| {
            let matcher = pipeline.multiline_for(&r)?;
            let (line, body) = line_of(raw, &r)?;
            Some(((r.host, r.service), matcher, line, body))
        });
        match found {
            Some((key, matcher, line, body)) => {
                lines.push((Some(key), Some(matcher), line));
                bodies.push(Some(body));
            }
            None => {
                lines.push((None, None, String::new()));
                bodies.push(None);
            }
        }
    }
    let input: Vec<_> = lines.iter().map(|(k, m, l)| (k.clone(), *m, l.as_str())).collect();
    let (placements, _) = place(&input, &mut std::collections::HashMap::new());
    let mut into = vec![None; raws.len()];
    for (i, p) in placements.into_iter().enumerate() {
        if let Placement::Joined(head) = p {
            if let Some(body) = bodies[head].as_mut() {
                body.append(&lines[i].2);
                raws[head].payload = body.payload();
                into[i] = Some(head);
            }
        }
    }
    into
}

/// Fields that get their top values in one `fields` request: the work is one terms
/// aggregation per field, so it is bounded by this.
const TOP_VALUES_FIELDS: usize = 50;
const TOP_VALUES: usize = 5;

#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldsParams {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The project's extracted fields with every type they were indexed with; a field with more
/// than one type (a number in some events, text in others) is flagged as a conflict. Both are
/// searchable: each type is stored apart, so a conflict never rejects an event.
///
/// With `q`, `from` or `to`: each field also gets its top values among the matching records
/// (for the first fields by name, at most [`TOP_VALUES_FIELDS`]; the answer says when it stopped).
pub async fn fields(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(p): QueryParams<FieldsParams>,
) -> Result<Json<Value>, ApiError> {
    let project_id = caller.project()?.id.clone();
    let fields = api.store.fields(&project_id).await?;
    let mut rows: Vec<Value> = fields.iter().map(|f| json!({ "name": f.name, "types": f.types, "conflict": f.is_conflict() })).collect();
    let conflicts = fields.iter().filter(|f| f.is_conflict()).count();
    let mut answer = json!({ "fields": rows, "conflicts": conflicts });
    if p.q.is_none() && p.from.is_none() && p.to.is_none() {
        return Ok(Json(answer));
    }
    let (from, to) = crate::time::range(p.from.as_deref(), p.to.as_deref())?;
    let query = crate::search::parse_q(p.q.as_deref())?;
    let aggs = fields
        .iter()
        .take(TOP_VALUES_FIELDS)
        .map(|f| (f.name.clone(), Aggregation::Terms { field: FieldRef::Extracted(f.name.clone()), size: TOP_VALUES }))
        .collect();
    let results = api.store.aggregate(&AggregateQuery { project_id, query, from_micros: from, to_micros: to, aggs }).await?;
    for (row, (_, result)) in rows.iter_mut().zip(results) {
        if let AggregationResult::Terms { buckets, other } = result {
            row["top_values"] = json!(buckets);
            row["other"] = json!(other);
        }
    }
    answer["fields"] = json!(rows);
    answer["top_values_truncated"] = json!(fields.len() > TOP_VALUES_FIELDS);
    Ok(Json(answer))
}
