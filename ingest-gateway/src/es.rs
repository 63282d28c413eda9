//! Elasticsearch/OpenSearch-compatible ingest, so Filebeat, Logstash, Fluent Bit's `es` output,
//! Vector and the `elasticsearch`/`opensearch-py` bulk helpers write to NexusLog by a change of
//! URL: `POST /_bulk` and `POST /{index}/_bulk` (`index` and `create` actions), and the probes
//! clients make first (`GET /` is answered by the binary, which also serves the console there;
//! `GET /_license`, `GET /_xpack`).
//!
//! Same guarantee as `/v1/logs/bulk`: the answer comes after the bus acknowledged every item
//! it reports `201`; refused items are dead-lettered with the reason and reported per item. The
//! key's project is used whatever the index name says; the index name is kept as the field
//! `ingest.es_index`. An item's `_id` becomes a stable document id (the same `_id` sent again
//! to the same index replaces the document, as in Elasticsearch; `create` does not refuse it
//! with a 409). Credentials: `Authorization: ApiKey` (the NexusLog key, or base64 of
//! `id:key`), `Basic` (the password is the NexusLog key), or the usual NexusLog headers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use nexuslog_schemas::SourceKind;
use serde_json::json;

use crate::body::LineError;
use crate::error::GatewayError;
use crate::http::{admit, credentials, keep_refused, provenance, take_quota, write, Admitted, Gateway};
use crate::ingest::Event;

/// The Elasticsearch version reported to clients: Beats, Logstash and the 8.x clients accept
/// an 8.x cluster; OpenSearch clients do not look.
const VERSION: &str = "8.11.0";

/// The routes of the compatible API (`GET /` is [`cluster_info`], mounted by the binary).
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        // The 8.x clients send bulk requests with PUT.
        .route("/_bulk", post(bulk_any).put(bulk_any))
        .route("/{index}/_bulk", post(bulk_index).put(bulk_index))
        .route("/_license", get(license))
        .route("/_xpack", get(xpack))
        .with_state(gateway)
}

/// What `GET /` answers to an Elasticsearch client.
pub fn cluster_info() -> Response {
    elastic(Json(json!({
        "name": "nexuslog",
        "cluster_name": "nexuslog",
        "cluster_uuid": "nexuslog",
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "tar",
            "build_hash": "nexuslog",
            "build_date": "2026-01-01T00:00:00.000Z",
            "build_snapshot": false,
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    })))
}

async fn license() -> Response {
    elastic(Json(json!({ "license": { "status": "active", "uid": "nexuslog", "type": "basic", "mode": "basic" } })))
}

async fn xpack() -> Response {
    elastic(Json(json!({
        "build": { "hash": "nexuslog", "date": "2026-01-01T00:00:00.000Z" },
        "license": { "status": "active", "uid": "nexuslog", "type": "basic", "mode": "basic" },
        "features": {},
    })))
}

/// Marks a response as coming from Elasticsearch: the 8.x clients refuse any other.
fn elastic(r: impl IntoResponse) -> Response {
    let mut r = r.into_response();
    r.headers_mut().insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    r
}

async fn bulk_any(gw: State<Arc<Gateway>>, peer: ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    bulk(gw, peer, None, headers, body).await
}

async fn bulk_index(gw: State<Arc<Gateway>>, peer: ConnectInfo<SocketAddr>, Path(index): Path<String>, headers: HeaderMap, body: Body) -> Response {
    bulk(gw, peer, Some(index), headers, body).await
}

