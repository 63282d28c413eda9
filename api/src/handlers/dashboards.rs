//! Dashboards: widgets over the aggregate API, variables, a default time range; rendered in
//! one call per refresh; exported and imported as JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use nexuslog_logstore::{rfc3339_micros, AggregateQuery, Aggregation, AggregationResult};
use nexuslog_metastore::DocumentKind;
use nexuslog_query::FieldRef;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::documents::{document_json, insert, load, Document};
use super::saved_searches::TimeRange;
use crate::aggregate::{aggregation, result_json, AggSpec};
use crate::authz::Caller;
use crate::extract::{JsonBody, QueryParams};
use crate::time::range;
use crate::{Api, ApiError};

const MAX_WIDGETS: usize = 50;
const MAX_VARIABLES: usize = 10;
const WIDGET_TYPES: &[&str] = &["line", "bar", "pie", "single_value", "table"];

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Dashboard {
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    #[serde(default = "last_hour")]
    time_range: TimeRange,
    /// How often a client refreshes it (`30s`, `1m`, ...); none: by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    variables: Vec<Variable>,
    #[serde(default)]
    widgets: Vec<Widget>,
    #[serde(default = "yes")]
    shared: bool,
}

fn last_hour() -> TimeRange {
    TimeRange { from: "now-1h".into(), to: None }
}

fn yes() -> bool {
    true
}

/// `$name` in widget queries, chosen among the top values of `field`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Variable {
    name: String,
    field: String,
    /// How many values to offer (a terms aggregation over the range).
    #[serde(default = "ten")]
    size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<String>,
}

