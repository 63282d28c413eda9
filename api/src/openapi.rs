//! The OpenAPI 3.1 description of the API, served at `GET /v1/openapi.json`.
//!
//! Generated from the route table ([`crate::routes`]): every route appears with its access
//! policy as security and the responses it can get, and the query parameters and bodies are
//! the JSON Schemas of the types the handlers read them into (derived with `schemars`), so the
//! document cannot drift from the code. The endpoints served next to the API by the same binary
//! (ingest, health, metrics) are listed in [`OTHER_ENDPOINTS`].

use std::collections::BTreeMap;

use axum::http::Method;
use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use crate::authz::{least_role, Access};
use crate::routes::{documented, Doc, Endpoint};

/// Endpoints of the same binary outside the API's route table: (method, path, summary,
/// the request media types of an ingest endpoint (empty: no key, no body), response media type).
/// The drop-in protocols (`nexuslog_ingest_gateway::{es, otlp, hec, loki}`) answer in their own
/// formats; they are listed here with the key they need and the errors they share.
pub const OTHER_ENDPOINTS: [(&str, &str, &str, &[&str], &str); 20] = [
    (
        "post",
        "/v1/logs/bulk",
        "Ingest events: NDJSON (one JSON event per line) or a JSON array, optionally gzip-compressed (`Content-Encoding`); answered once the events are durable, with the lines rejected (and dead-lettered) and why",
        &["application/json", "application/x-ndjson"],
        "application/json",
    ),
    ("post", "/_bulk", "Elasticsearch-compatible bulk ingest: `index`/`create` actions, answered in the `_bulk` format with per-item status", &["application/x-ndjson"], "application/json"),
    ("put", "/_bulk", "Elasticsearch-compatible bulk ingest (the 8.x clients' method)", &["application/x-ndjson"], "application/json"),
    ("post", "/{index}/_bulk", "Elasticsearch-compatible bulk ingest with a default index", &["application/x-ndjson"], "application/json"),
    ("put", "/{index}/_bulk", "Elasticsearch-compatible bulk ingest with a default index (the 8.x clients' method)", &["application/x-ndjson"], "application/json"),
    ("get", "/", "The console for a browser; an Elasticsearch 8 cluster description for anything else (clients' version probe)", &[], "application/json"),
    ("get", "/_license", "Elasticsearch license probe (Beats, Logstash)", &[], "application/json"),
    ("get", "/_xpack", "Elasticsearch X-Pack probe (Beats, Logstash)", &[], "application/json"),
    ("post", "/v1/logs", "OTLP/HTTP logs (protobuf or JSON); `partial_success` counts refused records", &["application/x-protobuf", "application/json"], "application/x-protobuf"),
    ("post", "/services/collector", "Splunk HEC events (JSON objects one after another)", &["application/json"], "application/json"),
    ("post", "/services/collector/event", "Splunk HEC events", &["application/json"], "application/json"),
    ("post", "/services/collector/event/1.0", "Splunk HEC events", &["application/json"], "application/json"),
    ("post", "/services/collector/raw", "Splunk HEC raw lines (`host`, `source`, `sourcetype`, `index` query parameters)", &["text/plain"], "application/json"),
    ("post", "/services/collector/raw/1.0", "Splunk HEC raw lines", &["text/plain"], "application/json"),
    ("get", "/services/collector/health", "Splunk HEC health", &[], "application/json"),
    ("get", "/services/collector/health/1.0", "Splunk HEC health", &[], "application/json"),
    ("post", "/loki/api/v1/push", "Loki push (JSON, or protobuf with snappy); 204", &["application/json", "application/x-protobuf"], "application/json"),
    ("get", "/healthz", "Liveness: the process is up", &[], "text/plain"),
    ("get", "/readyz", "Readiness: every backend this role uses answers", &[], "text/plain"),
    ("get", "/metrics", "Prometheus metrics", &[], "text/plain"),
];

