//! `POST /v1/projects/{project}/aggregate` (and `/v1/aggregate` for read keys): counts, time
//! histograms, top values, statistics, percentiles and distinct counts over the records a
//! query selects, answered the same on every log store.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use nexuslog_logstore::{auto_interval, rfc3339_micros, AggregateQuery, Aggregation, AggregationResult, MAX_BUCKETS};
use nexuslog_query::FieldRef;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::authz::Caller;
use crate::extract::{JsonBody, QueryParams};
use crate::search::parse_q;
use crate::time::range;
use crate::{Api, ApiError};

/// Most aggregations in one request.
const MAX_AGGS: usize = 20;
const DEFAULT_SIZE: usize = 10;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AggregateParams {
    /// The project, for users on `/v1/aggregate`; read by the authorization layer.
    #[allow(dead_code)]
    project: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AggregateRequest {
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    aggs: BTreeMap<String, AggSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum AggSpec {
    Count(Empty),
    DateHistogram(HistogramSpec),
    Terms(FieldSize),
    Stats(FieldOnly),
    Percentiles(PercentilesSpec),
    Cardinality(FieldOnly),
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistogramSpec {
    /// `auto` (60–120 buckets over the range) or a fixed interval such as `10s`, `1m`, `1h`, `1d`.
    #[serde(default = "auto")]
    interval: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
}

fn auto() -> String {
    "auto".into()
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldSize {
    field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldOnly {
    field: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PercentilesSpec {
    field: String,
    #[serde(default = "default_percents")]
    percents: Vec<f64>,
}

fn default_percents() -> Vec<f64> {
    vec![50.0, 95.0, 99.0]
}

pub(crate) fn aggregation(name: &str, spec: AggSpec, from: i64, to: i64) -> Result<Aggregation, ApiError> {
    let agg = match spec {
        AggSpec::Count(_) => Aggregation::Count,
        AggSpec::DateHistogram(h) => {
            let interval_micros = match h.interval.as_str() {
                "auto" => auto_interval(from, to),
                fixed => nexuslog_query::time::parse_interval(fixed).map_err(|e| ApiError::BadRequest(format!("aggs.{name}: {e}")))?,
            };
            if (to - from) / interval_micros > MAX_BUCKETS {
                return Err(ApiError::BadRequest(format!(
                    "aggs.{name}: interval {} gives more than {MAX_BUCKETS} buckets over this range: use a larger one or \"auto\"",
                    h.interval
                )));
            }
            Aggregation::DateHistogram {
                interval_micros,
                split_by: h.split_by.as_deref().map(FieldRef::resolve),
                size: h.size.unwrap_or(DEFAULT_SIZE),
            }
        }
        AggSpec::Terms(t) => Aggregation::Terms { field: FieldRef::resolve(&t.field), size: t.size.unwrap_or(DEFAULT_SIZE) },
        AggSpec::Stats(f) => Aggregation::Stats { field: FieldRef::resolve(&f.field) },
        AggSpec::Percentiles(p) => Aggregation::Percentiles { field: FieldRef::resolve(&p.field), percents: p.percents },
        AggSpec::Cardinality(f) => Aggregation::Cardinality { field: FieldRef::resolve(&f.field) },
    };
    agg.validate().map_err(|e| ApiError::BadRequest(format!("aggs.{name}: {e}")))?;
    Ok(agg)
}

/// The answer for one aggregation: times as epoch milliseconds and RFC 3339, as charts want them.
pub(crate) fn result_json(r: &AggregationResult) -> Value {
    match r {
        AggregationResult::DateHistogram { interval_micros, buckets, series, other } => {
            let mut v = json!({
                "interval_ms": interval_micros / 1000,
                "buckets": buckets.iter().map(|b| json!({
                    "key": b.key_micros / 1000,
                    "key_as_string": rfc3339_micros(b.key_micros),
                    "count": b.count,
                })).collect::<Vec<_>>(),
            });
            if let Some(other) = other {
                v["series"] = json!(series);
                v["other"] = json!(other);
            }
            v
        }
        AggregationResult::Percentiles { values } => {
            json!({ "values": values.iter().map(|(p, v)| json!({ "percent": p, "value": v })).collect::<Vec<_>>() })
        }
        other => json!(other),
    }
}

pub(crate) async fn aggregate(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    QueryParams(_): QueryParams<AggregateParams>,
    JsonBody(req): JsonBody<AggregateRequest>,
) -> Result<Json<Value>, ApiError> {
    let project_id = caller.project()?.id.clone();
    let (from, to) = range(req.from.as_deref(), req.to.as_deref())?;
    if req.aggs.is_empty() || req.aggs.len() > MAX_AGGS {
        return Err(ApiError::BadRequest(format!("aggs must name between 1 and {MAX_AGGS} aggregations")));
    }
    let query = parse_q(req.q.as_deref())?;
    let mut aggs = Vec::with_capacity(req.aggs.len());
    for (name, spec) in req.aggs {
        let agg = aggregation(&name, spec, from, to)?;
        aggs.push((name, agg));
    }
    let started = std::time::Instant::now();
    let results = api.store.aggregate(&AggregateQuery { project_id, query, from_micros: from, to_micros: to, aggs }).await?;
    let answer: serde_json::Map<String, Value> = results.iter().map(|(name, r)| (name.clone(), result_json(r))).collect();
    Ok(Json(json!({
        "from": rfc3339_micros(from),
        "to": rfc3339_micros(to),
        "took_ms": started.elapsed().as_millis() as u64,
        "aggs": answer,
    })))
}