fn ten() -> usize {
    10
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Widget {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    id: String,
    #[serde(rename = "type")]
    kind: String,
    title: String,
    #[serde(default)]
    query: String,
    /// One aggregation in the aggregate API's format, e.g. `{"date_histogram": {"interval": "auto"}}`.
    aggregation: AggSpec,
    /// Display options the console reads (units, thresholds and colors, stacking, ...).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    options: Value,
    position: Position,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Position {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// `$name` replaced by the quoted value, or by `*` (any value) when none is chosen.
fn substitute(query: &str, values: &BTreeMap<String, String>, variables: &[Variable]) -> String {
    let mut q = query.to_owned();
    // Longest names first, so `$service_name` is not cut by `$service`.
    let mut vars: Vec<&Variable> = variables.iter().collect();
    vars.sort_by_key(|v| std::cmp::Reverse(v.name.len()));
    for v in vars {
        let chosen = values.get(&v.name).or(v.default.as_ref()).filter(|s| !s.is_empty() && *s != "*");
        let text = chosen.map_or_else(|| "*".to_owned(), |s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")));
        q = q.replace(&format!("${}", v.name), &text);
    }
    q
}

fn widget_error(i: usize, w: &Widget, what: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::Invalid { field: format!("widgets[{i}].{what}"), message: format!("widget {:?}: {message}", w.title) }
}

impl Document for Dashboard {
    const KIND: DocumentKind = DocumentKind::Dashboard;
    const NOUN: &'static str = "dashboard";

    fn name(&self) -> &str {
        &self.name
    }

    fn shared(&self) -> bool {
        self.shared
    }

    fn check(&self) -> Result<(), ApiError> {
        self.time_range.check("time_range")?;
        let (from, to) = range(Some(&self.time_range.from), self.time_range.to.as_deref())?;
        if let Some(r) = &self.refresh {
            nexuslog_query::time::parse_interval(r).map_err(|e| ApiError::Invalid { field: "refresh".into(), message: e })?;
        }
        if self.variables.len() > MAX_VARIABLES {
            return Err(ApiError::Invalid { field: "variables".into(), message: format!("at most {MAX_VARIABLES}") });
        }
        for (i, v) in self.variables.iter().enumerate() {
            let ok = v.name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && v.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || v.field.trim().is_empty() || v.size == 0 || v.size > 100 {
                return Err(ApiError::Invalid { field: format!("variables[{i}]"), message: "a name of letters, digits and _, a field, and a size of 1 to 100".into() });
            }
        }
        if self.widgets.len() > MAX_WIDGETS {
            return Err(ApiError::Invalid { field: "widgets".into(), message: format!("at most {MAX_WIDGETS}") });
        }
        for (i, w) in self.widgets.iter().enumerate() {
            if !WIDGET_TYPES.contains(&w.kind.as_str()) {
                return Err(widget_error(i, w, "type", format!("unknown type {:?}: one of {}", w.kind, WIDGET_TYPES.join(", "))));
            }
            // Variables stand for a value: check the query with every one set to `*`.
            nexuslog_query::parse(&substitute(&w.query, &BTreeMap::new(), &self.variables))
                .map_err(|e| widget_error(i, w, "query", format!("{} (at character {})", e.message, e.position)))?;
            aggregation(&format!("widgets[{i}]"), w.aggregation.clone(), from, to).map_err(|e| widget_error(i, w, "aggregation", e))?;
            if w.position.w == 0 || w.position.h == 0 || w.position.x + w.position.w > 48 {
                return Err(widget_error(i, w, "position", "w and h at least 1, within a grid 48 wide"));
            }
        }
        Ok(())
    }

    /// Gives widgets without an id one (`w1`, `w2`, ...), so render answers can name them.
    fn normalize(mut self) -> Self {
        for (i, w) in self.widgets.iter_mut().enumerate() {
            if w.id.is_empty() {
                w.id = format!("w{}", i + 1);
            }
        }
        self
    }
}


/// `GET …/dashboards/{id}/export`: the dashboard as a portable document (no id or owner).
pub(crate) async fn export(State(api): State<Arc<Api>>, Extension(caller): Extension<Caller>, Path((_, id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let row = load::<Dashboard>(&api, &caller, &id).await?;
    let d: Dashboard = serde_json::from_str(&row.definition).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({ "nexuslog_dashboard": 1, "dashboard": d })))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Import {
    #[allow(dead_code)]
    nexuslog_dashboard: u32,
    dashboard: Dashboard,
}

/// `POST …/dashboards/import`: a new dashboard from an export.
pub(crate) async fn import(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    JsonBody(i): JsonBody<Import>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = insert(&api, &caller, i.dashboard).await?;
    Ok((StatusCode::CREATED, Json(document_json(&row))))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenderParams {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenderBody {
    /// Chosen variable values (`"*"` or absent: any).
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

async fn run_one(api: &Api, project_id: &str, query: &str, agg: Aggregation, from: i64, to: i64) -> Result<AggregationResult, ApiError> {
    let query = nexuslog_query::parse(query)?;
    let q = AggregateQuery { project_id: project_id.to_owned(), query, from_micros: from, to_micros: to, aggs: vec![("v".to_owned(), agg)] };
    let mut results = api.store.aggregate(&q).await?;
    results.pop().map(|(_, r)| r).ok_or_else(|| ApiError::Internal("the store answered no aggregation".into()))
}

/// `POST …/dashboards/{id}/render?from&to`: every widget's data (and each variable's values)
/// over the range, in one answer. A widget that fails carries its error; the others render.
pub(crate) async fn render(
    State(api): State<Arc<Api>>,
    Extension(caller): Extension<Caller>,
    Path((_, id)): Path<(String, String)>,
    QueryParams(p): QueryParams<RenderParams>,
    body: Option<Json<RenderBody>>,
) -> Result<Json<Value>, ApiError> {
    let row = load::<Dashboard>(&api, &caller, &id).await?;
    let d: Dashboard = serde_json::from_str(&row.definition).map_err(|e| ApiError::Internal(e.to_string()))?;
    let chosen = body.map(|Json(b)| b.variables).unwrap_or_default();
    let (from, to) = match (&p.from, &p.to) {
        (None, None) => range(Some(&d.time_range.from), d.time_range.to.as_deref())?,
        _ => range(p.from.as_deref(), p.to.as_deref())?,
    };
    let project_id = row.project_id.clone();
    let started = std::time::Instant::now();
    let variables = futures::future::join_all(d.variables.iter().map(|v| {
        let agg = Aggregation::Terms { field: FieldRef::resolve(&v.field), size: v.size };
        run_one(&api, &project_id, "", agg, from, to)
    }))
    .await;
    let widgets = futures::future::join_all(d.widgets.iter().map(|w| {
        let query = substitute(&w.query, &chosen, &d.variables);
        let agg = aggregation(&w.id, w.aggregation.clone(), from, to);
        let (api, project_id) = (&api, &project_id);
        async move { run_one(api, project_id, &query, agg?, from, to).await }
    }))
    .await;
    let vars: serde_json::Map<String, Value> = d
        .variables
        .iter()
        .zip(variables)
        .map(|(v, r)| {
            let values = match r {
                Ok(AggregationResult::Terms { buckets, .. }) => buckets.iter().map(|b| json!(b.key)).collect(),
                _ => Vec::new(),
            };
            let selected = chosen.get(&v.name).or(v.default.as_ref()).cloned().unwrap_or_else(|| "*".into());
            (v.name.clone(), json!({ "field": v.field, "values": values, "selected": selected }))
        })
        .collect();
    let out: Vec<Value> = d
        .widgets
        .iter()
        .zip(widgets)
        .map(|(w, r)| {
            let mut v = json!({ "id": w.id, "type": w.kind, "title": w.title });
            match r {
                Ok(result) => v["data"] = result_json(&result),
                Err(e) => v["error"] = json!(e.to_string()),
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "from": rfc3339_micros(from),
        "to": rfc3339_micros(to),
        "took_ms": started.elapsed().as_millis() as u64,
        "variables": vars,
        "widgets": out,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_become_quoted_values_or_any() {
        let vars = vec![
            Variable { name: "service".into(), field: "service".into(), size: 10, default: None },
            Variable { name: "service_name".into(), field: "x".into(), size: 10, default: Some("a\"b".into()) },
        ];
        let chosen = BTreeMap::from([("service".to_owned(), "api gw".to_owned())]);
        assert_eq!(substitute("service:$service x:$service_name", &chosen, &vars), r#"service:"api gw" x:"a\"b""#);
        assert_eq!(substitute("service:$service", &BTreeMap::new(), &vars), "service:*");
    }
}