/// `GET /v1/openapi.json`: the document, built once.
pub(crate) async fn serve() -> axum::Json<Value> {
    static DOCUMENT: std::sync::LazyLock<Value> = std::sync::LazyLock::new(document);
    axum::Json(DOCUMENT.clone())
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaGenerator::new(SchemaSettings::openapi3().with(|s| {
        // Inline every type: a self-contained schema per operation, no `$ref` to resolve.
        s.inline_subschemas = true;
        s.meta_schema = None;
    }));
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for (endpoint, doc) in documented() {
        let op = operation(&endpoint, &doc, &mut generator);
        paths.entry(endpoint.path.to_owned()).or_default().insert(endpoint.method.as_str().to_ascii_lowercase(), op);
    }
    for (method, path, summary, request_media, media) in OTHER_ENDPOINTS {
        let mut op = json!({
            "operationId": operation_id(method, path),
            "summary": summary,
            "tags": ["operations"],
            "responses": {"200": {"description": "OK", "content": {media: {"schema": {}}}}},
        });
        if path == "/{index}/_bulk" {
            op["parameters"] = json!([{"name": "index", "in": "path", "required": true, "schema": {"type": "string"}, "description": "index for actions that name none; kept as `ingest.es_index`"}]);
        }
        if !request_media.is_empty() {
            op["tags"] = json!(["ingest"]);
            op["security"] = json!([{"bearer": []}]);
            let content: Map<String, Value> = request_media
                .iter()
                .map(|m| {
                    let schema = match *m {
                        "application/json" if path == "/v1/logs/bulk" => json!({"type": "array", "items": {"type": "object"}}),
                        "application/json" => json!({"type": "object"}),
                        _ => json!({"type": "string"}),
                    };
                    ((*m).to_owned(), json!({"schema": schema}))
                })
                .collect();
            op["requestBody"] = json!({"required": true, "content": content});
            for code in ["400", "401", "413", "429", "503"] {
                op["responses"][code] = json!({"$ref": format!("#/components/responses/{}", error_name(code))});
            }
        } else {
            op["security"] = json!([]);
        }
        paths.entry(path.to_owned()).or_default().insert(method.to_owned(), op);
    }
    let error_responses: Map<String, Value> = ["400", "401", "403", "404", "413", "429", "503"]
        .iter()
        .map(|code| {
            let response = json!({
                "description": error_description(code),
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            });
            (error_name(code).to_owned(), response)
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "NexusLog API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Search, aggregations, live tail, dashboards, alerting and administration of NexusLog. \
                            Authenticate with `Authorization: Bearer <token>`: a session's access token (from `/v1/auth/login`) or an API key.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A session access token, or an API key (ingest or read scope)"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string", "description": "What went wrong, for a person"},
                        "field": {"type": "string", "description": "The request field at fault (validation errors)"},
                        "position": {"type": "integer", "description": "Byte offset in the query (query errors)"},
                    },
                },
            },
            "responses": error_responses,
        },
    })
}