/// One item of a bulk request, as parsed.
enum Item {
    /// An `index` or `create` action with its document.
    Write { action: &'static str, index: String, id: Option<String>, source: Vec<u8> },
    /// Refused: the answer's item, and the line to dead-letter (none for an unsupported action).
    Refused { action: String, index: Option<String>, id: Option<String>, status: u16, kind: &'static str, reason: String, line: Option<LineError> },
}

async fn bulk(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, path_index: Option<String>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let result = async {
        let Admitted { key, body, _slot } = admit(&gw, &credentials(&headers), &headers, body).await?;
        let max_event = usize::try_from(gw.limits().max_event_bytes).unwrap_or(usize::MAX);
        let mut items = parse(&body, path_index.as_deref(), max_event)?;
        let writes = items.iter().filter(|i| matches!(i, Item::Write { .. })).count();
        take_quota(&gw, &key, writes).await?;
        let metadata = provenance(&key);
        let mut events = Vec::with_capacity(writes);
        let mut ids = Vec::with_capacity(items.len());
        for item in &mut items {
            if let Item::Write { index, id, source, .. } = item {
                let ingest_id = match id {
                    Some(id) => document_id(&key.project_id, index, id),
                    None => nexuslog_common::new_ingest_id(),
                };
                let mut metadata = metadata.clone();
                metadata.insert("ingest.es_index".to_owned(), index.clone());
                ids.push(ingest_id.clone());
                // The answer needs only the item's index and id: the document moves into the event.
                events.push(Event { ingest_id, project_id: key.project_id.clone(), payload: std::mem::take(source), metadata });
            }
        }
        let received_at = nexuslog_common::now_micros();
        write(&gw, SourceKind::EsBulk, "es_bulk", peer, events, received_at).await?;
        let refused: Vec<LineError> = items.iter().filter_map(|i| if let Item::Refused { line: Some(l), .. } = i { Some(l.clone()) } else { None }).collect();
        keep_refused(&gw, &key, "es_bulk", &refused).await;
        Ok::<_, GatewayError>(answer(&items, &ids, started))
    }
    .await;
    match result {
        Ok(answer) => elastic(([(axum::http::header::CONTENT_TYPE, "application/json")], answer)),
        Err(e) => elastic(refusal(e)),
    }
}

/// A refused request in Elasticsearch's words. Busy answers become 429
/// `es_rejected_execution_exception`, the status the bulk helpers, Beats and Logstash retry
/// (with `Retry-After`); the rest keep their status.
fn refusal(e: GatewayError) -> Response {
    let busy = matches!(e, GatewayError::Overloaded | GatewayError::Backlogged(_) | GatewayError::RateLimited { .. });
    let reason = e.to_string();
    let mut r = e.into_response();
    let status = if busy { axum::http::StatusCode::TOO_MANY_REQUESTS } else { r.status() };
    let kind = if busy { "es_rejected_execution_exception" } else { "nexuslog_exception" };
    let body = json!({ "error": { "root_cause": [{ "type": kind, "reason": reason }], "type": kind, "reason": reason }, "status": status.as_u16() });
    let retry_after = r.headers_mut().remove(axum::http::header::RETRY_AFTER);
    r = (status, Json(body)).into_response();
    if let Some(v) = retry_after {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    r
}

/// The document id of an item with an `_id`: stable per (project, index, `_id`), so sending it
/// again replaces the document instead of adding one (a UUIDv5, never taken for a fresh id).
fn document_id(project: &str, index: &str, id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("es\u{0}{project}\u{0}{index}\u{0}{id}").as_bytes()).to_string()
}

/// The metadata of an action line that NexusLog reads; the rest (`routing`, `pipeline`, …)
/// is ignored.
#[derive(Clone, serde::Deserialize)]
struct ActionMeta {
    #[serde(rename = "_index", default)]
    index: Option<String>,
    #[serde(rename = "_id", default)]
    id: Option<String>,
}

/// Parses the NDJSON of a bulk request into items. Only a body with no action at all is an
/// error of the request; everything else is answered item by item.
fn parse(body: &[u8], path_index: Option<&str>, max_event: usize) -> Result<Vec<Item>, GatewayError> {
    let mut items = Vec::new();
    let mut last_action: Option<(Vec<u8>, std::collections::HashMap<String, ActionMeta>)> = None;
    let mut lines = body.split(|b| *b == b'\n').enumerate().map(|(i, l)| (i + 1, l.trim_ascii())).filter(|(_, l)| !l.is_empty());
    while let Some((n, action_line)) = lines.next() {
        // Agents repeat one action line for a whole request: parse it once.
        let parsed = match &last_action {
            Some((line, parsed)) if line.as_slice() == action_line => Ok(parsed.clone()),
            _ => serde_json::from_slice::<std::collections::HashMap<String, ActionMeta>>(action_line),
        };
        if let Ok(p) = &parsed {
            last_action = Some((action_line.to_vec(), p.clone()));
        }
        let Ok(action) = parsed else {
            return Err(GatewayError::BadRequest(format!("line {n}: malformed action/metadata line, expected an object like {{\"create\":{{}}}}")));
        };
        let Some((name, meta)) = action.into_iter().next() else {
            return Err(GatewayError::BadRequest(format!("line {n}: empty action")));
        };
        let (index, id) = (meta.index.or_else(|| path_index.map(str::to_owned)), meta.id);
        let action: &'static str = match name.as_str() {
            "index" => "index",
            "create" => "create",
            "delete" => {
                items.push(Item::Refused { action: name, index, id, status: 400, kind: "action_request_validation_exception", reason: "delete is not supported: logs are immutable".into(), line: None });
                continue;
            }
            other => {
                // `update` and unknown actions carry a document line: skip it with the action.
                lines.next();
                items.push(Item::Refused { action: other.to_owned(), index, id, status: 400, kind: "action_request_validation_exception", reason: format!("{other} is not supported; use index or create"), line: None });
                continue;
            }
        };
        let Some((m, source)) = lines.next() else {
            items.push(Item::Refused { action: action.into(), index, id, status: 400, kind: "action_request_validation_exception", reason: "the action has no document line".into(), line: None });
            break;
        };
        let refuse = |status, kind, reason: String| Item::Refused {
            action: action.into(),
            index: index.clone(),
            id: id.clone(),
            status,
            kind,
            line: Some(LineError { line: m, reason: reason.clone(), original: source[..source.len().min(max_event)].to_vec() }),
            reason,
        };
        let Some(index) = index.clone() else {
            items.push(refuse(400, "action_request_validation_exception", "index is missing: name it in the action or the URL".into()));
            continue;
        };
        if source.len() > max_event {
            items.push(refuse(413, "illegal_argument_exception", format!("document of {} bytes exceeds the limit of {max_event} bytes", source.len())));
            continue;
        }
        // Checked, not built: the processor parses the document once, later.
        match serde_json::from_slice::<serde::de::IgnoredAny>(source) {
            Ok(_) if source.first() == Some(&b'{') => items.push(Item::Write { action, index, id, source: source.to_vec() }),
            Ok(_) => items.push(refuse(400, "mapper_parsing_exception", "the document is not a JSON object".into())),
            Err(e) => items.push(refuse(400, "mapper_parsing_exception", format!("invalid JSON: {e}"))),
        }
    }
    if items.is_empty() {
        return Err(GatewayError::BadRequest("the request body is empty: a bulk request needs at least one action".into()));
    }
    Ok(items)
}

/// The `_bulk` answer: one entry per item, in order; `ids` are the written items' document ids.
/// Written as text directly: an answer holds ~200 bytes per item, and building it as a JSON
/// tree first cost as much as the rest of the request.
fn answer(items: &[Item], ids: &[String], started: Instant) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: Option<&String>) {
        match s {
            // Writing a string into a Vec cannot fail.
            Some(s) => drop(serde_json::to_writer(&mut *out, s)),
            None => out.extend_from_slice(b"null"),
        }
    }
    let errors = items.iter().any(|i| matches!(i, Item::Refused { .. }));
    let mut out = Vec::with_capacity(64 + items.len() * 200);
    out.extend_from_slice(format!("{{\"took\":{},\"errors\":{errors},\"items\":[", started.elapsed().as_millis()).as_bytes());
    let mut ids = ids.iter();
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match item {
            Item::Write { action, index, id, .. } => {
                // The client's `_id` when it gave one (stored under a derived id).
                let generated = ids.next();
                out.extend_from_slice(format!("{{\"{action}\":{{\"_index\":").as_bytes());
                string(&mut out, Some(index));
                out.extend_from_slice(b",\"_id\":");
                string(&mut out, id.as_ref().or(generated));
                out.extend_from_slice(br#","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}}"#);
            }
            Item::Refused { action, index, id, status, kind, reason, .. } => {
                let entry = json!({ action.as_str(): { "_index": index, "_id": id, "status": status, "error": { "type": kind, "reason": reason } } });
                out.extend_from_slice(entry.to_string().as_bytes());
            }
        }
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn writes(items: &[Item]) -> Vec<(&str, &str, Option<&str>)> {
        items
            .iter()
            .filter_map(|i| match i {
                Item::Write { action, index, id, .. } => Some((*action, index.as_str(), id.as_deref())),
                Item::Refused { .. } => None,
            })
            .collect()
    }

    #[test]
    fn actions_documents_and_refusals_are_paired_in_order() {
        let body = concat!(
            "{\"index\":{\"_index\":\"logs-a\"}}\n{\"message\":\"one\"}\n",
            "{\"create\":{\"_id\":\"x1\"}}\n{\"message\":\"two\",\"@timestamp\":\"2026-12-03T10:00:00.123Z\"}\n",
            "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"x1\"}}\n",
            "{\"update\":{\"_id\":\"x1\"}}\n{\"doc\":{\"a\":1}}\n",
            "{\"index\":{}}\nnot json\n",
            "{\"index\":{}}\n[1,2]\n",
        );
        let items = parse(body.as_bytes(), Some("path-index"), 1000).expect("parses");
        assert_eq!(items.len(), 6);
        assert_eq!(writes(&items), [("index", "logs-a", None), ("create", "path-index", Some("x1"))]);
        let statuses: Vec<u16> = items.iter().filter_map(|i| if let Item::Refused { status, .. } = i { Some(*status) } else { None }).collect();
        assert_eq!(statuses, [400, 400, 400, 400]);
        let answer: Value = serde_json::from_slice(&answer(&items, &["generated".to_owned(), document_id("p", "path-index", "x1")], Instant::now())).expect("the answer is JSON");
        assert_eq!(answer["errors"], true);
        assert_eq!(answer["items"][0]["index"]["_id"], "generated");
        assert_eq!(answer["items"][1]["create"]["_id"], "x1");
        assert_eq!(answer["items"][1]["create"]["status"], 201);
        assert_eq!(answer["items"][2]["delete"]["status"], 400);
        assert_eq!(answer["items"][4]["index"]["error"]["type"], "mapper_parsing_exception");
    }

    #[test]
    fn an_index_is_required_and_documents_are_bounded() {
        let items = parse(b"{\"index\":{}}\n{\"m\":1}\n{\"index\":{\"_index\":\"i\"}}\n{\"m\":\"long long\"}\n", None, 8).expect("parses");
        assert!(matches!(&items[0], Item::Refused { reason, .. } if reason.contains("index is missing")));
        assert!(matches!(&items[1], Item::Refused { status: 413, .. }));
        assert!(parse(b"\n\n", None, 8).is_err(), "no action at all");
        assert!(parse(b"garbage\n", None, 8).is_err(), "a malformed action line");
    }

    #[tokio::test]
    async fn busy_answers_are_429_in_elasticsearch_form() {
        let r = refusal(GatewayError::Backlogged(10));
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[axum::http::header::RETRY_AFTER], "1");
        let body: Value = serde_json::from_slice(&axum::body::to_bytes(r.into_body(), 1 << 16).await.expect("body")).expect("json");
        assert_eq!(body["error"]["type"], "es_rejected_execution_exception");
        assert_eq!(refusal(GatewayError::BadRequest("x".into())).status(), 400);
    }

    #[test]
    fn document_ids_are_stable_per_project_and_index() {
        assert_eq!(document_id("p", "i", "a"), document_id("p", "i", "a"));
        assert_ne!(document_id("p", "i", "a"), document_id("p", "j", "a"));
        assert_ne!(document_id("p", "i", "a"), document_id("q", "i", "a"));
        assert!(!nexuslog_common::is_minted_ingest_id(&document_id("p", "i", "a")), "never taken for a fresh id");
    }
}
