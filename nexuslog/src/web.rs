//! The web console: the built assets of `web/` (`web/dist`, made by `npm run build`), embedded
//! in the binary and served on the HTTP port next to the API.
//!
//! Files under `assets/` carry a content hash in their names and are cached for a year; every
//! other path that is not a file is a client-side route and gets `index.html` (never cached,
//! so a new release is picked up at the next load). Paths of the API and of the operational
//! endpoints never fall back to the page: an unknown `/v1/...` stays a JSON 404.

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rust_embed::RustEmbed;

/// `web/dist` at build time. In debug builds rust-embed reads the folder at run time instead,
/// so tests see the latest `npm run build`; a binary built before the UI serves a page saying so.
#[derive(RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct Assets;

/// What a browser gets when the binary was built without the console.
const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>NexusLog</title>\
<p>The web console was not built into this binary: run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>, \
then rebuild <code>nexuslog</code> (<code>scripts/run.sh</code> does both). The API is at <code>/v1/</code>.";

/// The console's routes: everything the API and the operational endpoints do not claim, and
/// `GET /`, which from anything but a browser is an Elasticsearch client's version probe and
/// gets the cluster answer (`nexuslog_ingest_gateway::es`).
pub fn router() -> Router {
    Router::new().route("/", axum::routing::get(root)).fallback(serve).layer(tower_http::compression::CompressionLayer::new())
}

/// `GET /` (and `HEAD /`): the console for a browser, the cluster answer for everything else.
async fn root(headers: axum::http::HeaderMap, uri: Uri) -> Response {
    let browser = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if browser {
        serve(uri).await
    } else {
        nexuslog_ingest_gateway::es::cluster_info()
    }
}

/// Whether the console is in this binary.
pub fn is_built() -> bool {
    Assets::get("index.html").is_some()
}

async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return file_response(file.data.into_owned(), file.metadata.mimetype(), cache);
    }
    if is_api(path) {
        let body = serde_json::json!({ "error": format!("no such endpoint: /{path}") });
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    if path.starts_with("assets/") {
        // A hashed asset of another release: the page asking for it is stale.
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    }
    match Assets::get("index.html") {
        Some(index) => file_response(index.data.into_owned(), "text/html; charset=utf-8", "no-cache"),
        None => file_response(NOT_BUILT.as_bytes().to_vec(), "text/html; charset=utf-8", "no-cache"),
    }
}

fn is_api(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or_default();
    matches!(first, "v1" | "healthz" | "readyz" | "metrics" | "_bulk" | "_license" | "_xpack" | "otlp" | "loki" | "services")
}

fn file_response(body: Vec<u8>, mime: &str, cache: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_never_fall_back_to_the_page() {
        assert!(is_api("v1/nope"));
        assert!(is_api("metrics"));
        assert!(!is_api("explore"));
        assert!(!is_api("v1x"));
    }
}