fn operation(endpoint: &Endpoint, doc: &Doc, generator: &mut SchemaGenerator) -> Value {
    let method = endpoint.method.as_str().to_ascii_lowercase();
    let mut parameters: Vec<Value> = path_parameters(endpoint.path);
    if let Some(query) = doc.query {
        parameters.extend(query_parameters(&query(generator).to_value()));
    }
    if matches!(endpoint.access, Access::KeyOrProject(_)) && !parameters.iter().any(|p| p["name"] == "project") {
        parameters.push(json!({"name": "project", "in": "query", "required": false, "schema": {"type": "string"},
            "description": "The project, for a signed-in user (an API key's project is its own)"}));
    }
    let streaming = endpoint.path.ends_with("/tail") || endpoint.path.ends_with("/tail/ws");
    let ok = if endpoint.path.ends_with("/tail/ws") {
        json!({"101": {"description": "Switching to WebSocket; each text message is a JSON record, or a `skipped` or `closed` notice"}})
    } else if streaming {
        json!({"200": {"description": "A stream of Server-Sent Events: `data:` one JSON record each; `event: skipped` with a count; `event: closed`; heartbeats",
                       "content": {"text/event-stream": {"schema": {"type": "string"}}}}})
    } else {
        let code = if endpoint.method == Method::POST && !endpoint.path.contains("/auth/") && created(endpoint.path) { "201" } else { "200" };
        json!({code: {"description": "OK", "content": {"application/json": {"schema": {}}}}})
    };
    let mut responses = ok.as_object().cloned().unwrap_or_default();
    let mut errors = vec!["400"];
    if endpoint.access != Access::Public {
        errors.extend(["401", "403"]);
    }
    if endpoint.path.contains('{') || matches!(endpoint.access, Access::KeyOrProject(_)) {
        errors.push("404");
    }
    errors.push("429");
    for code in errors {
        responses.insert(code.to_owned(), json!({"$ref": format!("#/components/responses/{}", error_name(code))}));
    }
    let mut op = json!({
        "operationId": operation_id(&method, endpoint.path),
        "summary": doc.summary,
        "description": access_description(endpoint.access),
        "tags": [tag(endpoint.path)],
        "parameters": parameters,
        "responses": responses,
        "security": if endpoint.access == Access::Public { json!([]) } else { json!([{"bearer": []}]) },
    });
    if let Some(body) = doc.body {
        op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body(generator).to_value()}}});
    }
    op
}

/// POSTs that make something answer 201 (actions on an existing thing answer 200).
fn created(path: &str) -> bool {
    !["/test", "/ack", "/render", "/dry-run", "/aggregate", "/accept", "/logout", "/password"].iter().any(|action| path.ends_with(action))
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let description = if name == "project" { "Project id or slug" } else { "Id" };
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
        })
        .collect()
}

/// One query parameter per property of the handler's parameter type.
fn query_parameters(schema: &Value) -> Vec<Value> {
    let required: Vec<&str> = schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else { return Vec::new() };
    properties
        .iter()
        .map(|(name, prop)| {
            let mut prop = prop.clone();
            let description = prop.as_object_mut().and_then(|p| p.remove("description"));
            let mut param = json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": prop});
            if let Some(d) = description {
                param["description"] = d;
            }
            param
        })
        .collect()
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != "v1") {
        let word = seg.trim_start_matches('{').trim_end_matches('}');
        id.push('_');
        id.extend(word.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }));
    }
    id
}

/// The first path segment naming a resource, skipping `projects/{project}`.
fn tag(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != "v1").collect();
    match segs.as_slice() {
        ["projects", _, rest, ..] => (*rest).to_owned(),
        [first, ..] => (*first).to_owned(),
        [] => "api".to_owned(),
    }
}

fn access_description(access: Access) -> String {
    match access {
        Access::Public => "No credential needed.".into(),
        Access::User => "Any signed-in user (not an API key).".into(),
        Access::InstanceAdmin => "Instance administrators.".into(),
        Access::Project(p) => format!("Members of the project with `{p:?}` (role {:?} or above); instance admins.", least_role(p)),
        Access::KeyOrProject(p) => {
            format!("An API key with the `read` scope (its project), or a signed-in user with `{p:?}` (role {:?} or above) on `?project=`.", least_role(p))
        }
    }
}

fn error_name(code: &str) -> &'static str {
    match code {
        "400" => "BadRequest",
        "401" => "Unauthenticated",
        "403" => "Forbidden",
        "404" => "NotFound",
        "413" => "TooLarge",
        "429" => "TooMany",
        _ => "Unavailable",
    }
}

fn error_description(code: &str) -> &'static str {
    match code {
        "400" => "The request is invalid; `error` says why (and `field` or `position` where)",
        "401" => "No valid credential",
        "403" => "The project is visible to the caller, the action is not allowed",
        "404" => "No such thing, or a project the caller cannot see",
        "413" => "The body is larger than `http.max_body_bytes`",
        "429" => "Too many requests or streams; `Retry-After` when known",
        _ => "A backend is unavailable; retry later",
    }
}
